/**
 * The reporting service's SPARING submissions against real Kafka, with the
 * stand-in receiver: a full hour is one signed batch of 30; an hour with a
 * 10-minute outage is 25 records (25/30) and the logger's 5 resent records
 * follow as a revision; a receiver that takes deliveries without answering and
 * then is down, across a SIGKILL of the service, gets every 2-minute record
 * exactly once; a wrong secret is refused (401) and shows as refused on the
 * submissions topic.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { submissionKey, submissionRecordSchema, type SubmissionRecord } from '../../shared/contracts/submissions.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { verifyHs256 } from '../../services/reporting/domain/jwt.ts';
import { sparingPayloadSchema, type SparingPayload } from '../../services/reporting/domain/bodies.ts';
import { startReceiver, type Receiver } from '../../simulators/receiver/receiver.ts';
import { kafkaBrokers } from '../helpers/servers.ts';
import { startService, freePort, metricValue, type ServiceProcess } from '../helpers/service-process.ts';
import { waitFor } from '../helpers/bus.ts';

const logger = quietLogger('reporting-sparing-test');
const hour = 3_600_000;
const slot = 120_000;

describe('reporting: SPARING against real Kafka and the stand-in receiver', { timeout: 240_000 }, () => {
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const park = `itest-${tag}`;
  const tenant = `wwtp-${tag}`;
  const secret = `itest-secret-${tag}`;
  const stations = { full: `S-FULL-${tag}`, gap: `S-GAP-${tag}`, down: `S-DOWN-${tag}`, bad: `S-BAD-${tag}` };
  const meterOf = (uid: string): string => `m-${uid.toLowerCase()}`;
  const dir = mkdtempSync(join(tmpdir(), 'eip-reporting-'));
  const registryPath = join(dir, 'registry.json');
  const secretsPath = join(dir, 'sparing-secrets.json');
  // Hours well in the past (closed by the clock) but inside the lookback.
  const base = Math.floor(Date.now() / hour) * hour - 5 * hour;
  let bus: EventBus;
  let receiver: Receiver;
  let service: ServiceProcess | undefined;
  const group = `reporting-${tag}`;
  let seq = 0;

  before(async () => {
    writeFileSync(registryPath, JSON.stringify({
      version: 1,
      parks: [{
        id: park, name: 'reporting test park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
        emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'test' } },
        tenants: [{
          id: tenant, name: 'WWTP', sector: 'wastewater', supplySource: 'grid',
          meters: Object.values(stations).map((uid) => ({ id: meterOf(uid), kind: 'wastewater-quality', cadenceSeconds: 120, metrics: ['ph', 'cod', 'tss', 'nh3n', 'water_flow'], sparingUid: uid })),
        }],
      }],
    }));
    // The bad station signs with a secret the receiver does not know.
    writeFileSync(secretsPath, JSON.stringify({ [stations.bad]: `wrong-secret-${tag}` }));
    receiver = await startReceiver({ secretOf: (uid) => (Object.values(stations).includes(uid) ? secret : undefined) });
    bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'reporting-sparing-test', logger });
    service = await startReporting();
  });
  after(async () => {
    await service?.stop('SIGTERM');
    await bus.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startReporting(): Promise<ServiceProcess> {
    const svc = await startService('reporting', {
      BUS: 'kafka', KAFKA_BROKERS: kafkaBrokers.join(','), PARK_REGISTRY: registryPath, DATA_DIR: dir, REPORTING_GROUP: group,
      SPARING_URL: `${receiver.url}/sparing`, SISPEK_URL: `${receiver.url}/sispek`, SISPEK: 'false',
      SPARING_SECRET: secret, SPARING_SECRETS_FILE: secretsPath, SPARING_SCHEDULE: `hourly,${stations.down}=2min`,
      REPORTING_START_FROM: 'latest', SPARING_CLOSE_AFTER_MS: '0', REPORTING_TICK_MS: '100', REPORTING_SETTLE_MS: '1000',
      REPORTING_RETRY_INITIAL_MS: '200', REPORTING_RETRY_MAX_MS: '1000', RECEIVER_TIMEOUT_MS: '1000',
    }, freePort());
    await consuming(svc);
    return svc;
  }

  /**
   * A new group starts at the topic's end (the shared topic holds every other
   * run's readings): a probe for a meter no registry has shows when the
   * consumer is in place, so nothing published afterwards falls before its start.
   */
  async function consuming(svc: ServiceProcess): Promise<void> {
    const before = await metricValue(svc.opsUrl, 'eip_reporting_records_total');
    await waitFor(async () => {
      const probe: ReadingBatchEvent = { v: 1, park, tenant, meter: `probe-${tag}`, seq: seq++, receivedAt: Date.now(), simulated: false, readings: [{ metric: 'ph', unit: 'pH', value: 7, ts: Date.now() }] };
      await bus.publish([{ topic: topics.readings.name, key: probe.meter, value: JSON.stringify(probe) }]);
      return (await metricValue(svc.opsUrl, 'eip_reporting_records_total')) > before;
    }, 45_000, 'the reporting consumer in place', 500);
  }

  /** The logger's record of one slot: every parameter, values with more decimals than the wire keeps. */
  function slotEvent(uid: string, ts: number, i: number): ReadingBatchEvent {
    return {
      v: 1, park, tenant, meter: meterOf(uid), seq: seq++, receivedAt: ts, simulated: false,
      readings: [
        { metric: 'ph', unit: 'pH', value: 7 + i / 1000 + 0.004321, ts },
        { metric: 'cod', unit: 'mg/L', value: 40.005, ts },
        { metric: 'tss', unit: 'mg/L', value: 20 + i, ts },
        { metric: 'nh3n', unit: 'mg/L', value: 1.23456, ts },
        { metric: 'water_flow', unit: 'm3/h', value: 12.345678, ts },
      ],
    };
  }
  const publishSlots = (uid: string, hourStart: number, indexes: readonly number[]): Promise<void> =>
    bus.publish(indexes.map((i) => slotEvent(uid, hourStart + i * slot + 7_000, i)).map((e) => ({ topic: topics.readings.name, key: e.meter, value: JSON.stringify(e) })));
  const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

  const acceptedFor = (uid: string) => receiver.accepted().filter((a) => a.station === uid);
  async function outboxRecord(uid: string, periodStart: number): Promise<SubmissionRecord | undefined> {
    const all = await bus.readCompacted(topics.submissions.name);
    const raw = all.get(submissionKey({ kind: 'sparing', station: uid, periodStart }));
    return raw ? submissionRecordSchema.parse(JSON.parse(raw.toString())) : undefined;
  }

  it('sends an hour of 2-minute records as one signed batch of 30 that verifies', async () => {
    await publishSlots(stations.full, base, range(0, 30));
    await waitFor(() => acceptedFor(stations.full).length >= 1, 45_000, 'the full hour at the receiver', 100);
    const [got] = acceptedFor(stations.full);
    const verified = verifyHs256(got!.token!, secret);
    assert.ok(verified.ok, 'the token verifies with the station\'s secret');
    const payload: SparingPayload = sparingPayloadSchema.parse(verified.payload);
    assert.equal(payload.uid, stations.full);
    assert.equal(payload.data.length, 30);
    assert.deepEqual(payload.data.map((r) => r.datetime), range(0, 30).map((i) => (base + i * slot) / 1000), 'aligned to 2 minutes, in order');
    assert.deepEqual(payload.data[3], { datetime: (base + 3 * slot) / 1000, pH: 7.01, cod: 40.01, tss: 23, nh3n: 1.23, debit: 12.3457 });
    assert.equal(verifyHs256(got!.token!, 'another secret').ok, false);
    assert.equal(got!.idempotencyKey, `sparing:${stations.full}:${base}:r0`);
    await waitFor(async () => (await outboxRecord(stations.full, base))?.state === 'sent', 15_000, 'the outbox says sent', 200);
    const record = (await outboxRecord(stations.full, base))!;
    assert.deepEqual([record.records, record.expected, record.revision, record.receipt !== undefined], [30, 30, 0, true]);
    assert.equal(acceptedFor(stations.full).length, 1, 'sent once');
  });

  it('sends an hour with a 10-minute outage as 25 records (25/30), then the 5 resent records as its revision', async () => {
    const hourStart = base + hour;
    const outage = range(10, 15);
    await publishSlots(stations.gap, hourStart, range(0, 30).filter((i) => !outage.includes(i)));
    await waitFor(() => acceptedFor(stations.gap).length >= 1, 45_000, 'the hour with the outage', 100);
    const first = acceptedFor(stations.gap)[0]!.body as SparingPayload;
    assert.equal(first.data.length, 25, 'no slot invented');
    assert.ok(!first.data.some((r) => outage.some((i) => r.datetime === (hourStart + i * slot) / 1000)));
    await waitFor(async () => (await outboxRecord(stations.gap, hourStart))?.state === 'sent', 15_000, 'revision 0 sent', 200);
    const r0 = (await outboxRecord(stations.gap, hourStart))!;
    assert.deepEqual([r0.records, r0.expected, r0.revision], [25, 30, 0], 'completeness 25/30');

    // The logger resends what it buffered through the outage.
    await publishSlots(stations.gap, hourStart, outage);
    await waitFor(() => acceptedFor(stations.gap).length >= 2, 45_000, 'the revision with the resent records', 100);
    const second = acceptedFor(stations.gap)[1]!;
    const revised = second.body as SparingPayload;
    assert.equal(second.idempotencyKey, `sparing:${stations.gap}:${hourStart}:r1`);
    assert.equal(revised.data.length, 30);
    assert.equal(revised.period?.revision, 1);
    for (const i of outage) assert.ok(revised.data.some((r) => r.datetime === (hourStart + i * slot) / 1000), `slot ${i} is in the revision`);
    await waitFor(async () => (await outboxRecord(stations.gap, hourStart))?.revision === 1 && (await outboxRecord(stations.gap, hourStart))?.state === 'sent', 15_000, 'revision 1 sent', 200);
    assert.equal((await outboxRecord(stations.gap, hourStart))!.records, 30);
    assert.equal(acceptedFor(stations.gap).length, 2, 'each revision once');
  });

  it('delivers every record exactly once to a receiver that loses answers and is down for 20 minutes, across a SIGKILL', async () => {
    const start = base + 2 * hour;
    const slots = range(0, 10); // 20 minutes of 2-minute records, each its own submission
    receiver.setMode('timeout'); // takes deliveries, never answers: the service cannot know they arrived
    await publishSlots(stations.down, start, slots);
    await waitFor(() => acceptedFor(stations.down).length >= 3, 45_000, 'deliveries taken without an answer', 100);
    receiver.setMode('unavailable');
    await waitFor(async () => (await outboxRecord(stations.down, start))?.state === 'failed', 20_000, 'a failed attempt in the outbox', 200);
    await service!.stop('SIGKILL');
    service = await startReporting();
    // Down a little longer after the restart, then back.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    receiver.setMode('ok');
    await waitFor(async () => {
      const records = await Promise.all(slots.map((i) => outboxRecord(stations.down, start + i * slot)));
      return records.every((r) => r?.state === 'sent');
    }, 45_000, 'every slot sent', 300);
    const got = acceptedFor(stations.down);
    const datetimes = got.map((a) => (a.body as SparingPayload).data[0]!.datetime).sort((a, b) => a - b);
    assert.deepEqual(datetimes, slots.map((i) => (start + i * slot) / 1000), 'each record once, none lost');
    assert.equal(new Set(got.map((a) => a.idempotencyKey)).size, got.length);
    assert.ok(receiver.duplicates() >= 1, 'resends of deliveries whose answer was lost were recognised, not booked again');
  });

  it('shows a delivery signed with the wrong secret as refused (401), not retried', async () => {
    const hourStart = base + 3 * hour;
    await publishSlots(stations.bad, hourStart, range(0, 30));
    await waitFor(async () => (await outboxRecord(stations.bad, hourStart))?.state === 'refused', 45_000, 'a refused submission in the outbox', 200);
    const record = (await outboxRecord(stations.bad, hourStart))!;
    assert.match(record.lastError ?? '', /HTTP 401/);
    assert.equal(acceptedFor(stations.bad).length, 0);
    const refusals = receiver.refused().filter((r) => r.kind === 'sparing' && r.status === 401);
    assert.ok(refusals.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(receiver.refused().filter((r) => r.kind === 'sparing' && r.status === 401).length, refusals.length, 'a refusal is not retried');
  });
});
