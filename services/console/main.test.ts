/** The console's command line: --help, a bad variable named, a bad users file named, before any I/O; the users file re-read while running. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from './auth/secrets.ts';
import { testCost } from './testing.ts';
import { osFreePort, startService } from '../../test/helpers/service-process.ts';
import { waitFor } from '../../test/helpers/bus.ts';

const root = new URL('../../', import.meta.url).pathname;
const run = (env: Record<string, string>, args: string[] = []) =>
  spawnSync(process.execPath, ['services/console/main.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 60_000 });

it('lists every variable on --help', () => {
  const res = run({}, ['--help']);
  assert.equal(res.status, 0);
  for (const v of ['CONSOLE_PORT', 'CONSOLE_USERS', 'CONSOLE_SESSION_SECRET', 'RULE_PACK', 'BUS', 'TIMESERIES']) assert.match(res.stdout, new RegExp(v));
});

it('exits 2 naming a bad variable', () => {
  const short = run({ CONSOLE_SESSION_SECRET: 'short' });
  assert.equal(short.status, 2);
  assert.match(short.stderr, /CONSOLE_SESSION_SECRET: must be at least 16 characters/);
  const port = run({ CONSOLE_PORT: 'eighty' });
  assert.equal(port.status, 2);
  assert.match(port.stderr, /CONSOLE_PORT/);
});

it('exits 2 naming a users file with a password in clear', () => {
  const dir = mkdtempSync(join(tmpdir(), 'users-'));
  const users = join(dir, 'users.json');
  writeFileSync(users, JSON.stringify({ version: 1, users: [{ name: 'rina', role: 'operator', parks: ['*'], passwordHash: 'hunter2' }] }));
  try {
    const res = run({ CONSOLE_USERS: users, OPS_PORT: '0', CONSOLE_PORT: '0', CONSOLE_UI: 'false' });
    assert.equal(res.status, 2, res.stderr);
    assert.match(res.stderr, /CONSOLE_USERS: .*users\.0\.passwordHash: must be a scrypt hash/);
    assert.doesNotMatch(res.stderr, /hunter2/, 'the secret is not echoed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('re-reads a changed users file: a changed password ends the old sessions; weak hashes are flagged', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'users-'));
  const users = join(dir, 'users.json');
  const file = async (pw: string) => JSON.stringify({ version: 1, users: [{ name: 'rina', role: 'operator', parks: ['*'], passwordHash: await hashPassword(pw, testCost) }] });
  writeFileSync(users, await file('first passphrase'));
  const port = await osFreePort();
  const base = `http://127.0.0.1:${port}`;
  const service = await startService('console', { CONSOLE_USERS: users, CONSOLE_PORT: String(port), CONSOLE_UI: 'false', DATA_DIR: dir, LOG_LEVEL: 'info' }, await osFreePort());
  const signIn = (password: string) => fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'rina', password }) });
  try {
    const first = await signIn('first passphrase');
    assert.equal(first.status, 200);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    assert.match(service.output(), /"users":\["rina"\].*password hashes below the current scrypt cost/, 'a hash below the current cost is flagged');
    writeFileSync(users, await file('second passphrase'));
    await waitFor(async () => (await fetch(`${base}/api/me`, { headers: { cookie } })).status === 401, 30_000, 'the old session refused after the change', 250);
    assert.equal((await signIn('second passphrase')).status, 200);
    // A broken file is refused and the last good one kept.
    writeFileSync(users, '{"version":1,"users":[{"name":"rina"');
    await waitFor(() => /users file changed but cannot be used/.test(service.output()), 30_000, 'the broken file logged', 250);
    assert.equal((await signIn('second passphrase')).status, 200);
  } finally {
    await service.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
