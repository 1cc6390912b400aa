/**
 * NODE_ENV=production: every service main, and `npm start`, refuses to start on
 * each development secret it would use, naming the variable, with exit code 2;
 * outside production the same start warns. The mains are spawned as a
 * deployment would run them.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCommand } from '../scripts/mqtt-credentials.ts';
import { writeCredentialStore, type CredentialStore } from '../shared/adapters/mqtt/credentials.ts';
import { demoParkPath, loadParkRegistry } from '../shared/contracts/park-registry.ts';

const root = new URL('../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'eip-production-'));
const ownUsers = join(dir, 'users.json');
const copiedDevUsers = join(dir, 'copied-dev-users.json');
const ownMqttUsers = join(dir, 'mqtt-users.json');
const devSparingSecrets = join(dir, 'sparing-secrets.json');

interface Result { code: number | null; stdout: string; stderr: string }

// Spawned a few at a time from the start, so the table costs a fraction of its serial time.
let running = 0;
const waiting: Array<() => void> = [];
async function runMain(main: string, env: Record<string, string>): Promise<Result> {
  if (running >= 3) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await spawnMain(main, env);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function spawnMain(main: string, env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main], { cwd: root, env: { PATH: process.env.PATH ?? '', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Refusing is immediate; a main still running after this would have started.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Per main: an environment with secrets of its own, and each development value it must refuse. */
interface Case {
  main: string;
  own: Record<string, string>;
  dev: Record<string, Record<string, string | undefined>>;
}

const kafka = { BUS: 'kafka', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'k4fka-0wn-7c1d' };
const influx = { TIMESERIES: 'influxdb', INFLUX_TOKEN: 'infl-0wn-93ab' };
const cases: Case[] = [
  {
    main: 'services/ingest/main.ts',
    own: { ...kafka, ...influx, MQTT_PASSWORD: 'mq-0wn-11aa' },
    dev: {
      MQTT_PASSWORD: { MQTT_PASSWORD: undefined },
      INFLUX_TOKEN: { INFLUX_TOKEN: undefined },
      KAFKA_SASL_PASSWORD: { KAFKA_SASL_PASSWORD: 'park-wwtp-dev-secret' },
    },
  },
  {
    main: 'services/aggregator/main.ts',
    own: { ...kafka, ...influx },
    dev: { INFLUX_TOKEN: { INFLUX_TOKEN: 'eip-dev-token' }, KAFKA_SASL_PASSWORD: { KAFKA_SASL_PASSWORD: 'eip-kafka-dev-secret' } },
  },
  {
    main: 'services/rules/main.ts',
    own: { ...influx, MQTT_PASSWORD: 'mq-0wn-22bb' },
    dev: { MQTT_PASSWORD: { MQTT_PASSWORD: undefined }, INFLUX_TOKEN: { INFLUX_TOKEN: undefined } },
  },
  {
    main: 'services/console/main.ts',
    own: { ...influx, CONSOLE_USERS: ownUsers, CONSOLE_SESSION_SECRET: 'sess-0wn-5f3e9a1b7c' },
    dev: {
      CONSOLE_USERS: { CONSOLE_USERS: undefined },
      // A copy of the development users is as known as the original.
      'CONSOLE_USERS (copy)': { CONSOLE_USERS: copiedDevUsers },
      CONSOLE_SESSION_SECRET: { CONSOLE_SESSION_SECRET: 'change-me-compose-dev-session-key' },
      INFLUX_TOKEN: { INFLUX_TOKEN: undefined },
    },
  },
  {
    main: 'services/reporting/main.ts',
    own: { ...kafka, SPARING_SECRET: 'sparing-0wn-66ff0123' },
    dev: {
      SPARING_SECRET: { SPARING_SECRET: undefined },
      // A secrets file holding the development secret is as known as the variable.
      SPARING_SECRETS_FILE: { SPARING_SECRETS_FILE: devSparingSecrets },
      KAFKA_SASL_PASSWORD: { KAFKA_SASL_PASSWORD: 'eip-kafka-dev-secret' },
    },
  },
  {
    main: 'services/all-in-one/main.ts',
    own: { MQTT_CREDENTIALS: ownMqttUsers, INGEST_MQTT_PASSWORD: 'mq-0wn-33cc', RULES_MQTT_PASSWORD: 'mq-0wn-44dd', CONSOLE_USERS: ownUsers, SPARING_SECRET: 'sparing-0wn-55ee0123', EMBEDDED_BROKER_PORT: '0', RECEIVER_PORT: '0', SIMULATOR: 'false' },
    dev: {
      MQTT_CREDENTIALS: { MQTT_CREDENTIALS: undefined },
      INGEST_MQTT_PASSWORD: { INGEST_MQTT_PASSWORD: undefined },
      RULES_MQTT_PASSWORD: { RULES_MQTT_PASSWORD: undefined },
      // Checked for the console inside before anything starts.
      CONSOLE_USERS: { CONSOLE_USERS: undefined },
      // And for the reporting service.
      SPARING_SECRET: { SPARING_SECRET: undefined },
    },
  },
];

