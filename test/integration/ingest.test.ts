/**
 * Ingest against the real Mosquitto, Kafka and InfluxDB started by infra/:
 * every reading stored once and produced once, duplicates dropped, bad input
 * dead-lettered with its reason, and nothing lost when InfluxDB stops, when
 * ingest is SIGKILLed, or while ingest is away.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { createInfluxStore } from '../../shared/adapters/influxdb/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { deadLetterSchema, readingBatchEventSchema, type DeadLetter } from '../../shared/contracts/events.ts';
import type { EventBus, Subscription } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { connect, dropSession, publishMany } from '../helpers/mqtt.ts';
import { influx, kafkaBrokers, mqttUrl, repoRoot, servicePassword } from '../helpers/servers.ts';
import { startService, freePort, metricValue, type ServiceProcess } from '../helpers/service-process.ts';
import { makeTestPark, readingMessage, readingMessages, type TestPark } from '../helpers/test-park.ts';
import { waitFor } from '../helpers/bus.ts';
import { startGroupsAtEnd } from '../helpers/kafka-groups.ts';

const logger = quietLogger('ingest-test');

interface Run {
  park: TestPark;
  group: string;
  env: (clientId: string) => Record<string, string>;
}

function newRun(meters: number): Run {
  const park = makeTestPark(meters);
  const group = `itest-${randomBytes(4).toString('hex')}`;
  return {
    park, group,
    env: (clientId) => ({
      BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','),
      INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org, INFLUX_BUCKET: influx.bucket,
      MQTT_URL: mqttUrl, MQTT_USERNAME: 'ingest', MQTT_PASSWORD: servicePassword('ingest'), MQTT_PROTOCOL_VERSION: '5',
      MQTT_CLIENT_ID: `ingest:${group}-${clientId}`, PARK_REGISTRY: park.registryPath,
      DATA_DIR: park.dir, BATCH_MAX_MESSAGES: '1000',
    }),
  };
}

/** Collects what ingest produced for one test park from Kafka. */
class KafkaWatch {
  readings = new Map<string, number>();
  readingRecords = 0;
  deadLetters: DeadLetter[] = [];
  private sub: Subscription | undefined;
  private readonly bus: EventBus;
  private readonly park: TestPark;
  constructor(bus: EventBus, park: TestPark) {
    this.bus = bus;
    this.park = park;
  }
  /** From the topics' ends: a shared Kafka may hold many runs' readings, none of them this test's. */
  async start(): Promise<void> {
    const groupId = `watch-${randomBytes(4).toString('hex')}`;
    await startGroupsAtEnd([[groupId, [topics.readings.name, topics.deadLetters.name]]]);
    this.sub = await this.bus.subscribe({
      groupId, topics: [topics.readings.name, topics.deadLetters.name], fromBeginning: true,
      handleBatch: async (batch) => {
        for (const m of batch.messages) {
          const value = JSON.parse(m.value!.toString()) as unknown;
          if (batch.topic === topics.readings.name) {
            const ev = readingBatchEventSchema.parse(value);
            if (ev.park !== this.park.park) continue;
            this.readingRecords++;
            for (const r of ev.readings) {
              const k = `${ev.meter}|${r.metric}|${r.ts}`;
              this.readings.set(k, (this.readings.get(k) ?? 0) + 1);
            }
          } else {
            const dl = deadLetterSchema.parse(value);
            if (dl.source.includes(this.park.park)) this.deadLetters.push(dl);
          }
        }
      },
    });
  }
  async stop(): Promise<void> { await this.sub?.stop(); }
}

async function storedCount(store: TimeSeriesStore, park: TestPark): Promise<number> {
  let total = 0;
  for (const metric of ['active_power', 'active_energy_import']) {
    const r = await store.queryAggregate({ scope: { park: park.park, tenant: park.tenants[0] }, metric, from: 0, to: Date.now() + 86_400_000, fn: 'count' });
    total += r.reduce((s, b) => s + b.value, 0);
  }
  return total;
}

