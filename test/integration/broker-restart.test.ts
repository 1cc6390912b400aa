/**
 * Ingest across broker faults, on a Mosquitto of the test's own (the shared
 * one is never restarted) with the real Kafka and InfluxDB: tenants publish
 * QoS 1 under load while the broker is stopped and started, or SIGKILLed, and
 * every reading it acknowledged must end up stored, counted by (meter, seq);
 * a session that comes back without its subscriptions is found by the probe;
 * and with the static split, a dead instance's share waits for its replacement
 * (same client id) and is all stored then, while the other instance goes on.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { createInfluxStore } from '../../shared/adapters/influxdb/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { readingBatchEventSchema } from '../../shared/contracts/events.ts';
import { ingestFilters, ingestProbeTopic } from '../../shared/contracts/mqtt-topics.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { ingestConfigSchema } from '../../services/ingest/config.ts';
import { connect, dropSession } from '../helpers/mqtt.ts';
import { influx, kafkaBrokers, servicePassword, tenantPassword } from '../helpers/servers.ts';
import { startService, freePort, metricValue, type ServiceProcess } from '../helpers/service-process.ts';
import { watchFromEnd } from '../helpers/kafka-groups.ts';
import { startPrivateMosquitto, type PrivateMosquitto } from '../helpers/private-mosquitto.ts';
import { waitFor } from '../helpers/bus.ts';

const logger = quietLogger('broker-restart-test');

/** A park of two tenants with `meters` electricity meters each, so that two instances can split it by tenant. */
function makeTwoTenantPark(meters: number): { park: string; tenants: [string, string]; meters: Record<string, string[]>; registryPath: string; dir: string } {
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const park = `itest-${tag}`;
  const tenants: [string, string] = [`ta-${tag}`, `tb-${tag}`];
  const byTenant = Object.fromEntries(tenants.map((t, ti) => [t, Array.from({ length: meters }, (_, i) => `m${ti}x${i}-${tag}`)]));
  const dir = mkdtempSync(join(tmpdir(), 'eip-broker-restart-'));
  const registry = {
    version: 1,
    parks: [{
      id: park, name: 'broker restart test park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
      emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'test' } },
      tenants: tenants.map((id) => ({ id, name: id, sector: 'test', supplySource: 'grid', meters: byTenant[id]!.map((m) => ({ id: m, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power', 'active_energy_import'] })) })),
    }],
  };
  const registryPath = join(dir, 'registry.json');
  writeFileSync(registryPath, JSON.stringify(registry));
  return { park, tenants, meters: byTenant, registryPath, dir };
}

type Park = ReturnType<typeof makeTwoTenantPark>;

interface Message { key: string; topic: string; payload: string }

function messages(park: Park, tenant: string, firstSeq: number, perMeter: number, baseTs: number): Message[] {
  const out: Message[] = [];
  for (let seq = firstSeq; seq < firstSeq + perMeter; seq++) {
    for (const meter of park.meters[tenant]!) {
      out.push({
        key: `${meter}|${seq}`,
        topic: `eip/${park.park}/${tenant}/${meter}/telemetry`,
        payload: JSON.stringify({ v: 1, ts: baseTs + seq * 1000, seq, readings: [{ metric: 'active_power', value: 100 + (seq % 50), unit: 'kW' }, { metric: 'active_energy_import', value: 1000 + seq, unit: 'kWh' }] }),
      });
    }
  }
  return out;
}

/**
 * A tenant's gateway: publishes QoS 1 with a bounded number in flight and, as a
 * meter does, sends again what was not acknowledged; `acked` holds what the broker
 * acknowledged, by (meter, seq).
 */
class Gateway {
  readonly acked = new Set<string>();
  /** When each was acknowledged (ms since the epoch). */
  readonly ackedAt = new Map<string, number>();
  published = 0;
  readonly client: MqttClient;
  constructor(client: MqttClient) {
    this.client = client;
  }
  static async open(url: string, tenant: string): Promise<Gateway> {
    return new Gateway(await connect(url, { username: tenant, password: tenantPassword(tenant), protocolVersion: 5, clientId: `${tenant}:gw-${randomBytes(3).toString('hex')}`, reconnectPeriod: 200 }));
  }
  async publish(list: readonly Message[], inFlight = 100): Promise<void> {
    const pending = new Set<Promise<void>>();
    const one = async (m: Message): Promise<void> => {
      for (;;) {
        this.published++;
        try {
          await this.client.publishAsync(m.topic, m.payload, { qos: 1 });
          this.acked.add(m.key);
          this.ackedAt.set(m.key, Date.now());
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    for (const m of list) {
      const p = one(m).then(() => { pending.delete(p); });
      pending.add(p);
      if (pending.size >= inFlight) await Promise.race(pending);
    }
    await Promise.all(pending);
  }
}

/** (meter, seq) of every reading record ingest produces to Kafka for the park, from now on. */
async function watchKeys(bus: EventBus, park: string): Promise<{ keys: Set<string>; stop(): Promise<void> }> {
  const keys = new Set<string>();
  const sub = await watchFromEnd(bus, 'watch', [topics.readings.name], (_topic, json) => {
    const ev = readingBatchEventSchema.parse(json);
    if (ev.park === park) keys.add(`${ev.meter}|${ev.seq}`);
  });
  return { keys, stop: () => sub.stop() };
}

async function storedPoints(store: TimeSeriesStore, park: Park, tenant: string): Promise<number> {
  let total = 0;
  for (const metric of ['active_power', 'active_energy_import']) {
    const r = await store.queryAggregate({ scope: { park: park.park, tenant }, metric, from: 0, to: Date.now() + 86_400_000, fn: 'count' });
    total += r.reduce((s, b) => s + b.value, 0);
  }
  return total;
}

const missing = (acked: Iterable<string>, stored: Set<string>): string[] => [...acked].filter((k) => !stored.has(k));

describe('ingest across broker restarts (a private Mosquitto, real Kafka and InfluxDB)', { timeout: 300_000 }, () => {
  let park: Park;
  let broker: PrivateMosquitto;
  let bus: EventBus;
  let store: TimeSeriesStore;
  let keys: Awaited<ReturnType<typeof watchKeys>>;
  let cleanup: Array<() => Promise<void>> = [];
  const tag = randomBytes(3).toString('hex');
  const baseTs = Date.now() - 6 * 3_600_000;

  before(async () => {
    park = makeTwoTenantPark(10);
    broker = await startPrivateMosquitto({ registryPath: park.registryPath });
    bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'broker-restart-test', logger });
    store = createInfluxStore({ ...influx, logger });
    keys = await watchKeys(bus, park.park);
  });
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    cleanup = [];
  });
  after(async () => {
    await keys.stop();
    await bus.close();
    await store.close();
    await broker.remove();
    rmSync(park.dir, { recursive: true, force: true });
  });

  const clientId = (name: string): string => `ingest:brt-${tag}-${name}`;

  async function startIngest(name: string, scopes: string, dataDir = join(park.dir, name)): Promise<ServiceProcess> {
    return startService('ingest', {
      BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','),
      INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org, INFLUX_BUCKET: influx.bucket,
      MQTT_URL: broker.url, MQTT_USERNAME: 'ingest', MQTT_PASSWORD: servicePassword('ingest'), MQTT_PROTOCOL_VERSION: '5',
      MQTT_CLIENT_ID: clientId(name), INGEST_SCOPES: scopes, PARK_REGISTRY: park.registryPath, DATA_DIR: dataDir,
      BATCH_MAX_MESSAGES: '1000', MQTT_PROBE_INTERVAL_MS: '1000', MQTT_PROBE_TIMEOUT_MS: '2000',
    }, freePort());
  }

  /** Publishes for both tenants, takes the broker down once a third of the messages are acknowledged, and starts it again. */
  async function loadWithFault(ingest: ServiceProcess, firstSeq: number, perMeter: number, fault: { stop: () => Promise<void>; start: () => Promise<void> }): Promise<{ acked: Set<string>; ackedAt: Map<string, number>; faultAt: number; startingAt: number; published: number; recoveredMs: number; lostProbes: number }> {
    const gateways = await Promise.all(park.tenants.map((t) => Gateway.open(broker.url, t)));
    try {
      const lists = park.tenants.map((t) => messages(park, t, firstSeq, perMeter, baseTs));
      const total = lists.reduce((n, l) => n + l.length, 0);
      const lostBefore = await metricValue(ingest.opsUrl, 'eip_ingest_subscription_probes_total', { outcome: 'lost' });
      const publishing = Promise.all(gateways.map((g, i) => g.publish(lists[i]!)));
      await waitFor(() => gateways.reduce((n, g) => n + g.acked.size, 0) >= total / 3, 60_000, 'a third acknowledged', 5);
      const faultAt = Date.now();
      await fault.stop();
      // While the broker is down no probe can come back: any counted from here on came through the new one.
      const returnedBefore = await metricValue(ingest.opsUrl, 'eip_ingest_subscription_probes_total', { outcome: 'returned' });
      const startingAt = Date.now();
      await fault.start();
      const upAt = Date.now();
      // Recovered: a probe published after the restart came back through the session.
      await waitFor(async () => (await metricValue(ingest.opsUrl, 'eip_ingest_subscription_probes_total', { outcome: 'returned' })) > returnedBefore
        && (await fetch(`${ingest.opsUrl}/readyz`)).status === 200, 60_000, 'ingest receiving again', 20);
      const recoveredMs = Date.now() - upAt;
      await publishing;
      const acked = new Set(gateways.flatMap((g) => [...g.acked]));
      const ackedAt = new Map(gateways.flatMap((g) => [...g.ackedAt]));
      const published = gateways.reduce((n, g) => n + g.published, 0);
      return { acked, ackedAt, faultAt, startingAt, published, recoveredMs, lostProbes: (await metricValue(ingest.opsUrl, 'eip_ingest_subscription_probes_total', { outcome: 'lost' })) - lostBefore };
    } finally {
      await Promise.all(gateways.map((g) => g.client.endAsync(true)));
    }
  }

  async function expectAllStored(acked: Set<string>, label: string): Promise<number> {
    await waitFor(() => missing(acked, keys.keys).length === 0, 120_000, `${label}: every acknowledged reading on Kafka`, 200).catch(() => {
      assert.deepEqual(missing(acked, keys.keys).slice(0, 10), [], `${label}: ${missing(acked, keys.keys).length} of ${acked.size} acknowledged messages never reached Kafka`);
    });
    // Readings outside `acked` (lost in a crash window) may still be arriving: let Kafka settle first.
    await new Promise((r) => setTimeout(r, 1000));
    const expected = [...keys.keys].length * 2;
    await waitFor(async () => (await storedPoints(store, park, park.tenants[0]) + await storedPoints(store, park, park.tenants[1])) >= expected, 120_000, `${label}: every reading in InfluxDB`, 300);
    const stored = await storedPoints(store, park, park.tenants[0]) + await storedPoints(store, park, park.tenants[1]);
    assert.equal(stored, expected, `${label}: one InfluxDB point per reading produced`);
    return stored;
  }

  it('refuses a payload over MAX_PAYLOAD_BYTES at the broker and delivers one at the limit', async () => {
    const limit = ingestConfigSchema.shape.MAX_PAYLOAD_BYTES.parse(undefined);
    const watcher = await connect(broker.url, { username: 'ingest', password: servicePassword('ingest'), protocolVersion: 5, clientId: clientId('size-watch'), clean: true });
    const sizes: number[] = [];
    watcher.on('message', (_t, payload) => sizes.push(payload.length));
    await watcher.subscribeAsync(ingestFilters([`${park.park}/${park.tenants[0]}`]), { qos: 1 });
    const [tenant] = park.tenants;
    const topic = `eip/${park.park}/${tenant}/${park.meters[tenant]![0]!}/telemetry`;
    const gw = await Gateway.open(broker.url, tenant);
    try {
      await gw.client.publishAsync(topic, Buffer.alloc(limit, 32), { qos: 1 });
      const over = await Promise.race([gw.client.publishAsync(topic, Buffer.alloc(limit + 1, 32), { qos: 1 }).then(() => 'acknowledged', () => 'refused'), new Promise((r) => setTimeout(() => r('no answer'), 3000))]);
      assert.notEqual(over, 'acknowledged');
      await waitFor(() => sizes.includes(limit), 5000, 'the payload at the limit');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(sizes, [limit], 'only the payload at the limit was delivered');
    } finally {
      await gw.client.endAsync(true);
      await watcher.endAsync();
    }
  });

  it('stores every acknowledged reading across a stop and start of Mosquitto under load; after a SIGKILL, all but what it had only just acknowledged', async (t) => {
    const ingest = await startIngest('all', '+');
    cleanup.push(async () => {
      await ingest.stop('SIGTERM');
      await dropSession(broker.url, { clientId: clientId('all'), username: 'ingest', password: servicePassword('ingest') });
    });
    const downMs = 2000;
    const perMeter = 600;

    const restart = await loadWithFault(ingest, 0, perMeter, {
      stop: async () => {
        await broker.down();
        await new Promise((r) => setTimeout(r, downMs));
      },
      start: () => broker.up(),
    });
    const storedAfterRestart = await expectAllStored(restart.acked, 'stop and start');
    assert.equal(restart.lostProbes, 0, 'the plain subscription came back with the session: no probe was lost');
    t.diagnostic(JSON.stringify({ fault: `stop, ${downMs} ms down, start`, messagesAcknowledged: restart.acked.size, acknowledgedByTheNewBroker: [...restart.ackedAt.values()].filter((at) => at >= restart.startingAt).length, publishAttempts: restart.published, readingsAcknowledged: restart.acked.size * 2, readingsStored: storedAfterRestart, recoveredMs: restart.recoveredMs }));

    // The session (and its subscriptions) is in the persistence file since the stop above.
    // A SIGKILL loses what Mosquitto held only in memory: what it had acknowledged to a
    // meter and not yet handed to ingest at that instant. Everything acknowledged well
    // before the kill, and everything after the broker came back, must be stored.
    const crash = await loadWithFault(ingest, perMeter, perMeter, {
      stop: async () => {
        await broker.kill();
        await new Promise((r) => setTimeout(r, downMs));
      },
      start: () => broker.up(),
    });
    // Acknowledged from startingAt on: by the new broker, since the old one was gone by then.
    const required = new Set([...restart.acked, ...[...crash.ackedAt].filter(([, at]) => at < crash.faultAt - 2000 || at >= crash.startingAt).map(([k]) => k)]);
    const storedAfterCrash = await expectAllStored(required, 'SIGKILL');
    const lost = missing(crash.acked, keys.keys);
    // When the lost ones were acknowledged, from the moment the test sent SIGKILL.
    const lostAckedAfterKillMs = lost.map((k) => crash.ackedAt.get(k)! - crash.faultAt);
    t.diagnostic(JSON.stringify({
      fault: `SIGKILL, ${downMs} ms down, start`, messagesAcknowledged: crash.acked.size, acknowledgedByTheNewBroker: [...crash.ackedAt.values()].filter((at) => at >= crash.startingAt).length,
      acknowledgedAndLostInTheKill: lost.length, ...(lost.length && { lostAckedAfterKillMs: [Math.min(...lostAckedAfterKillMs), Math.max(...lostAckedAfterKillMs)] }), readingsStored: storedAfterCrash - storedAfterRestart, recoveredMs: crash.recoveredMs, lostProbes: crash.lostProbes,
    }));
  });

  it('finds a session that came back without its subscriptions by the probe, not by "session present", and subscribes again', async (t) => {
    const ingest = await startIngest('probed', '+');
    cleanup.push(async () => {
      await ingest.stop('SIGTERM');
      await dropSession(broker.url, { clientId: clientId('probed'), username: 'ingest', password: servicePassword('ingest') });
    });
    const before = await metricValue(ingest.opsUrl, 'eip_ingest_subscription_probes_total', { outcome: 'lost' });
    // The session loses its subscriptions while keeping everything else, as Mosquitto 2.0
    // does to a shared subscription across a restart: a client under ingest's id takes the
    // session over, unsubscribes and leaves; ingest reconnects to "session present".
    // A gateway keeps publishing meanwhile: what the broker acknowledges while no subscription matches is lost, the window this bounds.
    const during = await Gateway.open(broker.url, park.tenants[1]);
    let publishing = true;
    const paced = (async () => {
      for (let seq = 5000; publishing; seq++) {
        await during.publish(messages(park, park.tenants[1], seq, 1, baseTs), 10);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const impostor = await connect(broker.url, { username: 'ingest', password: servicePassword('ingest'), protocolVersion: 5, clientId: clientId('probed'), clean: false, properties: { sessionExpiryInterval: 600 } });
    await impostor.unsubscribeAsync([...ingestFilters(['+']), ingestProbeTopic(clientId('probed'))]);
    await impostor.endAsync();
    const lostAt = Date.now();
    await waitFor(async () => (await metricValue(ingest.opsUrl, 'eip_ingest_subscription_probes_total', { outcome: 'lost' })) > before, 30_000, 'a lost probe counted');
    const detectedMs = Date.now() - lostAt;
    await waitFor(async () => (await fetch(`${ingest.opsUrl}/readyz`)).status === 200, 30_000, 'ingest ready again', 20);
    const recoveredMs = Date.now() - lostAt;
    publishing = false;
    await paced;
    await during.client.endAsync();
    assert.match(ingest.output(), /subscription probe did not come back/);
    // Subscribed again: what tenants publish now is stored.
    const gw = await Gateway.open(broker.url, park.tenants[0]);
    try {
      await gw.publish(messages(park, park.tenants[0], 2000, 50, baseTs));
    } finally {
      await gw.client.endAsync();
    }
    await expectAllStored(gw.acked, 'after the fresh connection');
    const droppedInWindow = missing(during.acked, keys.keys).length;
    t.diagnostic(JSON.stringify({ fault: 'session present without subscriptions', lostProbeAfterMs: detectedMs, readyAgainAfterMs: recoveredMs, probeTimeoutMs: 2000, publishedMeanwhile: during.acked.size, acknowledgedAndDroppedByTheBroker: droppedInWindow }));
  });

  it('with the static split, keeps a dead instance\'s share for its replacement under the same client id, while the other goes on', async (t) => {
    const [ta, tb] = park.tenants;
    const a = await startIngest('split-a', `${park.park}/${ta}`);
    let b = await startIngest('split-b', `${park.park}/${tb}`);
    cleanup.push(async () => {
      await a.stop('SIGTERM');
      await b.stop('SIGTERM');
      for (const name of ['split-a', 'split-b']) await dropSession(broker.url, { clientId: clientId(name), username: 'ingest', password: servicePassword('ingest') });
    });
    const writtenA0 = await metricValue(a.opsUrl, 'eip_ingest_readings_written_total');
    await b.stop('SIGKILL');
    const storedB0 = await storedPoints(store, park, tb);
    // More than Mosquitto's default queue of 1,000 messages waits for b.
    const gateways = await Promise.all([ta, tb].map((tenant) => Gateway.open(broker.url, tenant)));
    try {
      await Promise.all([gateways[0]!.publish(messages(park, ta, 3000, 150, baseTs)), gateways[1]!.publish(messages(park, tb, 3000, 150, baseTs))]);
    } finally {
      await Promise.all(gateways.map((g) => g.client.endAsync()));
    }
    const [ackedA, ackedB] = [gateways[0]!.acked, gateways[1]!.acked];
    await waitFor(async () => (await metricValue(a.opsUrl, 'eip_ingest_readings_written_total')) - writtenA0 >= ackedA.size * 2, 60_000, 'instance a storing its share while b is dead', 100);
    await waitFor(() => missing(ackedA, keys.keys).length === 0, 30_000, 'a\'s share on Kafka while b is away', 100);
    assert.equal(await storedPoints(store, park, tb), storedB0, 'b\'s share waits in b\'s session; a does not take it');
    const replacedAt = Date.now();
    b = await startIngest('split-b', `${park.park}/${tb}`);
    await expectAllStored(new Set([...ackedA, ...ackedB]), 'after the replacement');
    t.diagnostic(JSON.stringify({ fault: 'instance b SIGKILLed, replaced', waitingForB: ackedB.size, storedByA: ackedA.size, replacementToAllStoredMs: Date.now() - replacedAt }));
  });

  it('unsubscribes, when restarted with fewer scopes, what the session still held from the old ones', async () => {
    const [ta, tb] = park.tenants;
    let svc = await startIngest('narrowed', park.park);
    cleanup.push(async () => {
      await svc.stop('SIGTERM');
      await dropSession(broker.url, { clientId: clientId('narrowed'), username: 'ingest', password: servicePassword('ingest') });
    });
    await svc.stop('SIGTERM');
    svc = await startIngest('narrowed', `${park.park}/${ta}`);
    const gateways = await Promise.all([ta, tb].map((tenant) => Gateway.open(broker.url, tenant)));
    try {
      await Promise.all([gateways[0]!.publish(messages(park, ta, 4000, 20, baseTs)), gateways[1]!.publish(messages(park, tb, 4000, 20, baseTs))]);
    } finally {
      await Promise.all(gateways.map((g) => g.client.endAsync()));
    }
    await expectAllStored(gateways[0]!.acked, 'the scope it kept');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await metricValue(svc.opsUrl, 'eip_ingest_messages_received_total'), gateways[0]!.acked.size, 'nothing of the tenant it gave up');
  });
});