const withOverrides = (own: Record<string, string>, over: Record<string, string | undefined>): Record<string, string> => {
  const env = { ...own };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
};

const allVariables = [...new Set(cases.flatMap((c) => Object.keys(c.dev).map((k) => k.split(' ')[0] ?? k)))];

describe('production mode (NODE_ENV=production)', { timeout: 300_000 }, () => {
  before(() => {
    writeFileSync(ownUsers, JSON.stringify({ version: 1, users: [], tokens: [] }));
    copyFileSync(join(root, 'services/console/dev-users.json'), copiedDevUsers);
    writeFileSync(devSparingSecrets, JSON.stringify({ 'SPARING-DEMO-0001': 'sparing-dev-secret' }));
    // A credential store of the deployment's own: per-account hashed secrets.
    const registry = loadParkRegistry(demoParkPath);
    let store: CredentialStore = { version: 1, accounts: [] };
    for (const [account, secret] of [['ingest', 'mq-0wn-33cc'], ['rules', 'mq-0wn-44dd']] as const) {
      store = applyCommand('add', account, store, registry, { now: () => new Date(0), secret: () => secret }).store;
    }
    writeCredentialStore(ownMqttUsers, store);
  });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  const started = new Map<string, Promise<Result>>();
  const startAll = (): void => {
    for (const c of cases) for (const [label, over] of Object.entries(c.dev)) started.set(`${c.main} ${label}`, runMain(c.main, { NODE_ENV: 'production', ...withOverrides(c.own, over) }));
  };
  for (const c of cases) {
    for (const [label] of Object.entries(c.dev)) {
      const variable = label.split(' ')[0] ?? label;
      it(`${c.main} refuses ${label}, naming it, exit 2`, async () => {
        if (started.size === 0) startAll();
        const res = await (started.get(`${c.main} ${label}`) ?? Promise.reject(new Error('not started')));
        assert.equal(res.code, 2, `${res.stdout}\n${res.stderr}`);
        assert.match(res.stderr, /with NODE_ENV=production on development secrets/);
        assert.match(res.stderr, new RegExp(`^ {2}${variable}: `, 'm'));
        for (const other of allVariables.filter((v) => v !== variable)) assert.doesNotMatch(res.stderr, new RegExp(`^ {2}${other}: `, 'm'), `only ${variable} is named`);
        assert.doesNotMatch(res.stderr, /[a-z]-dev-secret|eip-dev-token|change-me|0wn/, 'no value is echoed');
        assert.equal(res.stdout, '', 'nothing started, nothing logged');
      });
    }
  }

  it('outside production the same start warns, naming each development secret', async () => {
    // A registry that does not exist stops it right after the configuration is read.
    const res = await runMain('services/ingest/main.ts', { TIMESERIES: 'influxdb', PARK_REGISTRY: join(dir, 'missing.json') });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /WARNING: ingest is running on development secrets/);
    assert.match(res.stderr, /^ {2}MQTT_PASSWORD: /m);
    assert.match(res.stderr, /^ {2}INFLUX_TOKEN: /m);
  });
});