describe('ingest against real Mosquitto, Kafka and InfluxDB', { timeout: 600_000 }, () => {
  let bus: EventBus;
  let store: TimeSeriesStore;
  let publisher: MqttClient;
  // Each test stops what it started: an ingest left running would take the next test's traffic too.
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    cleanup = [];
  });

  before(async () => {
    bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'ingest-test', logger });
    store = createInfluxStore({ ...influx, logger });
    publisher = await connect(mqttUrl, { username: 'simulator', password: servicePassword('simulator'), protocolVersion: 5, clientId: `simulator:pub-${randomBytes(4).toString('hex')}` });
  });
  after(async () => {
    await publisher.endAsync();
    await bus.close();
    await store.close();
  });

  async function startIngest(run: Run, id: string, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const svc = await startService('ingest', { ...run.env(id), ...extraEnv }, freePort());
    cleanup.push(async () => {
      await svc.stop('SIGTERM');
      await dropSession(mqttUrl, { clientId: `ingest:${run.group}-${id}`, username: 'ingest', password: servicePassword('ingest') });
    });
    return svc;
  }

  it('stores N readings exactly once in InfluxDB and produces N distinct readings to Kafka', async () => {
    const run = newRun(20);
    const ingest = await startIngest(run, 'a');
    const watch = new KafkaWatch(bus, run.park);
    await watch.start();
    cleanup.push(() => watch.stop());
    const base = Date.now() - 3_600_000;
    const sent = await publishMany(publisher, readingMessages(run.park, 100, base));
    const expected = sent * 2;
    await waitFor(async () => (await storedCount(store, run.park)) >= expected, 120_000, 'readings in InfluxDB', 500);
    await waitFor(() => watch.readings.size >= expected, 60_000, 'readings on Kafka', 200);
    assert.equal(await storedCount(store, run.park), expected);
    assert.equal(watch.readings.size, expected);
    assert.equal(await metricValue(ingest.opsUrl, 'eip_ingest_readings_written_total'), expected);
    const one = await store.queryReadings({ scope: { park: run.park.park, meter: run.park.meters[3]! }, metric: 'active_energy_import', from: base, to: base + 2000 });
    assert.deepEqual(one.map((p) => [p.value, p.ts, p.unit, p.tenant]), [[1000, base, 'kWh', run.park.tenants[0]], [1001, base + 1000, 'kWh', run.park.tenants[0]]]);
  });

  it('keeps one point for a duplicated message and dead-letters bad input with its reason, without stopping', async () => {
    const run = newRun(2);
    // Below the broker's message_size_limit (which refuses larger payloads at the door), so the oversized one reaches ingest.
    const ingest = await startIngest(run, 'a', { MAX_PAYLOAD_BYTES: '1024' });
    const watch = new KafkaWatch(bus, run.park);
    await watch.start();
    cleanup.push(() => watch.stop());
    const base = Date.now() - 600_000;
    const dup = readingMessage(run.park, 0, 1, base);
    const [other] = [`other-${run.park.park.slice(6)}`];
    const bad = [
      { topic: dup.topic, payload: '{"v":1,"ts":' },
      { topic: dup.topic, payload: Buffer.alloc(2000, 120) },
      { topic: `eip/${run.park.park}/${run.park.tenants[1]}/${run.park.meters[1]!}/telemetry`, payload: readingMessage(run.park, 1, 1, base).payload },
      { topic: dup.topic, payload: JSON.stringify({ v: 1, ts: base, seq: 9, readings: [{ metric: 'active_power', value: 'lots', unit: 'kW' }] }) },
      { topic: `eip/${run.park.park}/${run.park.tenants[1]}/${other}/telemetry`, payload: JSON.stringify({ v: 1, ts: Date.now() + 3_600_000, seq: 1, readings: [{ metric: 'water_intake', value: 1, unit: 'm3' }] }) },
    ];
    await publishMany(publisher, [dup, dup, ...bad, dup, readingMessage(run.park, 1, 2, base)]);
    await waitFor(() => watch.deadLetters.length >= bad.length, 60_000, 'dead letters', 200);
    await waitFor(async () => (await storedCount(store, run.park)) >= 4, 60_000, 'valid readings stored', 300);
    await waitFor(() => watch.readingRecords >= 2, 60_000, 'reading records on Kafka', 100);
    assert.deepEqual(watch.deadLetters.map((d) => d.reason).sort(), ['foreign-tenant', 'future-timestamp', 'not-json', 'oversized', 'schema']);
    const notJson = watch.deadLetters.find((d) => d.reason === 'not-json')!;
    assert.equal(Buffer.from(notJson.payloadBase64, 'base64').toString(), '{"v":1,"ts":');
    assert.equal(notJson.source, dup.topic);
    assert.equal(notJson.stage, 'ingest');
    assert.match(watch.deadLetters.find((d) => d.reason === 'oversized')!.detail, /2000 bytes/);
    assert.match(watch.deadLetters.find((d) => d.reason === 'foreign-tenant')!.detail, /belongs to tenant/);
    assert.equal(await storedCount(store, run.park), 4, 'the duplicate left one point; the valid message after the bad ones was stored');
    assert.equal(watch.readingRecords, 2, 'one Kafka record for the duplicated message, one for the last');
    assert.equal(await metricValue(ingest.opsUrl, 'eip_ingest_duplicates_total'), 2);
    // Per reason: the shared broker may hold other runs' retained statuses, which a fresh subscription receives too.
    for (const reason of ['foreign-tenant', 'future-timestamp', 'not-json', 'oversized', 'schema']) assert.equal(await metricValue(ingest.opsUrl, 'eip_ingest_dead_lettered_total', { reason }), 1, reason);
    assert.equal((await fetch(`${ingest.opsUrl}/readyz`)).status, 200, 'still running and ready');
  });

  it('loses nothing when ingest is SIGKILLed mid-run and when readings arrive while it is away', async () => {
    const run = newRun(10);
    const watch = new KafkaWatch(bus, run.park);
    await watch.start();
    cleanup.push(() => watch.stop());
    let ingest = await startIngest(run, 'a');
    const base = Date.now() - 7_200_000;
    const first = publishMany(publisher, readingMessages(run.park, 300, base));
    await waitFor(async () => (await metricValue(ingest.opsUrl, 'eip_ingest_messages_received_total')) > 500, 60_000, 'ingest under way', 20);
    await ingest.stop('SIGKILL');
    // More than Mosquitto's default queue of 1000 messages arrives while ingest is down.
    const sentFirst = await first;
    const sentWhileDown = await publishMany(publisher, readingMessages(run.park, 300, base, 300));
    ingest = await startIngest(run, 'a');
    const expected = (sentFirst + sentWhileDown) * 2;
    await waitFor(async () => (await storedCount(store, run.park)) >= expected, 180_000, 'every reading in InfluxDB', 500);
    assert.equal(await storedCount(store, run.park), expected);
    await waitFor(() => watch.readings.size >= expected, 120_000, 'every reading on Kafka', 200);
    assert.equal(watch.readings.size, expected);
  });

  it('holds readings while InfluxDB is down and stores all of them once it is back', async () => {
    const run = newRun(10);
    const ingest = await startIngest(run, 'a');
    const base = Date.now() - 5_400_000;
    const sent1 = await publishMany(publisher, readingMessages(run.park, 50, base));
    const stop = spawnSync('bash', ['infra/stack.sh', 'down', 'influxdb'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(stop.status, 0, stop.stderr);
    try {
      const sent2 = await publishMany(publisher, readingMessages(run.park, 100, base, 50));
      await waitFor(async () => (await metricValue(ingest.opsUrl, 'eip_sink_write_retries_total', { stage: 'ingest' })) > 0, 60_000, 'a failed write', 200);
      assert.ok((await metricValue(ingest.opsUrl, 'eip_ingest_spool_pending_messages')) > 0, 'the backlog shows in metrics');
      assert.equal((await fetch(`${ingest.opsUrl}/readyz`)).status, 503, 'not ready without InfluxDB');
      const up = spawnSync('bash', ['infra/stack.sh', 'up', 'influxdb'], { cwd: repoRoot, encoding: 'utf8' });
      assert.equal(up.status, 0, up.stderr);
      const expected = (sent1 + sent2) * 2;
      await waitFor(async () => (await storedCount(store, run.park)) >= expected, 180_000, 'every reading after InfluxDB returned', 500);
      assert.equal(await storedCount(store, run.park), expected);
    } finally {
      spawnSync('bash', ['infra/stack.sh', 'up', 'influxdb'], { cwd: repoRoot });
    }
  });

  it('splits the park between two instances by tenant (INGEST_SCOPES), each storing its own share once', async () => {
    const run = newRun(10);
    const [ta, tb] = run.park.tenants;
    const a = await startIngest(run, 'a', { INGEST_SCOPES: `${run.park.park}/${ta}` });
    const b = await startIngest(run, 'b', { INGEST_SCOPES: `${run.park.park}/${tb}` });
    const watch = new KafkaWatch(bus, run.park);
    await watch.start();
    cleanup.push(() => watch.stop());
    const base = Date.now() - 1_800_000;
    const other = `other-${run.park.park.slice(6)}`;
    const sentA = await publishMany(publisher, readingMessages(run.park, 200, base));
    const water = Array.from({ length: 300 }, (_, seq) => ({ topic: `eip/${run.park.park}/${tb}/${other}/telemetry`, payload: JSON.stringify({ v: 1, ts: base + seq * 1000, seq, readings: [{ metric: 'water_intake', value: seq, unit: 'm3' }] }) }));
    const sentB = await publishMany(publisher, water);
    await waitFor(async () => (await storedCount(store, run.park)) >= sentA * 2, 120_000, 'tenant A\'s readings', 500);
    await waitFor(() => watch.readings.size >= sentA * 2 + sentB, 60_000, 'readings on Kafka', 200);
    assert.equal(await metricValue(a.opsUrl, 'eip_ingest_readings_written_total'), sentA * 2, 'instance a wrote tenant A\'s readings, once');
    assert.equal(await metricValue(b.opsUrl, 'eip_ingest_readings_written_total'), sentB, 'instance b wrote tenant B\'s, once');
    assert.equal(await storedCount(store, run.park), sentA * 2);
    assert.equal([...watch.readings.values()].filter((n) => n > 1).length, 0, 'no reading produced twice');
    rmSync(run.park.dir, { recursive: true, force: true });
  });
});
