/**
 * Clock-hour compliance on real Kafka and InfluxDB: a stack in a +05:45 zone
 * (the aggregator's 1 h windows start at :15 UTC there), 5-minute SO2 and O2
 * readings through the aggregator into the rules service's default pack. An
 * hour breaching only after O2 correction fires stack-so2-1h, an hour within
 * the permit after correction resolves it, and an hour of 8 of 12 records is
 * not judged but raises the completeness rule's data-quality alert.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { createInfluxStore } from '../../shared/adapters/influxdb/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { aggregateEventSchema, type AggregateEvent, type ReadingBatchEvent } from '../../shared/contracts/events.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { influx, kafkaBrokers } from '../helpers/servers.ts';
import { startService, freePort } from '../helpers/service-process.ts';
import { serviceGroups, startGroupsAtEnd } from '../helpers/kafka-groups.ts';
import { randomGroup, waitFor } from '../helpers/bus.ts';
import { alertEventSchema, type AlertEvent } from '../../shared/contracts/events.ts';

const logger = quietLogger('clock-hours-test');
const minute = 60_000;
const hour = 60 * minute;

describe('clock-hour SO2 means with O2 correction, on real Kafka and InfluxDB', { timeout: 300_000 }, () => {
  let bus: EventBus;
  const cleanup: Array<() => Promise<unknown>> = [];
  before(() => { bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'clock-hours-test', logger }); });
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    await bus.close();
  });

  it('judges the local clock hour, corrected with the same hour\'s O2, and reports an incomplete hour instead of judging it', async () => {
    const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const park = `chtest-${tag}`;
    const tenant = `ch-${tag}`;
    const stack = `stk-${tag}`;
    const dir = mkdtempSync(join(tmpdir(), 'eip-clock-hours-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const registry = join(dir, 'registry.json');
    writeFileSync(registry, JSON.stringify({ version: 1, parks: [{ id: park, name: 'clock hours', country: 'NP', timezone: 'Asia/Kathmandu', usedAreaHa: 10,
      emissionFactors: { grid: { kgCo2ePerKwh: 0.5, source: 'test' } },
      tenants: [{ id: tenant, name: 'T', sector: 'test', supplySource: 'grid', meters: [
        { id: stack, kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2', 'o2'], o2ReferencePercent: 7, limits: { so2: { max: 550, source: 'test permit SO2 550 mg/Nm3 at 7 % O2' } } },
      ] }] }] }));
    const common = {
      BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket, INFLUX_AGGREGATES_BUCKET: `${influx.bucket}_downsampled`, PARK_REGISTRY: registry, DATA_DIR: dir,
    };
    const group = randomGroup('ch');
    const watchGroup = randomGroup('ch-watch');
    await startGroupsAtEnd([...serviceGroups.aggregator(`agg-${group}`), ...serviceGroups.rules(group), [watchGroup, [topics.aggregates.name, topics.alerts.name]]]);
    const aggregates: AggregateEvent[] = [];
    const alerts: AlertEvent[] = [];
    const sub = await bus.subscribe({ groupId: watchGroup, topics: [topics.aggregates.name, topics.alerts.name], fromBeginning: true, handleBatch: async (b) => {
      for (const m of b.messages) {
        const json: unknown = JSON.parse(m.value?.toString() ?? 'null');
        const a = b.topic === topics.aggregates.name ? aggregateEventSchema.safeParse(json) : undefined;
        if (a?.success && a.data.park === park) aggregates.push(a.data);
        const e = b.topic === topics.alerts.name ? alertEventSchema.safeParse(json) : undefined;
        if (e?.success && e.data.park === park) alerts.push(e.data);
      }
    } });
    cleanup.push(() => sub.stop());
    const watch = { events: alerts, of: (rule: string) => alerts.filter((e) => e.ruleId === rule) };
    const aggregator = await startService('aggregator', { ...common, AGGREGATOR_GROUP: `agg-${group}`, ALLOWED_LATENESS_MS: String(hour), OUT_OF_ORDERNESS_MS: '0', IDLE_PARTITION_MS: '1500' }, freePort());
    cleanup.push(() => aggregator.stop('SIGTERM'));
    const rules = await startService('rules', { ...common, RULES_GROUP: group, ALERTS_MQTT: 'false', TICK_INTERVAL_MS: '500' }, freePort());
    cleanup.push(() => rules.stop('SIGTERM'));

    // Event times ahead of everyone's on the shared topic; a Kathmandu clock hour starts at :15 UTC.
    const h0 = Math.ceil(Date.now() / hour) * hour + 3 * hour + 15 * minute;
    let seq = 0;
    const readings = (h: number, slots: number[], so2: number, o2: number): ReadingBatchEvent => ({
      v: 1, park, tenant, meter: stack, seq: seq++, receivedAt: Date.now(), simulated: false,
      readings: slots.flatMap((i) => [
        { metric: 'so2', unit: 'mg/Nm3', value: so2, ts: h0 + h * hour + i * 5 * minute },
        { metric: 'o2', unit: '%', value: o2, ts: h0 + h * hour + i * 5 * minute },
      ]),
    });
    const all = Array.from({ length: 12 }, (_, i) => i);
    const publish = (e: ReadingBatchEvent) => bus.publish([{ topic: topics.readings.name, key: e.meter, value: JSON.stringify(e) }]);
    const so2Hour = (h: number) => aggregates.find((a) => a.scope === 'meter' && a.metric === 'so2' && a.window === '1h' && a.start === h0 + h * hour);

    // Hour 0: SO2 500 at 9 % O2, within 550 as measured, 583.3 at the reference 7 %.
    await publish(readings(0, all, 500, 9));
    await publish(readings(1, [0], 300, 7)); // the next hour's first record closes hour 0
    await waitFor(() => watch.of('stack-so2-1h').some((e) => e.state === 'firing'), 90_000, 'stack-so2-1h firing', 200).catch(async (err: unknown) => {
      const metrics = await fetch(`${aggregator.opsUrl}/metrics`).then((r) => r.text()).catch(() => '');
      throw new Error(`${String(err)}; aggregates seen: ${aggregates.map((a) => `${a.metric}:${a.window}:${(a.start - h0) / minute}:${a.count}`).join(' ')}; alerts: ${watch.events.map((e) => `${e.ruleId}:${e.state}`).join(' ')}; aggregator: ${metrics.split('\n').filter((l) => /readings_total|watermark_ms|emitted_total/.test(l) && !l.startsWith('#')).join(' | ')}; out: ${aggregator.output().slice(-2000)}`);
    });
    const fired = watch.of('stack-so2-1h').find((e) => e.state === 'firing')!;
    assert.equal(fired.severity, 'critical');
    assert.ok(Math.abs((fired.provenance.values[0] ?? 0) - 500 * 14 / 12) < 1e-9, `corrected ${fired.provenance.values[0]}`);
    assert.deepEqual(fired.provenance.window, { start: h0, end: h0 + hour });
    assert.equal(new Date(h0).getUTCMinutes(), 15, 'the local clock hour starts at :15 UTC');
    const first = so2Hour(0);
    assert.deepEqual([first?.count, first?.expected, first?.completeness], [12, 12, 1]);

    // Hour 1: SO2 600 at 3 % O2: above 550 as measured, 466.7 corrected: resolves.
    await publish(readings(1, all.slice(1), 600, 3));
    await publish(readings(2, [0], 300, 7));
    await waitFor(() => watch.of('stack-so2-1h').some((e) => e.state === 'resolved'), 90_000, 'stack-so2-1h resolved', 200);
    // Hour 1 mixes the 300 of its first record with eleven 600s: (300 + 6600) / 12 = 575 at O2 (7 + 33) / 12.
    const resolved = watch.of('stack-so2-1h').find((e) => e.state === 'resolved')!;
    assert.ok(Math.abs((resolved.provenance.values[0] ?? 0) - 575 * 14 / (21 - 40 / 12)) < 1e-9, `corrected ${resolved.provenance.values[0]}`);

    // Hour 2: 8 of 12 records at 900: incomplete, not judged; the completeness rules raise data-quality alerts.
    await publish(readings(2, [1, 2, 3, 4, 5, 6, 7], 900, 9));
    await publish(readings(3, [0], 300, 7));
    await waitFor(() => watch.of('stack-so2-completeness').some((e) => e.state === 'firing'), 90_000, 'completeness alert', 200);
    const dq = watch.of('stack-so2-completeness').find((e) => e.state === 'firing')!;
    assert.equal(dq.severity, 'data-quality');
    assert.deepEqual(dq.provenance.values, [8 / 12, 8, 12]);
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(watch.of('stack-so2-1h').map((e) => e.state), ['firing', 'resolved'], 'the incomplete hour of 900 mg/Nm3 is not judged');

    // The stored hour carries its completeness too.
    const store = createInfluxStore({ ...influx, aggregatesBucket: `${influx.bucket}_downsampled`, logger });
    try {
      const query = () => store.queryStoredAggregates({ scope: { park, meter: stack }, aggregateScope: 'meter', metric: 'so2', window: '1h', from: h0, to: h0 + 3 * hour });
      await waitFor(async () => (await query()).length === 3, 30_000, 'three stored hours', 200);
      const stored = await query();
      assert.deepEqual(stored.map((a) => [a.start - h0, a.count, a.expected, a.completeness]), [[0, 12, 12, 1], [hour, 12, 12, 1], [2 * hour, 8, 12, 8 / 12]]);
    } finally {
      await store.close();
    }
  });
});
