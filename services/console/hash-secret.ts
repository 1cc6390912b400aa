/**
 * Makes the hashes for the console's users file. Reads the secret from stdin
 * (never from the command line, where it would land in shell history and ps):
 *   echo -n 's3cret' | npm run -s console:hash             -> scrypt hash for "passwordHash"
 *   npm run -s console:hash -- --token                      -> a new API token and its "tokenHash"
 */
import { hashPassword, hashToken, newToken } from './auth/secrets.ts';

const usage = `console:hash: hashes for services/console users files

  echo -n '<password>' | npm run -s console:hash          prints a scrypt hash for "passwordHash"
                                                           (N=2^17, r=8, p=1: about a second, 128 MiB)
  npm run -s console:hash -- --token                       prints a new API token (give it to the client)
                                                           and its "tokenHash" (put it in the users file)
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const args = process.argv.slice(2).filter((a) => a !== '--');
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(usage);
} else if (args.includes('--token')) {
  const token = newToken();
  process.stdout.write(`${JSON.stringify({ token, tokenHash: hashToken(token) }, null, 2)}\n`);
} else if (args.length > 0) {
  process.stderr.write(`console:hash: unknown argument ${args[0]}\n\n${usage}`);
  process.exitCode = 2;
} else {
  if (process.stdin.isTTY) process.stderr.write('password (then Enter, Ctrl-D): ');
  const password = await readStdin();
  if (password.length < 8) {
    process.stderr.write('console:hash: a password needs at least 8 characters\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(`${await hashPassword(password)}\n`);
  }
}
