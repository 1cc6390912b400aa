/**
 * Tenant isolation over MQTT, one table run on both brokers: the real
 * Mosquitto (an instance of its own, started here with infra/mosquitto/mosquitto.sh
 * on a free port and its own run folder) and the embedded aedes broker. Every
 * tenant tries every other tenant's data: publishing into its topics, reading
 * them, taking its client id; and the shared paths: another park, a service's
 * client id, retained telemetry, alerts, the development password. Each such
 * row expects a refusal; the control rows show the legitimate path works, so a
 * broker that refused everything would fail them.
 * The accounts are a credential store made by the mqtt:credentials commands:
 * every tenant, the gateway and the services have their own random secret.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parseParkRegistry, RegistryIndex } from '../../shared/contracts/park-registry.ts';
import { loadMqttAccounts, newSecret, writeCredentialStore, type CredentialStore } from '../../shared/adapters/mqtt/credentials.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../shared/adapters/mqtt/embedded-broker.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { applyCommand } from '../../scripts/mqtt-credentials.ts';
import { startPrivateMosquitto } from '../helpers/private-mosquitto.ts';

interface T { id: string; park: string; meter: string }
const tenants: T[] = [
  { id: 'alpha', park: 'park-a', meter: 'alpha-m1' },
  { id: 'beta', park: 'park-a', meter: 'beta-m1' },
  { id: 'gamma', park: 'park-b', meter: 'gamma-m1' },
];
const otherPark = (t: T): string => (t.park === 'park-a' ? 'park-b' : 'park-a');
const telemetry = (park: string, tenant: string, meter: string): string => `eip/${park}/${tenant}/${meter}/telemetry`;
const status = (park: string, tenant: string, meter: string): string => `eip/${park}/${tenant}/${meter}/status`;

const registryJson = {
  version: 1,
  parks: ['park-a', 'park-b'].map((park) => ({
    id: park, name: park, country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.8, source: 'test' } },
    tenants: tenants.filter((t) => t.park === park).map((t) => ({
      id: t.id, name: t.id, sector: 'test', supplySource: 'grid',
      meters: [{ id: t.meter, kind: 'water', cadenceSeconds: 60, metrics: ['water_intake'] }],
    })),
  })),
};

/** What a row gets to work with on one broker. */
interface Ctx {
  url: string;
  protocol: 4 | 5;
  secret(account: string): string;
  connect(account: string, clientId: string, extra?: mqtt.IClientOptions): Promise<MqttClient>;
  /** Resolves once everything published before it has been routed: the observer sees a marker of its own. */
  fence(): Promise<void>;
  /** Every message the observer (simulator account, reads eip/#) received: `topic payload`. */
  seen: string[];
  /** Every message ingest's persistent session received. */
  ingestSeen: string[];
  ingest: { client: MqttClient; clientId: string };
  meters: Map<string, MqttClient>;
}

const marker = (p: string): string => `${p}-${randomBytes(5).toString('hex')}`;

/** 'acked' or 'refused' (MQTT 5: a failing PUBACK; MQTT 3.1.1: the broker closes the connection). */
async function publishOutcome(c: MqttClient, topic: string, payload: string, retain = false): Promise<'acked' | 'refused'> {
  return new Promise((resolve) => {
    const onClose = (): void => resolve('refused');
    c.once('close', onClose);
    c.publish(topic, payload, { qos: 1, retain }, (err) => {
      c.off('close', onClose);
      resolve(err ? 'refused' : 'acked');
    });
  });
}

async function refusedConnect(ctx: Ctx, account: string, clientId: string, password?: string): Promise<boolean> {
  const c = mqtt.connect(ctx.url, { username: account, password: password ?? ctx.secret(account), clientId, protocolVersion: ctx.protocol, reconnectPeriod: 0, connectTimeout: 5000 });
  return new Promise((resolve) => {
    c.once('connect', () => { c.end(true); resolve(false); });
    c.once('error', () => { c.end(true); resolve(true); });
    c.once('close', () => resolve(true));
  });
}

async function subscribeRefused(c: MqttClient, filter: string): Promise<boolean> {
  const granted = await c.subscribeAsync(filter, { qos: 1 }).then((g) => g.map((x) => x.qos as number), (e: { packet?: { granted?: number[] } }) => e.packet?.granted ?? [128]);
  return granted.every((q) => q >= 128);
}

interface Row {
  name: string;
  /** A control row shows a legitimate path working; every other row expects a refusal. */
  control?: true;
  run(ctx: Ctx): Promise<void>;
}

