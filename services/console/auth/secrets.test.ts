import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hashPassword, hashToken, isPasswordHash, newToken, tokenMatches, verifyPassword } from './secrets.ts';

const root = new URL('../../../', import.meta.url).pathname;

it('verifies a password against its salted scrypt hash, and nothing else', async () => {
  const a = await hashPassword('correct horse battery');
  const b = await hashPassword('correct horse battery');
  assert.ok(isPasswordHash(a));
  assert.notEqual(a, b, 'a random salt per hash');
  assert.equal(await verifyPassword('correct horse battery', a), true);
  assert.equal(await verifyPassword('correct horse batterY', a), false);
  assert.equal(await verifyPassword('correct horse battery', 'not-a-hash'), false);
});

it('matches a token only against its own hash', () => {
  const t = newToken();
  assert.match(t, /^eipt_[A-Za-z0-9_-]{32}$/);
  assert.equal(tokenMatches(t, hashToken(t)), true);
  assert.equal(tokenMatches(newToken(), hashToken(t)), false);
});

it('console:hash reads the password from stdin and prints a hash that verifies', async () => {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'services/console/hash-secret.ts'], { cwd: root, input: 'a long passphrase\n', encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(await verifyPassword('a long passphrase', res.stdout.trim()), true);
  const short = spawnSync(process.execPath, ['--import', 'tsx', 'services/console/hash-secret.ts'], { cwd: root, input: 'short', encoding: 'utf8', timeout: 60_000 });
  assert.equal(short.status, 2);
});
