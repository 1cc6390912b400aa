/**
 * The acceptance test on real Kafka and InfluxDB, through the
 * aggregator service: a logger goes silent for 6 hours, or 3 days, while two
 * meters stay live, the aggregator moves on (and forgets the logger's windows),
 * then the logger resends its 2-minute records, in order or shuffled. The latest revision of every
 * hourly and daily meter, tenant and park window on eip.aggregates.v1, and in
 * the store, is what a fresh aggregator computes from the same readings on
 * time (run in-process on an embedded store).
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { createInfluxStore } from '../../shared/adapters/influxdb/index.ts';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { ReadingBatchEvent } from '../../shared/contracts/events.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { influx, kafkaBrokers } from '../helpers/servers.ts';
import { startService, freePort, metricValue, type ServiceProcess } from '../helpers/service-process.ts';
import { AggregateWatch } from '../helpers/aggregate-watch.ts';
import { serviceGroups, startGroupsAtEnd } from '../helpers/kafka-groups.ts';
import { waitFor } from '../helpers/bus.ts';
import { content, D, drive, H, latePark, lateRegistry, lateStart, traffic, windowsBy } from '../helpers/late-data.ts';

const logger = quietLogger('late-data-kafka-test');

describe('late data of any age through the aggregator on real Kafka and InfluxDB', { timeout: 600_000 }, () => {
  let bus: EventBus;
  let store: TimeSeriesStore;
  let watch: AggregateWatch | undefined;
  let svc: ServiceProcess | undefined;
  let dir = '';
  before(() => {
    bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'late-data-test', logger });
    store = createInfluxStore({ ...influx, aggregatesBucket: `${influx.bucket}_downsampled`, logger });
    dir = mkdtempSync(join(tmpdir(), 'eip-late-'));
  });
  afterEach(async () => {
    await svc?.stop('SIGTERM').catch(() => {});
    await watch?.stop();
    svc = undefined;
    watch = undefined;
  });
  after(async () => {
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: Array<[name: string, outageStart: number, outageMs: number, order: 'in-order' | 'shuffled']> = [
    ['6 hours resent in order', lateStart + 10 * H + 17 * 60_000, 6 * H, 'in-order'],
    ['3 days resent shuffled', lateStart + 5 * H, 3 * D, 'shuffled'],
  ];
  for (const [name, outageStart, outageMs, order] of cases) it(`${name} while two meters stay live: every hour and day as on time, latest revision`, async () => {
    const park = `late-${randomBytes(4).toString('hex')}`;
    const registryPath = join(dir, `${park}.json`);
    writeFileSync(registryPath, JSON.stringify(latePark(park)));
    const until = Math.ceil((outageStart + outageMs) / D) * D;
    const scenario = { outageStart, outageMs, end: until + 4 * H, stepsPerBatch: 30 };

    // What the same readings give on time, from a fresh aggregator.
    const embedded = createSqliteStore({ path: ':memory:', logger });
    const onTime = await drive(embedded, lateRegistry(park), traffic(park, { ...scenario, order: 'on-time' }));
    await embedded.close();
    const sizes = ['1h', '1d'] as const;
    const expected = windowsBy(onTime, sizes, until, park);

    await startGroupsAtEnd(serviceGroups.aggregator(park));
    watch = new AggregateWatch(bus, park);
    await watch.start();
    const latest = watch.byId;
    svc = await startService('aggregator', {
      BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket, INFLUX_AGGREGATES_BUCKET: `${influx.bucket}_downsampled`, PARK_REGISTRY: registryPath, DATA_DIR: dir,
      AGGREGATOR_GROUP: park, OUT_OF_ORDERNESS_MS: '5000', IDLE_PARTITION_MS: '1500',
    }, freePort());

    // As ingest does: the store first, then the readings topic.
    const send = async (batches: readonly ReadingBatchEvent[][]): Promise<void> => {
      for (const events of batches) {
        await store.writeReadings(events.flatMap((e) => e.readings.map((r) => ({ park: e.park, tenant: e.tenant, meter: e.meter, metric: r.metric, unit: r.unit, value: r.value, ts: r.ts }))));
        await bus.publish(events.map((e) => ({ topic: topics.readings.name, key: e.meter, value: JSON.stringify(e) })));
      }
    };
    const batches = traffic(park, { ...scenario, order });
    const resend = batches.findIndex((b) => b.some((e) => e.meter === 'logger' && e.readings[0]!.ts >= outageStart && e.readings[0]!.ts < outageStart + outageMs - H));
    assert.ok(resend > 0);
    await send(batches.slice(0, resend));
    // The live meters' hour before the resend is out: the logger's outage windows are long forgotten by then.
    const lastLiveHour = `park:${park}:active_power:1h:${Math.floor((outageStart + outageMs) / H) * H - 2 * H}`;
    await waitFor(() => latest.has(lastLiveHour), 180_000, 'the aggregator caught up with the live meters', 200).catch((e: unknown) => { console.log('SERVICE', svc?.output().slice(-6000)); throw e; });
    await send(batches.slice(resend));

    const matches = (): boolean => [...expected].every(([id, e]) => {
      const got = latest.get(id.split(':P:').join(`:${park}:`));
      return got !== undefined && JSON.stringify({ ...(content(got) as object), windowId: id }) === JSON.stringify(e);
    });
    await waitFor(matches, 120_000, 'every hour and day as on time', 500).catch(() => {});
    const actual = windowsBy({ latest, openWindows: 0, checkpointBytes: 0, metrics: onTime.metrics, late: 0 }, sizes, until, park);
    assert.ok(expected.size > 100, `${expected.size} windows compared`);
    for (const [id, e] of expected) assert.deepEqual(actual.get(id), e, id);
    assert.ok((await metricValue(svc.opsUrl, 'eip_aggregator_backfills_total')) > 0, 'the resend went through backfills');
    assert.ok([...latest.values()].some((e) => e.scope === 'park' && e.window === '1h' && e.revision > 0), 'park hours revised');

    // The store holds the latest revision of what the topic carried (what the console reads).
    const stored = await store.queryStoredAggregates({ scope: { park }, aggregateScope: 'tenant', metric: 'active_energy_import', window: '1h', from: lateStart, to: until });
    assert.equal(stored.length, 2 * ((until - lateStart) / H), 'every hour of both tenants stored');
    for (const p of stored) {
      const e = latest.get(`tenant:${p.tenant}:active_energy_import:1h:${p.start}`)!;
      assert.deepEqual([p.revision, p.consumption, p.count], [e.revision, e.consumption, e.count], `tenant ${p.tenant} hour ${p.start}`);
    }
  });
});
