/**
 * The reporting service's SISPEK-style hourly averages against real Kafka,
 * with the stand-in receiver: the stacks' 1 h meter windows (as the aggregator
 * publishes them on eip.aggregates.v1) become one body per stack hour; an hour
 * with 9 of 12 five-minute SO2 values is marked incomplete, the O2-corrected
 * mean uses the same hour's O2 mean, a stack in a declared maintenance period
 * is flagged so, and a revised window is resent as a revision. The last case
 * runs the whole way: a stack's 5-minute readings through the aggregator (on
 * Kafka and InfluxDB) into its clock-hour windows, and on to the receiver.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { AggregateEvent, ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { submissionKey, submissionRecordSchema, type SubmissionRecord } from '../../shared/contracts/submissions.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import type { SispekBody } from '../../services/reporting/domain/bodies.ts';
import { startReceiver, type Receiver } from '../../simulators/receiver/receiver.ts';
import { influx, kafkaBrokers } from '../helpers/servers.ts';
import { serviceGroups, startGroupsAtEnd } from '../helpers/kafka-groups.ts';
import { startService, freePort, metricValue, type ServiceProcess } from '../helpers/service-process.ts';
import { waitFor } from '../helpers/bus.ts';

const logger = quietLogger('reporting-sispek-test');
const hour = 3_600_000;
const fiveMinutes = 300_000;

describe('reporting: SISPEK-style hourly averages against real Kafka and the stand-in receiver', { timeout: 240_000 }, () => {
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const park = `itest-${tag}`;
  const tenant = `smelter-${tag}`;
  const stack = `stack-${tag}`;
  const serviced = `stack-maint-${tag}`;
  const aggregated = `stack-agg-${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'eip-reporting-'));
  const registryPath = join(dir, 'registry.json');
  const base = Math.floor(Date.now() / hour) * hour - 3 * hour;
  let bus: EventBus;
  let receiver: Receiver;
  let service: ServiceProcess | undefined;
  let aggregator: ServiceProcess | undefined;

  before(async () => {
    const meter = (id: string) => ({ id, kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2', 'o2'], o2ReferencePercent: 7, limits: { so2: { max: 550, source: 'test' } } });
    writeFileSync(registryPath, JSON.stringify({
      version: 1,
      parks: [{
        id: park, name: 'reporting test park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
        emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'test' } },
        tenants: [{ id: tenant, name: 'Smelter', sector: 'nickel', supplySource: 'grid', meters: [meter(stack), meter(serviced), meter(aggregated)] }],
      }],
    }));
    receiver = await startReceiver({ secretOf: () => undefined });
    bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'reporting-sispek-test', logger });
    service = await startService('reporting', {
      BUS: 'kafka', KAFKA_BROKERS: kafkaBrokers.join(','), PARK_REGISTRY: registryPath, DATA_DIR: dir, REPORTING_GROUP: `reporting-${tag}`,
      REPORTING_START_FROM: 'latest', SPARING: 'false', SPARING_URL: `${receiver.url}/sparing`, SISPEK_URL: `${receiver.url}/sispek`,
      SISPEK_CLOSE_AFTER_MS: '0', SISPEK_RANGES: 'so2=1000', REPORTING_TICK_MS: '100', REPORTING_SETTLE_MS: '500',
      MAINTENANCE_PERIODS: `${serviced}=${new Date(base + 20 * 60_000).toISOString()}/${new Date(base + 50 * 60_000).toISOString()}`,
    }, freePort());
    // A new group starts at the topic's end: a probe window for an unknown meter shows the consumer is in place.
    const before = await metricValue(service.opsUrl, 'eip_reporting_records_total');
    await waitFor(async () => {
      await publish([window(`probe-${tag}`, 'o2', [1], 0)]);
      return (await metricValue(service!.opsUrl, 'eip_reporting_records_total')) > before;
    }, 45_000, 'the reporting consumer in place', 500);
  });
  after(async () => {
    await aggregator?.stop('SIGTERM');
    await service?.stop('SIGTERM');
    await bus.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The 1 h meter window the aggregator makes of these 5-minute values. */
  function window(meter: string, metric: 'so2' | 'o2', values: readonly number[], revision: number): AggregateEvent {
    const sum = values.reduce((a, b) => a + b, 0);
    return {
      v: 1, windowId: `meter:${meter}:${metric}:1h:${base}`, revision, scope: 'meter', park, tenant, meter, metric, unit: metric === 'o2' ? '%' : 'mg/Nm3',
      window: '1h', start: base, end: base + hour, count: values.length, sum, min: Math.min(...values), max: Math.max(...values), mean: sum / values.length,
      last: values[values.length - 1]!, registerEvents: [], completeness: values.length / 12, expected: hour / fiveMinutes, simulated: false,
    };
  }
  const publish = (windows: AggregateEvent[]): Promise<void> => bus.publish(windows.map((w) => ({ topic: topics.aggregates.name, key: w.meter ?? null, value: JSON.stringify(w) })));
  const bodiesOf = (id: string): SispekBody[] => receiver.accepted().filter((a) => a.kind === 'sispek' && a.station === id).map((a) => a.body as SispekBody);
  async function outboxRecord(id: string): Promise<SubmissionRecord | undefined> {
    const raw = (await bus.readCompacted(topics.submissions.name)).get(submissionKey({ kind: 'sispek', station: id, periodStart: base }));
    return raw ? submissionRecordSchema.parse(JSON.parse(raw.toString())) : undefined;
  }

  it('marks a stack hour with 9 of 12 five-minute values incomplete, corrects to the reference O2, and resends a revised window as a revision', async () => {
    const so2 = [300, 310, 320, 330, 340, 350, 360, 370, 380]; // 9 of 12: three 5-minute values missing
    const o2 = Array.from({ length: 12 }, (_, i) => 9 + (i % 3)); // mean 10 %
    await publish([window(stack, 'so2', so2, 0), window(stack, 'o2', o2, 0)]);
    await waitFor(() => bodiesOf(stack).length >= 1, 30_000, 'the stack hour at the receiver', 100);
    const body = bodiesOf(stack)[0]!;
    assert.equal(body.start, new Date(base).toISOString());
    assert.equal(body.o2ReferencePercent, 7);
    const s = body.parameters.find((p) => p.parameter === 'so2')!;
    assert.deepEqual([s.count, s.expected, s.validity], [9, 12, 'incomplete']);
    assert.equal(s.mean, 340);
    // 340 * (21 - 7) / (21 - 10), to 2 decimals.
    assert.equal(s.corrected, Math.round((340 * 14 / 11) * 100) / 100);
    const o = body.parameters.find((p) => p.parameter === 'o2')!;
    assert.deepEqual([o.count, o.validity, o.mean], [12, 'valid', 10]);
    await waitFor(async () => (await outboxRecord(stack))?.state === 'sent', 15_000, 'the outbox says sent', 200);

    // The logger's late values complete the hour: the aggregator revises the window, the hour goes again.
    await publish([window(stack, 'so2', [...so2, 390, 400, 410], 1)]);
    await waitFor(() => bodiesOf(stack).length >= 2, 30_000, 'the revised hour', 100);
    const revised = bodiesOf(stack)[1]!;
    assert.equal(revised.revision, 1);
    const s2 = revised.parameters.find((p) => p.parameter === 'so2')!;
    assert.deepEqual([s2.count, s2.validity, s2.windowRevision], [12, 'valid', 1]);
    await waitFor(async () => (await outboxRecord(stack))?.revision === 1 && (await outboxRecord(stack))?.state === 'sent', 15_000, 'revision 1 sent', 200);
    assert.equal(bodiesOf(stack).length, 2, 'each revision once');
  });

  it('flags a stack hour overlapping a maintenance period, and a value past the analyser\'s range', async () => {
    await publish([window(serviced, 'so2', Array.from({ length: 12 }, () => 200), 0), window(serviced, 'o2', Array.from({ length: 12 }, () => 8), 0)]);
    await waitFor(() => bodiesOf(serviced).length >= 1, 30_000, 'the serviced stack hour', 100);
    assert.ok(bodiesOf(serviced)[0]!.parameters.every((p) => p.validity === 'maintenance'));
    await publish([window(stack, 'so2', Array.from({ length: 12 }, (_, i) => (i === 4 ? 1200 : 300)), 2)]);
    await waitFor(() => bodiesOf(stack).length >= 3, 30_000, 'the hour with a value past the range', 100);
    const s = bodiesOf(stack)[2]!.parameters.find((p) => p.parameter === 'so2')!;
    assert.equal(s.validity, 'out-of-range');
    assert.match(s.reason ?? '', /analyser's range \(1000\)/);
  });

  it('takes a stack\'s 5-minute readings through the aggregator, Kafka and InfluxDB: 9 of 12 SO2 values make an incomplete hour, corrected with the same hour\'s O2', async () => {
    const group = `agg-sispek-${tag}`;
    await startGroupsAtEnd(serviceGroups.aggregator(group));
    aggregator = await startService('aggregator', {
      BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket, INFLUX_AGGREGATES_BUCKET: `${influx.bucket}_downsampled`, PARK_REGISTRY: registryPath, DATA_DIR: dir,
      AGGREGATOR_GROUP: group, ALLOWED_LATENESS_MS: String(hour), OUT_OF_ORDERNESS_MS: '0', IDLE_PARTITION_MS: '1500',
    }, freePort());
    const so2 = new Map([0, 1, 2, 4, 5, 7, 8, 9, 11].map((slot, i) => [slot, 300 + 10 * i])); // slots 3, 6 and 10 missing: mean 340
    let seq = 0;
    const reading = (slot: number): ReadingBatchEvent => {
      const ts = base + slot * fiveMinutes + 30_000;
      const readings = [{ metric: 'o2', unit: '%', value: 9 + (slot % 3), ts }, ...(so2.has(slot) ? [{ metric: 'so2', unit: 'mg/Nm3', value: so2.get(slot)!, ts }] : [])];
      return { v: 1, park, tenant, meter: aggregated, seq: seq++, receivedAt: ts, simulated: false, readings };
    };
    // The hour's twelve slots, then one of the next hour, which closes it (the series' own event time).
    const events = [...Array.from({ length: 12 }, (_, slot) => reading(slot)), { ...reading(12), readings: [{ metric: 'so2', unit: 'mg/Nm3', value: 300, ts: base + hour + 30_000 }, { metric: 'o2', unit: '%', value: 9, ts: base + hour + 30_000 }] }];
    await bus.publish(events.map((e) => ({ topic: topics.readings.name, key: e.meter, value: JSON.stringify(e) })));
    await waitFor(() => bodiesOf(aggregated).length >= 1, 90_000, 'the aggregated stack hour at the receiver', 200);
    const body = bodiesOf(aggregated)[0]!;
    assert.equal(body.start, new Date(base).toISOString());
    const s = body.parameters.find((p) => p.parameter === 'so2')!;
    assert.deepEqual([s.count, s.expected, s.validity, s.mean], [9, 12, 'incomplete', 340]);
    assert.equal(s.corrected, Math.round((340 * 14 / 11) * 100) / 100);
    const o = body.parameters.find((p) => p.parameter === 'o2')!;
    assert.deepEqual([o.count, o.validity, o.mean], [12, 'valid', 10]);
  });
});
