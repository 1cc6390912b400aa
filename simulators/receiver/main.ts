/** The stand-in receiver as a CLI: `npm run receiver -- --help`. */
import { parseArgs } from 'node:util';
import { readSecretsFile } from '../../services/reporting/config.ts';
import { receiverModes, startReceiver, type ReceiverMode } from './receiver.ts';

const help = `receiver: a stand-in for the SPARING and SISPEK receivers (tests and the demo)

  POST /sparing      {"token": <HS256 JWT of {uid, data: [...]}>}, verified with the station's secret
  POST /sispek       a stack hour (JSON), checked against its schema
  GET  /submissions  what it accepted and refused, and how many deliveries were duplicates
  POST /mode         {"mode": "ok" | "unavailable" | "timeout" | "refuse"}

Flags:
  --host <addr>          default 127.0.0.1
  --port <n>             default 9480 (0 picks a free one)
  --secret <s>           the stations' secret, unless --secrets-file names theirs
                         (default: $SPARING_SECRET, else the development secret sparing-dev-secret)
  --secrets-file <path>  JSON object of station uid -> secret
  --mode <mode>          ${receiverModes.join(', ')} (default ok)
  --help
`;

function usage(message: string): never {
  process.stderr.write(`receiver: ${message}\nRun with --help to see every flag.\n`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' }, secret: { type: 'string' }, 'secrets-file': { type: 'string' }, mode: { type: 'string' }, help: { type: 'boolean' } }, strict: true, allowPositionals: false }));
} catch (err) {
  usage((err as Error).message);
}
if (values.help === true) {
  process.stdout.write(help);
  process.exit(0);
}
const port = Number(values.port ?? '9480');
if (!Number.isInteger(port) || port < 0 || port > 65_535) usage('--port must be an integer from 0 to 65535');
const mode = (values.mode ?? 'ok') as ReceiverMode;
if (!receiverModes.includes(mode)) usage(`--mode must be one of ${receiverModes.join(', ')}`);
const fallback = typeof values.secret === 'string' ? values.secret : process.env.SPARING_SECRET || 'sparing-dev-secret';
let secrets: Map<string, string>;
try {
  secrets = readSecretsFile(typeof values['secrets-file'] === 'string' ? values['secrets-file'] : '');
} catch (err) {
  usage((err as Error).message);
}
const receiver = await startReceiver({ host: typeof values.host === 'string' ? values.host : '127.0.0.1', port, mode, secretOf: (uid) => secrets.get(uid) ?? fallback });
process.stdout.write(`${JSON.stringify({ msg: 'stand-in receiver listening', url: receiver.url, sparing: `${receiver.url}/sparing`, sispek: `${receiver.url}/sispek`, submissions: `${receiver.url}/submissions`, mode })}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void receiver.close().then(() => process.exit(0)); });
