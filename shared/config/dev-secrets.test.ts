import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { envBool, envEnum, envString, findDevSecrets, loadConfig } from './env.ts';
import { devValueKind, fileHoldsDevCredentials } from './dev-secrets.ts';
import { EipError } from '../errors.ts';

const root = new URL('../../', import.meta.url).pathname;
const json = (path: string): unknown => JSON.parse(readFileSync(root + path, 'utf8'));

describe('development secrets the repository ships', () => {
  it('knows every password of infra/dev-credentials.json, every tenant\'s from its pattern, and the development users\' hashes', () => {
    const creds = json('infra/dev-credentials.json') as { services: Record<string, string>; tenantPassword: string };
    for (const password of Object.values(creds.services)) assert.ok(devValueKind(password), password);
    const registry = json('shared/parks/demo-park.json') as { parks: Array<{ tenants: Array<{ id: string }> }> };
    for (const t of registry.parks.flatMap((p) => p.tenants)) assert.ok(devValueKind(creds.tenantPassword.replaceAll('{tenant}', t.id)), t.id);
    const users = json('services/console/dev-users.json') as { users: Array<{ passwordHash: string }>; tokens: Array<{ tokenHash: string }> };
    for (const u of [...users.users.map((x) => x.passwordHash), ...users.tokens.map((x) => x.tokenHash)]) assert.ok(devValueKind(u), u);
  });

  it('knows every secret default of the infra scripts (a new one added there without being listed fails here)', () => {
    const scripts = readdirSync(join(root, 'infra'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.sh'));
    const defaults = scripts.flatMap((f) => [...readFileSync(join(root, 'infra', f), 'utf8').matchAll(/\b[A-Z_]*(?:TOKEN|PASSWORD|SECRET)[A-Z_]*:-([^}\s]+)\}/g)].map((m) => ({ file: f, value: m[1] ?? '' })));
    assert.ok(defaults.length >= 2, 'the InfluxDB token and password at least');
    for (const d of defaults) assert.ok(devValueKind(d.value), `${d.file}: ${d.value}`);
  });

  it('does not take an ordinary secret for a development one', () => {
    for (const v of ['k8s-prod-2f9c1a7e', 'dev-secret', 'ingest', 'operator', '']) assert.equal(devValueKind(v), undefined, v);
  });

  it('recognises a copy or an extension of a development credentials file, not a file of real users', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eip-devsecrets-'));
    try {
      const users = json('services/console/dev-users.json') as { users: Array<Record<string, unknown>>; tokens: unknown[] };
      writeFileSync(join(dir, 'extended.json'), JSON.stringify({ ...users, users: [...users.users, { name: 'ops', role: 'admin', parks: ['*'], passwordHash: 'scrypt$16384$8$1$AAAA$BBBB' }] }));
      writeFileSync(join(dir, 'own.json'), JSON.stringify({ version: 1, users: [{ name: 'operator', role: 'operator', parks: ['*'], passwordHash: 'scrypt$16384$8$1$AAAA$BBBB' }], tokens: [] }));
      writeFileSync(join(dir, 'broken.json'), '{ not json');
      // The template's shape with passwords of one's own: one pattern still gives every tenant's.
      writeFileSync(join(dir, 'own-pattern.json'), JSON.stringify({ services: { ingest: 'Xq9-ingest-own' }, tenantPassword: '{tenant}-Zk2p8' }));
      writeFileSync(join(dir, 'store.json'), JSON.stringify({ version: 1, accounts: [{ username: 'ingest', role: 'ingest', hash: 'pbkdf2' }] }));
      assert.equal(fileHoldsDevCredentials(join(root, 'services/console/dev-users.json')), true);
      assert.equal(fileHoldsDevCredentials(join(root, 'infra/dev-credentials.json')), true);
      assert.equal(fileHoldsDevCredentials(join(dir, 'extended.json')), true);
      assert.equal(fileHoldsDevCredentials(join(dir, 'own.json')), false);
      assert.equal(fileHoldsDevCredentials(join(dir, 'own-pattern.json')), true, 'a shared tenant-password pattern, whatever it is');
      assert.equal(fileHoldsDevCredentials(join(dir, 'store.json')), false, 'a credential store of per-account hashes');
      assert.equal(fileHoldsDevCredentials(join(dir, 'broken.json')), false, 'the service reports a broken file itself');
      assert.equal(fileHoldsDevCredentials(join(dir, 'missing.json')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('loadConfig and development secrets', () => {
  const schema = z.object({
    STORE: envEnum('store', ['remote', 'local'] as const, { default: 'local' }),
    TOKEN_A: envString('a token', { default: 'a-dev-default', secret: true }),
    TOKEN_B: envString('a token used only with the remote store', { default: 'eip-dev-token', secret: true, usedWhen: (c) => c.STORE === 'remote' }),
    USERS_A: envString('users file', { default: 'services/console/dev-users.json', credentialsFile: true }),
    SESSION_A: envString('session key (empty: random)', { default: '', minLength: 0, secret: true }),
    FLAG_A: envBool('a flag', { default: false }),
  });

  it('with NODE_ENV=production refuses each development secret in use, naming the variable and not the value', () => {
    const err = (() => {
      try {
        loadConfig(schema, { NODE_ENV: 'production', STORE: 'remote' }, 'svc');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof EipError && err.code === 'CONFIG_INVALID', String(err));
    assert.deepEqual(err.details?.variables, ['TOKEN_A', 'TOKEN_B', 'USERS_A']);
    assert.match(err.message, /refusing to start svc with NODE_ENV=production/);
    assert.match(err.message, /TOKEN_A: is the development default of this variable/);
    assert.match(err.message, /TOKEN_B: is the development InfluxDB token/);
    assert.doesNotMatch(err.message, /a-dev-default|eip-dev-token/, 'values are not echoed');
  });

  it('ignores a development default the configuration does not use, and an empty secret', () => {
    assert.deepEqual(findDevSecrets(schema, { STORE: 'local', TOKEN_A: 'real-1', TOKEN_B: 'eip-dev-token', USERS_A: 'nowhere.json', SESSION_A: '' }).map((f) => f.variable), []);
  });

  it('starts in production on secrets of its own', () => {
    const c = loadConfig(schema, { NODE_ENV: 'production', STORE: 'remote', TOKEN_A: 'k-1f0c9', TOKEN_B: 'k-77ab2', USERS_A: 'package.json' }, 'svc');
    assert.equal(c.TOKEN_B, 'k-77ab2');
  });

  it('outside production warns once, naming each variable', () => {
    const warnings: string[] = [];
    loadConfig(schema, { STORE: 'remote', SESSION_A: 'ingest-dev-secret' }, 'svc', { warn: (t) => warnings.push(t) });
    assert.equal(warnings.length, 1);
    for (const v of ['TOKEN_A', 'TOKEN_B', 'USERS_A', 'SESSION_A']) assert.match(warnings[0] ?? '', new RegExp(`^  ${v}: `, 'm'), v);
    assert.doesNotMatch(warnings[0] ?? '', /ingest-dev-secret/);
    loadConfig(schema, { STORE: 'remote' }, 'svc', { warn: (t) => warnings.push(t) });
    assert.equal(warnings.length, 1, 'the same variables are not warned about again');
  });

  it('checks rules across variables, naming the variable', () => {
    const cross = z.object({
      URL_X: envString('url', { default: 'mqtt://h' }),
      CA_X: envString('ca', { default: '', minLength: 0, check: (v, c) => (v !== '' && !String(c.URL_X).startsWith('mqtts:') ? 'is set but URL_X is not mqtts://' : undefined) }),
    });
    assert.throws(() => loadConfig(cross, { CA_X: '/ca.pem' }, 'svc'), /invalid configuration for svc:\n {2}CA_X: is set but URL_X is not mqtts:\/\//);
    assert.equal(loadConfig(cross, { CA_X: '/ca.pem', URL_X: 'mqtts://h' }).CA_X, '/ca.pem');
  });
});
