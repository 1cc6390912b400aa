/**
 * Two aggregator instances in one consumer group, against real Kafka and
 * InfluxDB: the readings partitions are split between them, and the meter,
 * tenant and park windows they produce are exactly those one instance produces
 * from the same readings, including after the instance holding the first
 * meter's partition is SIGKILLed mid-run and the other takes its partitions
 * (and, if it had it, the roll-up stage) over.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { createInfluxStore } from '../../shared/adapters/influxdb/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { ReadingBatchEvent } from '../../shared/contracts/events.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import { partitionForKey } from '../../shared/ports/partitioner.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { influx, kafkaBrokers } from '../helpers/servers.ts';
import { startService, freePort, metricValue, type ServiceProcess } from '../helpers/service-process.ts';
import { AggregateWatch } from '../helpers/aggregate-watch.ts';
import { serviceGroups, startGroupsAtEnd } from '../helpers/kafka-groups.ts';
import { makeTestPark, type TestPark } from '../helpers/test-park.ts';
import { waitFor } from '../helpers/bus.ts';

const logger = quietLogger('aggregator-scale-test');
const minute = 60_000;
const meters = 8;

/** A test park whose meters sit on at least three readings partitions. */
function spreadPark(partitions: number): TestPark {
  for (;;) {
    const park = makeTestPark(meters);
    if (new Set(park.meters.map((m) => partitionForKey(m, partitions))).size >= 3) return park;
    rmSync(park.dir, { recursive: true, force: true });
  }
}

