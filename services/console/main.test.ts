/** The console's command line: --help, a bad variable named, a bad users file named, before any I/O. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const run = (env: Record<string, string>, args: string[] = []) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'services/console/main.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 60_000 });

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
