import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoParkPath, loadParkRegistry } from '../shared/contracts/park-registry.ts';
import { isDevCredentialSource, loadMqttAccounts, readCredentialStore } from '../shared/adapters/mqtt/credentials.ts';
import { applyCommand, main } from './mqtt-credentials.ts';

const registry = loadParkRegistry(demoParkPath);
const run = (args: string[]): { code: number; out: string; err: string } => {
  let out = '';
  let err = '';
  const code = main(args, {}, (s) => { out += s; }, (s) => { err += s; });
  return { code, out, err };
};

describe('mqtt:credentials', () => {
  it('adds, rotates and revokes accounts, each with its own secret, stored only hashed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eip-cred-')), 'store.json');
    const a = run(['add', 'park-wwtp', '--file', file]);
    assert.equal(a.code, 0, a.err);
    const gw = run(['add', 'park-wwtp.gw-2', '--file', file]);
    const svc = run(['add', 'ingest', '--file', file]);
    const secrets = [a.out.trim(), gw.out.trim(), svc.out.trim()];
    assert.equal(new Set(secrets).size, 3);
    for (const s of secrets) assert.match(s, /^[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(file, 'utf8');
    for (const s of secrets) assert.ok(!text.includes(s), 'no plain secret in the store');
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const accounts = loadMqttAccounts(file, registry);
    assert.equal(isDevCredentialSource(accounts), false);
    assert.deepEqual(accounts.get('park-wwtp.gw-2')?.principal, { username: 'park-wwtp.gw-2', role: 'tenant', park: 'nusantara-eip', tenant: 'park-wwtp' });
    assert.equal(await accounts.get('park-wwtp')!.check(Buffer.from(secrets[0]!)), true);
    assert.equal(await accounts.get('park-wwtp')!.check(Buffer.from('park-wwtp-dev-secret')), false, 'the template password is not accepted');
    assert.equal(await accounts.get('park-wwtp')!.check(Buffer.from(secrets[1]!)), false, 'a gateway secret is not the tenant\'s');

    const r = run(['rotate', 'park-wwtp', '--file', file]);
    assert.equal(r.code, 0, r.err);
    const rotated = loadMqttAccounts(file, registry).get('park-wwtp')!;
    assert.equal(await rotated.check(Buffer.from(secrets[0]!)), false, 'the old secret stops working');
    assert.equal(await rotated.check(Buffer.from(r.out.trim())), true);

    assert.equal(run(['revoke', 'park-wwtp.gw-2', '--file', file]).code, 0);
    assert.equal(loadMqttAccounts(file, registry).get('park-wwtp.gw-2'), undefined);
    assert.deepEqual(run(['list', '--file', file]).out.split('\n').filter(Boolean).map((l) => l.split('\t').slice(0, 3)), [['ingest', 'ingest', '-'], ['park-wwtp', 'tenant', 'park-wwtp']]);
  });
  it('refuses what would be wrong, naming it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eip-cred-')), 'store.json');
    assert.match(run(['add', 'nobody', '--file', file]).err, /tenant nobody is not in the park registry/);
    assert.match(run(['add', 'a:b', '--file', file]).err, /bad account name/);
    assert.match(run(['rotate', 'park-wwtp', '--file', file]).err, /does not exist/);
    assert.match(run(['add', 'park-wwtp', '--file', 'infra/dev-credentials.json']).err, /development template/);
    assert.match(run(['add', 'park-wwtp']).err, /give --file or set MQTT_CREDENTIALS/);
    assert.equal(run(['frobnicate', '--file', file]).code, 2);
    const store = readCredentialStore(applyCommandStore(file));
    assert.throws(() => applyCommand('add', 'park-wwtp', store, registry, { now: () => new Date(0), secret: () => 's' }), /exists/);
  });
  it('tells the development template apart', () => {
    assert.equal(isDevCredentialSource(loadMqttAccounts('infra/dev-credentials.json', registry)), true);
  });
});

function applyCommandStore(file: string): string {
  assert.equal(run(['add', 'park-wwtp', '--file', file]).code, 0);
  return file;
}
