/**
 * The aggregator against real Kafka and InfluxDB: readings in, the expected
 * window aggregates out (topic and store); a SIGKILL mid-stream and a restart
 * lose nothing and change nothing; a late reading within the allowance revises
 * its window.
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
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { influx, kafkaBrokers } from '../helpers/servers.ts';
import { startService, freePort, metricValue, type ServiceProcess } from '../helpers/service-process.ts';
import { AggregateWatch } from '../helpers/aggregate-watch.ts';
import { serviceGroups, startGroupsAtEnd } from '../helpers/kafka-groups.ts';
import { makeTestPark, type TestPark } from '../helpers/test-park.ts';
import { waitFor } from '../helpers/bus.ts';

const logger = quietLogger('aggregator-test');
const minute = 60_000;

function event(park: TestPark, meter: number, seq: number, ts: number, power: number, energy: number): ReadingBatchEvent {
  return {
    v: 1, park: park.park, tenant: park.tenants[0], meter: park.meters[meter]!, seq, receivedAt: ts, simulated: false,
    readings: [{ metric: 'active_power', unit: 'kW', value: power, ts }, { metric: 'active_energy_import', unit: 'kWh', value: energy, ts }],
  };
}

describe('aggregator against real Kafka and InfluxDB', { timeout: 300_000 }, () => {
  let bus: EventBus;
  let store: TimeSeriesStore;
  let cleanup: Array<() => Promise<unknown>> = [];
  before(() => {
    bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'aggregator-test', logger });
    store = createInfluxStore({ ...influx, aggregatesBucket: `${influx.bucket}_downsampled`, logger });
  });
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    cleanup = [];
  });
  after(async () => { await bus.close(); await store.close(); });

  const env = (park: TestPark, group: string): Record<string, string> => ({
    BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org,
    INFLUX_BUCKET: influx.bucket, INFLUX_AGGREGATES_BUCKET: `${influx.bucket}_downsampled`, PARK_REGISTRY: park.registryPath, DATA_DIR: park.dir,
    AGGREGATOR_GROUP: group, ALLOWED_LATENESS_MS: String(30 * minute), OUT_OF_ORDERNESS_MS: '0', IDLE_PARTITION_MS: '1500', AGGREGATOR_BATCH_MAX: '5000',
  });
  async function startAggregator(park: TestPark, group: string): Promise<ServiceProcess> {
    const svc = await startService('aggregator', env(park, group), freePort());
    cleanup.push(() => svc.stop('SIGTERM'));
    return svc;
  }
  const publish = (events: ReadingBatchEvent[]) => bus.publish(events.map((e) => ({ topic: topics.readings.name, key: e.meter, value: JSON.stringify(e) })));

  it('emits per-meter, tenant and park windows to Kafka and InfluxDB, survives a SIGKILL, and revises a window for a late reading', async () => {
    const park = makeTestPark(2);
    cleanup.push(async () => rmSync(park.dir, { recursive: true, force: true }));
    const group = `agg-${randomBytes(4).toString('hex')}`;
    await startGroupsAtEnd(serviceGroups.aggregator(group));
    // Newer than anything else on the shared readings topic: an older run's later event times would make these late.
    const base = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 2 * 3_600_000;
    const watch = new AggregateWatch(bus, park.park);
    await watch.start();
    cleanup.push(() => watch.stop());
    // Meter 0: power 10 + i each minute, energy +2 kWh a minute; meter 1: power 100, energy +1.
    const events = (from: number, to: number): ReadingBatchEvent[] => {
      const out: ReadingBatchEvent[] = [];
      for (let i = from; i < to; i++) out.push(event(park, 0, i, base + i * minute, 10 + i, 1000 + 2 * i), event(park, 1, i, base + i * minute, 100, 500 + i));
      return out;
    };
    let agg = await startAggregator(park, group);
    await publish(events(0, 40));
    const first = `meter:${park.meters[0]}:active_power:15m:${base}`;
    await waitFor(() => watch.get(first) !== undefined, 60_000, 'first 15-minute window', 100);
    await agg.stop('SIGKILL');
    await publish(events(40, 70));
    agg = await startAggregator(park, group);
    const hour = `meter:${park.meters[0]}:active_power:1h:${base}`;
    // A window may be emitted and then revised as the other partition catches up: the latest revision counts.
    await waitFor(() => watch.get(hour)?.count === 60, 60_000, 'the first hour, complete, after the restart', 100);

    const w15 = watch.get(first)!;
    assert.deepEqual([w15.count, w15.min, w15.max, w15.sum, w15.last, w15.revision], [15, 10, 24, 255, 24, 0]);
    const h = watch.get(hour)!;
    assert.equal(h.count, 60, 'no reading lost or counted twice across the SIGKILL');
    assert.equal(await metricValue(agg.opsUrl, 'eip_aggregator_readings_total', { outcome: 'late' }), 0, 'nothing dropped as late');
    assert.equal(h.sum, Array.from({ length: 60 }, (_, i) => 10 + i).reduce((a, b) => a + b, 0));
    const energy = watch.get(`meter:${park.meters[0]}:active_energy_import:1h:${base}`)!;
    assert.equal(energy.consumption, 2 * 59, 'register difference within the first hour');
    // Roll-ups may be emitted before the slower partition caught up, then revised: the latest revision counts.
    const tenantId = `tenant:${park.tenants[0]}:active_power:1h:${base}`;
    await waitFor(() => watch.get(tenantId)?.count === 120, 30_000, 'tenant roll-up with both meters', 100);
    const tenantPower = watch.get(tenantId)!;
    assert.equal(tenantPower.max, 100);
    const parkId = `park:${park.park}:active_energy_import:1h:${base}`;
    await waitFor(() => watch.get(parkId)?.consumption === 2 * 59 + 59, 30_000, 'park roll-up with both meters', 100);
    const parkEnergy = watch.get(parkId)!;
    assert.equal(parkEnergy.consumption, 2 * 59 + 59);
    assert.ok(Math.abs((watch.get(`meter:${park.meters[0]}:active_power:1m:${base}`)!.completeness ?? 0) - 1) < 1e-9);
    const distinctRevisions = new Set(watch.all.filter((a) => a.windowId === first).map((a) => `${a.revision}:${a.sum}`));
    assert.equal(distinctRevisions.size, 1, 'a replay after the restart produced the same window, not a different one');

    // A reading 10 minutes late, inside the 30-minute allowance, revises its window.
    const lateTs = base + 65 * minute + 30_000;
    await publish([event(park, 1, 1000, lateTs, 400, 565.5)]);
    const late1m = `meter:${park.meters[1]}:active_power:1m:${base + 65 * minute}`;
    await publish(events(70, 72));
    await waitFor(() => (watch.get(late1m)?.revision ?? 0) >= 1, 60_000, 'revised window', 100);
    const revised = watch.get(late1m)!;
    assert.deepEqual([revised.count, revised.max, revised.revision], [2, 400, 1]);
    assert.ok((await metricValue(agg.opsUrl, 'eip_aggregator_aggregates_emitted_total')) > 0);

    const stored = await store.queryStoredAggregates({ scope: { park: park.park, meter: park.meters[0]! }, aggregateScope: 'meter', metric: 'active_power', window: '15m', from: base, to: base + 3_600_000 });
    assert.deepEqual(stored.map((s) => [s.start, s.count, s.sum]), [[base, 15, 255], [base + 15 * minute, 15, 480], [base + 30 * minute, 15, 705], [base + 45 * minute, 15, 930]]);
  });
});