describe('two aggregator instances in one group against real Kafka and InfluxDB', { timeout: 400_000 }, () => {
  let bus: EventBus;
  let store: TimeSeriesStore;
  let cleanup: Array<() => Promise<unknown>> = [];
  before(() => {
    bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'aggregator-scale-test', logger });
    store = createInfluxStore({ ...influx, aggregatesBucket: `${influx.bucket}_downsampled`, logger });
  });
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    cleanup = [];
  });
  after(async () => { await bus.close(); await store.close(); });

  it('produce the windows one instance produces, exactly, across a SIGKILL of one of them', async () => {
    const partitions = await bus.partitionCount(topics.readings.name);
    const single = spreadPark(partitions);
    const shared = spreadPark(partitions);
    for (const p of [single, shared]) cleanup.push(async () => rmSync(p.dir, { recursive: true, force: true }));
    const env = (park: TestPark, group: string): Record<string, string> => ({
      BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket, INFLUX_AGGREGATES_BUCKET: `${influx.bucket}_downsampled`, PARK_REGISTRY: park.registryPath, DATA_DIR: park.dir,
      // Readings go out in bursts of 40 and 30 minutes to several partitions at once: a partition handled first may close
      // windows the others still have readings for, which then revise them. An allowance above the bursts keeps every one.
      AGGREGATOR_GROUP: group, ALLOWED_LATENESS_MS: String(3 * 60 * minute), OUT_OF_ORDERNESS_MS: '0', IDLE_PARTITION_MS: '1500', AGGREGATOR_BATCH_MAX: '5000',
    });
    const start = async (park: TestPark, group: string): Promise<ServiceProcess> => {
      const svc = await startService('aggregator', env(park, group), freePort());
      cleanup.push(() => svc.stop('SIGTERM'));
      return svc;
    };
    const tag = randomBytes(4).toString('hex');
    await startGroupsAtEnd([...serviceGroups.aggregator(`agg-one-${tag}`), ...serviceGroups.aggregator(`agg-two-${tag}`)]);
    const watches = [new AggregateWatch(bus, single.park), new AggregateWatch(bus, shared.park)];
    for (const w of watches) {
      await w.start();
      cleanup.push(() => w.stop());
    }
    const one = await start(single, `agg-one-${tag}`);
    const pair = [await start(shared, `agg-two-${tag}`), await start(shared, `agg-two-${tag}`)];
    const held = async (svc: ServiceProcess): Promise<number[]> => {
      const out: number[] = [];
      for (let p = 0; p < partitions; p++) if ((await metricValue(svc.opsUrl, 'eip_aggregator_partitions_held', { partition: String(p) })) === 1) out.push(p);
      return out;
    };
    let split: number[][] = [];
    await waitFor(async () => {
      split = await Promise.all(pair.map(held));
      return split.every((s) => s.length > 0) && split[0]!.length + split[1]!.length === partitions;
    }, 90_000, 'the readings partitions split between the two instances', 200);
    const meterPartitions = shared.meters.map((m) => partitionForKey(m, partitions));
    const victim = pair.findIndex((_, i) => split[i]!.includes(meterPartitions[0]!));
    const survivor = pair[1 - victim]!;

    // Same readings for both parks: meter i, minute m: power 10 i + m mod 7 kW, energy register + (i + 1) kWh a minute.
    const base = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 4 * 3_600_000;
    const events = (park: TestPark, from: number, to: number): ReadingBatchEvent[] => {
      const out: ReadingBatchEvent[] = [];
      for (let m = from; m < to; m++) {
        for (let i = 0; i < meters; i++) {
          const ts = base + m * minute + i * 1000;
          out.push({ v: 1, park: park.park, tenant: park.tenants[0], meter: park.meters[i]!, seq: m, receivedAt: ts, simulated: false,
            readings: [{ metric: 'active_power', unit: 'kW', value: 10 * i + (m % 7), ts }, { metric: 'active_energy_import', unit: 'kWh', value: 1000 + (i + 1) * m, ts }] });
        }
      }
      return out;
    };
    const publish = (evs: ReadingBatchEvent[]) => bus.publish(evs.map((e) => ({ topic: topics.readings.name, key: e.meter, value: JSON.stringify(e) })));
    await publish([...events(single, 0, 40), ...events(shared, 0, 40)]);
    const parkWindow = (park: TestPark, metric: string, size: string, offset: number) => `park:${park.park}:${metric}:${size}:${base + offset * minute}`;
    const diagnose = async (err: unknown): Promise<never> => {
      const counts = watches.map((w, k) => `${k === 0 ? 'one' : 'two'}: ${w.byId.size} windows, ${[...w.byId.values()].filter((e) => e.scope !== 'meter').length} roll-ups, park 15m: ${JSON.stringify(w.byId.get(parkWindow(k === 0 ? single : shared, 'active_power', '15m', 0)))}, park 1m: ${[...w.byId.values()].filter((e) => e.scope === 'park' && e.window === '1m' && e.metric === 'active_power').map((e) => `${(e.start - base) / minute}:${e.count}`).join(' ')}`);
      const logs = [one, ...pair].map((svc) => svc.output().slice(-2500)).join('\n---\n');
      throw new Error(`${(err as Error).message} (${counts.join('; ')})\n${logs}`);
    };
    await waitFor(() => watches.every((w, k) => w.byId.get(parkWindow(k === 0 ? single : shared, 'active_power', '15m', 0))?.count === 15 * meters), 90_000, 'the first park quarter-hour from both', 200).catch(diagnose);

    await pair[victim]!.stop('SIGKILL');
    await publish([...events(single, 40, 70), ...events(shared, 40, 70)]);
    const done = (k: number): boolean => {
      const p = k === 0 ? single : shared;
      return watches[k]!.byId.get(parkWindow(p, 'active_power', '1h', 0))?.count === 60 * meters && watches[k]!.byId.get(parkWindow(p, 'active_power', '1m', 68))?.count === meters;
    };
    await waitFor(() => done(0) && done(1), 150_000, 'the hour and minute 68 closed for both parks (the survivor after the session timeout)', 200).catch(diagnose);
    await waitFor(async () => (await held(survivor)).length === partitions, 60_000, 'the survivor holding every partition', 200);

    // Every window that ended by minute 65, with the park's ids replaced: the same set, the same numbers.
    const normalise = (park: TestPark) => (id: string): string => {
      let out = id.replace(park.park, 'P').replace(park.tenants[0], 'T0');
      park.meters.forEach((m, i) => { out = out.replace(`:${m}:`, `:M${i}:`); });
      return out.replace(String(base), 'B');
    };
    const view = (k: number): Record<string, unknown> => {
      const p = k === 0 ? single : shared;
      const n = normalise(p);
      const out: Record<string, unknown> = {};
      for (const [id, e] of watches[k]!.byId) {
        if (e.end > base + 65 * minute) continue;
        out[`${n(id)}@${e.start - base}`] = [e.count, e.sum, e.min, e.max, e.last, e.consumption, e.registerEvents.join(','), e.completeness, e.simulated];
      }
      return out;
    };
    const sorted = (v: Record<string, unknown>): string => JSON.stringify(Object.keys(v).sort().map((k) => [k, v[k]]));
    // Revisions may still be on their way (a roll-up closed while a partition was away, then revised): give them time, then compare.
    await waitFor(() => sorted(view(0)) === sorted(view(1)), 60_000, 'the two views agreeing', 500).catch(() => undefined);
    const a = view(0);
    const b = view(1);
    assert.ok(Object.keys(a).length > 500, `windows compared: ${Object.keys(a).length}`);
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), 'the same windows');
    for (const id of Object.keys(a)) assert.deepEqual(b[id], a[id], id);

    // And the numbers themselves, computed here.
    const tenantHour = watches[1]!.byId.get(`tenant:${shared.tenants[0]}:active_power:1h:${base}`)!;
    let sum = 0;
    for (let m = 0; m < 60; m++) for (let i = 0; i < meters; i++) sum += 10 * i + (m % 7);
    assert.deepEqual([tenantHour.count, tenantHour.sum, tenantHour.min, tenantHour.max], [60 * meters, sum, 0, 10 * (meters - 1) + 6]);
    assert.equal(tenantHour.last, 10 * (meters - 1) + (59 % 7), 'last: the latest reading of the hour (the last meter, a second after the others)');
    const parkEnergy = watches[1]!.byId.get(parkWindow(shared, 'active_energy_import', '1h', 0))!;
    assert.equal(parkEnergy.consumption, Array.from({ length: meters }, (_, i) => (i + 1) * 59).reduce((x, y) => x + y, 0));
    for (const svc of [one, survivor]) assert.equal(await metricValue(svc.opsUrl, 'eip_aggregator_readings_total', { outcome: 'late' }), 0, 'nothing dropped as late');
    const stored = await store.queryStoredAggregates({ scope: { park: shared.park, tenant: shared.tenants[0] }, aggregateScope: 'tenant', metric: 'active_power', window: '1h', from: base, to: base + 3_600_000 });
    assert.deepEqual(stored.map((s) => [s.start, s.count, s.sum]), [[base, 60 * meters, sum]], 'the tenant hour in InfluxDB');
  });
});
