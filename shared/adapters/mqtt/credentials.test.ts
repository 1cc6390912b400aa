import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoParkPath, loadParkRegistry } from '../../contracts/park-registry.ts';
import { hashPassword, isDevCredentialSource, loadMqttAccounts, loadMqttUsers, verifyPassword } from './credentials.ts';

const registry = loadParkRegistry(demoParkPath);
const file = (json: unknown): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'eip-creds-')), 'c.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
};

describe('MQTT credentials', () => {
  it('reads the development template: services by name, tenants placed in their park, flagged as development', async () => {
    const accounts = loadMqttAccounts('infra/dev-credentials.json', registry);
    assert.equal(isDevCredentialSource(accounts), true);
    assert.deepEqual(accounts.get('ingest')?.principal, { username: 'ingest', role: 'ingest' });
    assert.deepEqual(accounts.get('park-wwtp')?.principal, { username: 'park-wwtp', role: 'tenant', park: 'nusantara-eip', tenant: 'park-wwtp' });
    assert.equal(await accounts.get('park-wwtp')!.check(Buffer.from('park-wwtp-dev-secret')), true);
    assert.equal(await accounts.get('park-wwtp')!.check(Buffer.from('bugis-textile-dev-secret')), false);
    assert.equal(loadMqttUsers('infra/dev-credentials.json', registry).get('bugis-textile'), 'bugis-textile-dev-secret');
  });
  it('refuses an unknown service name in the template, and a store account of an unknown tenant', () => {
    assert.throws(() => loadMqttAccounts(file({ services: { ingest: 'x', admin: 'y' }, tenantPassword: '{tenant}-x' }), registry), /services/);
    const store = { version: 1, accounts: [{ username: 'ghost', role: 'tenant', tenant: 'ghost', password: hashPassword('s'), updatedAt: 'now' }] };
    assert.throws(() => loadMqttAccounts(file(store), registry), /tenant ghost is not in the park registry/);
    assert.throws(() => loadMqttUsers(file(store), registry), /credential store/);
    const noTenant = { version: 1, accounts: [{ username: 'park-wwtp', role: 'tenant', password: hashPassword('s'), updatedAt: 'now' }] };
    assert.throws(() => loadMqttAccounts(file(noTenant), registry), /names its tenant/);
  });
  it('hashes in the dynamic-security format and verifies in constant time', async () => {
    const h = hashPassword('secret');
    assert.equal(Buffer.from(h.salt, 'base64').length, 12);
    assert.equal(Buffer.from(h.hash, 'base64').length, 64);
    assert.notEqual(hashPassword('secret').hash, h.hash, 'salted');
    assert.equal(await verifyPassword(h, Buffer.from('secret')), true);
    assert.equal(await verifyPassword(h, Buffer.from('secreT')), false);
  });
});