const rows: Row[] = [];
for (const a of tenants) {
  for (const v of tenants.filter((x) => x !== a)) {
    rows.push({
      name: `${a.id} publishes into ${v.id}'s telemetry and status`,
      run: async (ctx) => {
        const c = await ctx.connect(a.id, `${a.id}:attack-${randomBytes(3).toString('hex')}`);
        const m1 = marker('foreign-telemetry');
        const m2 = marker('foreign-status');
        const first = await publishOutcome(c, telemetry(v.park, v.id, v.meter), m1);
        // MQTT 3.1.1 cut the connection at the first refusal: the second try needs a new one.
        const c2 = c.connected ? c : await ctx.connect(a.id, `${a.id}:attack-${randomBytes(3).toString('hex')}`);
        const second = await publishOutcome(c2, status(v.park, v.id, v.meter), m2, true);
        c2.end(true);
        c.end(true);
        await ctx.fence();
        if (ctx.protocol === 5) assert.deepEqual([first, second], ['refused', 'refused']);
        assert.ok(!ctx.seen.some((s) => s.includes(m1) || s.includes(m2)), 'not delivered');
        assert.ok(!ctx.ingestSeen.some((s) => s.includes(m1)), 'not ingested');
      },
    });
    rows.push({
      name: `${a.id} subscribes to ${v.id}'s tree`,
      run: async (ctx) => {
        const c = await ctx.connect(a.id, `${a.id}:peek-${randomBytes(3).toString('hex')}`);
        const got: string[] = [];
        c.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
        const refused = await subscribeRefused(c, `eip/${v.park}/${v.id}/#`);
        const m = marker('victim');
        assert.equal(await publishOutcome(ctx.meters.get(v.id)!, telemetry(v.park, v.id, v.meter), m), 'acked');
        await ctx.fence();
        c.end(true);
        assert.ok(refused, 'SUBACK refuses');
        assert.ok(ctx.seen.some((s) => s.includes(m)), 'the victim\'s message was published');
        assert.deepEqual(got, [], 'nothing delivered to the other tenant');
      },
    });
    rows.push({
      name: `${a.id} takes ${v.id}'s meter client id`,
      run: async (ctx) => {
        const victim = ctx.meters.get(v.id)!;
        let cut = false;
        victim.once('close', () => { cut = true; });
        assert.ok(await refusedConnect(ctx, a.id, `${v.id}:meter`), 'CONNACK refuses');
        await ctx.fence();
        assert.equal(cut, false, 'the meter stays connected');
        assert.ok(victim.connected);
        assert.ok(!ctx.seen.some((s) => s.startsWith(status(v.park, v.id, v.meter)) && s.includes('offline')), 'its last will did not fire');
      },
    });
    rows.push({
      name: `${a.id} leaves a last will on ${v.id}'s status`,
      run: async (ctx) => {
        const m = marker('foreign-will');
        const c = mqtt.connect(ctx.url, {
          username: a.id, password: ctx.secret(a.id), clientId: `${a.id}:will-${randomBytes(3).toString('hex')}`, protocolVersion: ctx.protocol, reconnectPeriod: 0, connectTimeout: 5000,
          will: { topic: status(v.park, v.id, v.meter), payload: Buffer.from(m), qos: 1, retain: true },
        });
        const connected = await new Promise<boolean>((resolve) => {
          c.once('connect', () => resolve(true));
          c.once('error', () => resolve(false));
          c.once('close', () => resolve(false));
        });
        // Dropping the socket without DISCONNECT is what fires a will.
        if (connected) c.stream.destroy();
        c.end(true);
        await new Promise((r) => setTimeout(r, 200));
        await ctx.fence();
        assert.ok(!ctx.seen.some((x) => x.includes(m)), `the will was not published (connect ${connected ? 'accepted' : 'refused'})`);
      },
    });
  }
  rows.push({
    name: `${a.id} publishes under its own tenant in another park`,
    run: async (ctx) => {
      const c = await ctx.connect(a.id, `${a.id}:park-${randomBytes(3).toString('hex')}`);
      const m = marker('other-park');
      const outcome = await publishOutcome(c, telemetry(otherPark(a), a.id, a.meter), m);
      c.end(true);
      await ctx.fence();
      if (ctx.protocol === 5) assert.equal(outcome, 'refused');
      assert.ok(!ctx.seen.some((s) => s.includes(m)));
    },
  });
  rows.push({
    name: `${a.id} subscribes wider than its own tree, or to alerts`,
    run: async (ctx) => {
      const c = await ctx.connect(a.id, `${a.id}:wide-${randomBytes(3).toString('hex')}`);
      for (const f of ['eip/#', '#', 'eip/+/+/+/telemetry', `eip/+/${a.id}/#`, `eip/${a.park}/+/+/status`, `eip/${a.park}/alerts/#`, `$share/g/eip/${a.park}/${a.id}/#`]) {
        assert.ok(await subscribeRefused(c, f), f);
      }
      c.end(true);
    },
  });
  rows.push({
    name: `${a.id} takes ingest's client id`,
    run: async (ctx) => {
      assert.ok(await refusedConnect(ctx, a.id, ctx.ingest.clientId), 'CONNACK refuses');
      const m = marker('after-takeover');
      assert.equal(await publishOutcome(ctx.meters.get(a.id)!, telemetry(a.park, a.id, a.meter), m), 'acked');
      await ctx.fence();
      assert.ok(ctx.ingest.client.connected, 'ingest stays connected');
      assert.ok(ctx.ingestSeen.some((s) => s.includes(m)), 'ingest\'s session still receives');
    },
  });
  rows.push({
    name: `${a.id} retains telemetry`,
    run: async (ctx) => {
      const c = await ctx.connect(a.id, `${a.id}:retain-${randomBytes(3).toString('hex')}`);
      const m = marker('retained');
      const outcome = await publishOutcome(c, telemetry(a.park, a.id, `${a.meter}-r`), m, true);
      c.end(true);
      await ctx.fence();
      if (ctx.protocol === 5) assert.equal(outcome, 'refused');
      assert.ok(!ctx.seen.some((s) => s.includes(m)), 'not delivered');
      // A fresh subscriber would get a retained message at once.
      const late = await ctx.connect(a.id, `${a.id}:late-${randomBytes(3).toString('hex')}`);
      const got: string[] = [];
      late.on('message', (_t, p) => got.push(p.toString()));
      await late.subscribeAsync(telemetry(a.park, a.id, `${a.meter}-r`), { qos: 1 });
      await ctx.fence();
      late.end(true);
      assert.deepEqual(got, []);
    },
  });
  rows.push({
    name: `${a.id} connects with the development password or a client id not its own`,
    run: async (ctx) => {
      assert.ok(await refusedConnect(ctx, a.id, `${a.id}:dev`, `${a.id}-dev-secret`));
      assert.ok(await refusedConnect(ctx, a.id, `${a.id}-meter`), 'no separator');
      assert.ok(await refusedConnect(ctx, a.id, ''), 'no client id (the broker would pick one not its own)');
    },
  });
  rows.push({
    name: `control: ${a.id} publishes and reads its own telemetry, retains its status`,
    control: true,
    run: async (ctx) => {
      const c = await ctx.connect(a.id, `${a.id}:own-${randomBytes(3).toString('hex')}`);
      const got: string[] = [];
      c.on('message', (_t, p) => got.push(p.toString()));
      await c.subscribeAsync(`eip/${a.park}/${a.id}/#`, { qos: 1 }).then((g) => assert.ok(g.every((x) => x.qos < 128), 'own tree granted'));
      const m = marker('own');
      const s = marker('status');
      assert.equal(await publishOutcome(c, telemetry(a.park, a.id, a.meter), m), 'acked');
      assert.equal(await publishOutcome(c, status(a.park, a.id, `${a.meter}-s`), s, true), 'acked');
      await ctx.fence();
      c.end(true);
      assert.ok(ctx.seen.some((x) => x.includes(m)) && ctx.seen.some((x) => x.includes(s)), 'delivered');
      assert.ok(ctx.ingestSeen.some((x) => x.includes(m)), 'ingested');
      assert.ok(got.includes(m), 'read back by the tenant');
      const late = await ctx.connect(a.id, `${a.id}:late-${randomBytes(3).toString('hex')}`);
      const retained: string[] = [];
      late.on('message', (_t, p, packet) => { if (packet.retain) retained.push(p.toString()); });
      await late.subscribeAsync(status(a.park, a.id, `${a.meter}-s`), { qos: 1 });
      await ctx.fence();
      late.end(true);
      assert.deepEqual(retained, [s], 'the status is retained');
    },
  });
}
rows.push({
  name: 'control: a tenant\'s own last will fires when its connection drops',
  control: true,
  run: async (ctx) => {
    const m = marker('own-will');
    const c = await ctx.connect('alpha', 'alpha:will-own', { will: { topic: status('park-a', 'alpha', 'alpha-m1-w'), payload: Buffer.from(m), qos: 1, retain: true } });
    c.stream.destroy();
    const end = Date.now() + 5000;
    while (!ctx.seen.some((x) => x.includes(m)) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.ok(ctx.seen.some((x) => x.includes(m)), 'the will was published');
  },
});
rows.push({
  name: 'control: a gateway account publishes for its tenant with its own secret and client ids',
  control: true,
  run: async (ctx) => {
    const c = await ctx.connect('alpha.gw-2', 'alpha.gw-2:logger');
    const m = marker('gateway');
    assert.equal(await publishOutcome(c, telemetry('park-a', 'alpha', 'alpha-m1'), m), 'acked');
    await ctx.fence();
    c.end(true);
    assert.ok(ctx.seen.some((x) => x.includes(m)));
    assert.ok(await refusedConnect(ctx, 'alpha.gw-2', 'alpha:logger'), 'not its tenant\'s client ids');
    assert.ok(await refusedConnect(ctx, 'alpha', 'alpha.gw-2:logger'), 'nor the other way round');
    assert.ok(await refusedConnect(ctx, 'alpha.gw-2', 'alpha.gw-2:x', ctx.secret('alpha')), 'not with the tenant\'s secret');
  },
});

interface Broker {
  name: string;
  protocol: 4 | 5;
  start(dir: string, registryPath: string, storePath: string): Promise<{ url: string; stop: () => Promise<void> }>;
}

const brokers: Broker[] = [
  {
    name: 'Mosquitto (own instance, dynamic security + client-id guard)',
    protocol: 5,
    start: async (_dir, registryPath, storePath) => {
      const m = await startPrivateMosquitto({ registryPath, credentialsPath: storePath });
      return { url: m.url, stop: () => m.remove() };
    },
  },
  {
    name: 'embedded broker (aedes)',
    protocol: 4,
    start: async (_dir, registryPath, storePath) => {
      const registry = new RegistryIndex(parseParkRegistry(registryJson, registryPath));
      const broker: EmbeddedBroker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, accounts: loadMqttAccounts(storePath, registry), logger: quietLogger() });
      return { url: broker.url, stop: () => broker.close() };
    },
  },
];

