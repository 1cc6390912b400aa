/**
 * infra/mosquitto/dynsec-roles.json shows reviewers what Mosquitto enforces for
 * the demo park; it is generated from shared/contracts/mqtt-acl.ts and must not drift.
 * Regenerate: node infra/mosquitto/render-dynsec.ts roles shared/parks/demo-park.json > infra/mosquitto/dynsec-roles.json
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoParkPath, loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { loadMqttAccounts } from '../../shared/adapters/mqtt/credentials.ts';
import { grantsOf } from '../../shared/contracts/mqtt-acl.ts';
import { registryPrincipals, renderDynsec, renderPluginBlock, renderRoles } from './render-dynsec.ts';

const registry = loadParkRegistry(demoParkPath);

describe('Mosquitto security rendered from mqtt-acl.ts', () => {
  it('refuses to render accounts from a password template with NODE_ENV=production, and renders them otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eip-render-'));
    const template = new URL('../dev-credentials.json', import.meta.url).pathname;
    const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [new URL('./render-dynsec.ts', import.meta.url).pathname, 'dynsec', demoParkPath, template, join(dir, 'out.json')], { env: { ...process.env, ...env }, encoding: 'utf8' });
    try {
      const refused = run({ NODE_ENV: 'production' });
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /password template.*npm run mqtt:credentials/);
      assert.equal(run({ NODE_ENV: 'development' }).status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dynsec-roles.json is what the generator renders for the demo park', () => {
    const committed: unknown = JSON.parse(readFileSync(new URL('./dynsec-roles.json', import.meta.url), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(renderRoles(registryPrincipals(registry)))),
      'drift: regenerate with node infra/mosquitto/render-dynsec.ts roles shared/parks/demo-park.json > infra/mosquitto/dynsec-roles.json');
  });
  it('turns every grant into a dynsec ACL, and nothing more', () => {
    for (const role of renderRoles(registryPrincipals(registry))) {
      const p = registryPrincipals(registry).find((x) => (x.role === 'tenant' ? `tenant/${x.tenant}` : x.role) === role.rolename)!;
      const expected = grantsOf(p).flatMap((g) => g.access === 'write'
        ? [`publishClientSend ${g.filter}`]
        : [`subscribePattern ${g.filter}`, ...(g.shared ? [`subscribePattern $share/+/${g.filter}`] : []), `publishClientReceive ${g.filter}`]);
      assert.deepEqual(role.acls.map((a) => `${a.acltype} ${a.topic}`), expected, role.rolename);
      assert.ok(role.acls.every((a) => a.allow));
    }
  });
  it('renders every account with a hash and its role; denies by default', () => {
    const cfg = renderDynsec(loadMqttAccounts('infra/dev-credentials.json', registry)) as { defaultACLAccess: Record<string, boolean>; clients: { username: string; password: string; roles: { rolename: string }[] }[] };
    assert.deepEqual(cfg.defaultACLAccess, { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true });
    const nickel = cfg.clients.find((c) => c.username === 'sulawesi-nickel')!;
    assert.deepEqual(nickel.roles, [{ rolename: 'tenant/sulawesi-nickel' }]);
    assert.ok(!JSON.stringify(cfg).includes('dev-secret'), 'no plain password');
    assert.equal(Buffer.from(nickel.password, 'base64').length, 64);
  });
  it('loads the client-id guard before the dynamic-security plugin', () => {
    const lines = renderPluginBlock('/g.so', '/d.so', '/run/ds.json').split('\n');
    assert.deepEqual(lines, ['plugin /g.so', 'plugin_opt_separator :', 'plugin_opt_no_retain1 eip/+/+/+/telemetry', 'plugin /d.so', 'plugin_opt_config_file /run/ds.json']);
  });
});
