import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { belowCurrentCost, costOf, currentCost, hashPassword, hashToken, isPasswordHash, newToken, tokenMatches, verifyPassword } from './secrets.ts';

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

it('hashes at the current recommended cost (N=2^17, r=8, p=1), the cost written into the hash', async () => {
  assert.deepEqual(currentCost, { N: 131_072, r: 8, p: 1 });
  const h = await hashPassword('correct horse battery');
  assert.match(h, /^scrypt\$131072\$8\$1\$/);
  assert.deepEqual(costOf(h), currentCost);
  assert.equal(belowCurrentCost(h), false);
});

it('still verifies a hash made at an older cost, and flags it for rehashing', async () => {
  const old = await hashPassword('correct horse battery', { N: 16_384, r: 8, p: 1 });
  assert.equal(await verifyPassword('correct horse battery', old), true);
  assert.equal(belowCurrentCost(old), true);
  // The development users' hashes stay at N=2^14: they verify, and are flagged.
  const dev = JSON.parse(readFileSync(new URL('../dev-users.json', import.meta.url), 'utf8')) as { users: Array<{ name: string; passwordHash: string }> };
  const operator = dev.users.find((u) => u.name === 'operator')!;
  assert.equal(await verifyPassword('operator-dev-secret', operator.passwordHash), true);
  assert.equal(belowCurrentCost(operator.passwordHash), true);
});

it('refuses a hash whose cost would take gigabytes or is not scrypt\'s (a users file is input too)', async () => {
  const salt = Buffer.alloc(16).toString('base64');
  const key = Buffer.alloc(32).toString('base64');
  for (const params of ['1073741824$8$1', '131072$1024$1', '131072$8$1000', '100000$8$1', '1$8$1', '131072$0$1']) {
    const crafted = `scrypt$${params}$${salt}$${key}`;
    assert.equal(isPasswordHash(crafted), false, params);
    assert.equal(await verifyPassword('x', crafted), false, params);
  }
});

it('matches a token only against its own hash', () => {
  const t = newToken();
  assert.match(t, /^eipt_[A-Za-z0-9_-]{32}$/);
  assert.equal(tokenMatches(t, hashToken(t)), true);
  assert.equal(tokenMatches(newToken(), hashToken(t)), false);
});

it('console:hash reads the password from stdin and prints a hash that verifies', async () => {
  const res = spawnSync(process.execPath, ['services/console/hash-secret.ts'], { cwd: root, input: 'a long passphrase\n', encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(await verifyPassword('a long passphrase', res.stdout.trim()), true);
  const short = spawnSync(process.execPath, ['services/console/hash-secret.ts'], { cwd: root, input: 'short', encoding: 'utf8', timeout: 60_000 });
  assert.equal(short.status, 2);
});