for (const broker of brokers) {
  describe(`MQTT tenant isolation: ${broker.name}`, { timeout: 180_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'eip-isolation-'));
    const registryPath = join(dir, 'registry.json');
    const storePath = join(dir, 'mqtt-credentials.json');
    const secrets = new Map<string, string>();
    const clients: MqttClient[] = [];
    let stop: (() => Promise<void>) | undefined;
    let ctx: Ctx;

    before(async () => {
      writeFileSync(registryPath, JSON.stringify(registryJson));
      const registry = new RegistryIndex(parseParkRegistry(registryJson, registryPath));
      let store: CredentialStore = { version: 1, accounts: [] };
      for (const account of ['ingest', 'simulator', ...tenants.map((t) => t.id), 'alpha.gw-2']) {
        const change = applyCommand('add', account, store, registry, { now: () => new Date(0), secret: newSecret });
        store = change.store;
        secrets.set(account, change.secret!);
      }
      writeCredentialStore(storePath, store);
      const started = await broker.start(dir, registryPath, storePath);
      stop = started.stop;
      const secret = (account: string): string => secrets.get(account) ?? `no-secret-for-${account}`;
      const connect = async (account: string, clientId: string, extra: mqtt.IClientOptions = {}): Promise<MqttClient> => {
        const c = await mqtt.connectAsync(started.url, { username: account, password: secret(account), clientId, protocolVersion: broker.protocol, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
        clients.push(c);
        return c;
      };
      const seen: string[] = [];
      const observer = await connect('simulator', 'simulator:observer');
      observer.on('message', (t, p) => seen.push(`${t} ${p.toString()}`));
      await observer.subscribeAsync('eip/#', { qos: 1 });
      const ingestSeen: string[] = [];
      // Not guessable, like the services' own default: the rows that take it are given it.
      const ingestId = `ingest:${randomBytes(8).toString('hex')}`;
      const ingestClient = await connect('ingest', ingestId, broker.protocol === 5 ? { clean: false, properties: { sessionExpiryInterval: 300 } } : { clean: false });
      ingestClient.on('message', (t, p) => ingestSeen.push(`${t} ${p.toString()}`));
      await ingestClient.subscribeAsync(broker.protocol === 5 ? '$share/isolation/eip/+/+/+/telemetry' : 'eip/+/+/+/telemetry', { qos: 1 });
      let fences = 0;
      const fence = async (): Promise<void> => {
        const m = `fence-${++fences}-${randomBytes(3).toString('hex')}`;
        await observer.publishAsync('eip/fence', m, { qos: 1 });
        const end = Date.now() + 5000;
        while (!seen.some((s) => s.endsWith(m))) {
          if (Date.now() > end) throw new Error('fence message not delivered');
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      const meters = new Map<string, MqttClient>();
      for (const t of tenants) {
        meters.set(t.id, await connect(t.id, `${t.id}:meter`, { will: { topic: status(t.park, t.id, t.meter), payload: Buffer.from('{"status":"offline"}'), qos: 1, retain: true } }));
      }
      ctx = { url: started.url, protocol: broker.protocol, secret, connect, fence, seen, ingestSeen, ingest: { client: ingestClient, clientId: ingestId }, meters };
    });

    after(async () => {
      for (const c of clients) c.end(true);
      await stop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const row of rows) {
      it(`${row.control ? '' : 'refused: '}${row.name}`, async () => { await row.run(ctx); });
    }
  });
}
