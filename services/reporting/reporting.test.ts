/**
 * The runtime on the embedded SQLite bus with the stand-in receiver, on an
 * injected clock: an hour of records goes out once signed; a restart reads the
 * outbox back and neither resends what was accepted nor forgets what was not.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { deadLetterSchema, type DeadLetter, type ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { submissionRecordSchema } from '../../shared/contracts/submissions.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { recordingSupervisor } from '../../test/helpers/supervisor.ts';
import { waitFor } from '../../test/helpers/bus.ts';
import { startReceiver } from '../../simulators/receiver/receiver.ts';
import { createReportingMetrics } from './metrics.ts';
import { deliver } from './receiver-client.ts';
import { ReportingRuntime, type SparingStation } from './reporting.ts';
import type { SparingPayload } from './domain/bodies.ts';

const logger = quietLogger('reporting-unit');
const hour = Date.UTC(2026, 10, 27, 2);
const station: SparingStation = { uid: 'S-1', park: 'p', tenant: 't', meter: 'm1', mode: 'hourly', secret: 'unit-secret-0123456789' };
type Bus = ReturnType<typeof createSqliteBus>;

function newRuntime(bus: Bus, receiverUrl: string, now: () => number, resendRefused = false, metrics = createReportingMetrics(createMetricsRegistry('reporting-unit'))): ReportingRuntime {
  return new ReportingRuntime({
    bus, logger, resendRefused, supervisor: recordingSupervisor(), metrics, group: 'reporting', fromBeginning: true,
    stations: new Map([['m1', station]]), stacks: new Map([['stack-1', { stack: 'ST-1', park: 'p', metrics: ['so2'], cadenceSeconds: 300, ranges: new Map() }]]), maintenance: [], sparingUrl: `${receiverUrl}/sparing`, sispekUrl: `${receiverUrl}/sispek`, debitUnit: 'm3/h',
    lookbackMs: 400 * 86_400_000, tickMs: 20, settleMs: 1_000, sparingCloseAfterMs: 300_000, sispekCloseAfterMs: 600_000, receiverTimeoutMs: 2_000,
    retryPolicy: { initialMs: 10, factor: 2, maxMs: 50, maxAttempts: Infinity, jitter: 0 }, deliver, now,
  });
}

function event(i: number, seq: number): ReadingBatchEvent {
  const ts = hour + i * 120_000;
  return { v: 1, park: 'p', tenant: 't', meter: 'm1', seq, receivedAt: ts, simulated: false, readings: ['ph', 'cod', 'tss', 'nh3n', 'water_flow'].map((metric) => ({ metric, unit: 'x', value: 7 + i, ts })) };
}

it('sends an hour once on the embedded bus, resumes only what is not accepted after a restart, and resends a refusal only when told to', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eip-reporting-unit-'));
  const receiver = await startReceiver({ secretOf: (uid) => (uid === 'S-1' ? station.secret : undefined) });
  let now = hour + 3_600_000 + 60_000;
  const runtime = (bus: Bus, resendRefused = false): ReportingRuntime => newRuntime(bus, receiver.url, () => now, resendRefused);
  let bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger });
  let rt = runtime(bus);
  try {
    await rt.start();
    await bus.publish(Array.from({ length: 30 }, (_, i) => ({ topic: topics.readings.name, key: 'm1', value: JSON.stringify(event(i, i)) })));
    await waitFor(() => rt.snapshot().some((r) => r.records === 30), 10_000, 'the hour built');
    assert.equal(receiver.accepted().length, 0, 'not sent while its content is still settling');
    now += 1_000;
    await waitFor(() => rt.snapshot()[0]?.state === 'sent', 10_000, 'the hour sent');
    assert.equal(receiver.accepted().length, 1);
    assert.equal((receiver.accepted()[0]!.body as SparingPayload).data.length, 30);
    // The receiver is down when the next hour's records come.
    receiver.setMode('unavailable');
    await bus.publish([{ topic: topics.readings.name, key: 'm1', value: JSON.stringify(event(30, 30)) }]);
    await waitFor(() => rt.snapshot().some((r) => r.periodStart === hour + 3_600_000), 10_000, 'the next hour built');
    now += 2 * 3_600_000; // past the next hour and its close-after
    await waitFor(() => rt.snapshot().some((r) => r.periodStart === hour + 3_600_000 && r.state === 'failed'), 10_000, 'the next hour failed');
    await rt.stop();
    await bus.close();

    receiver.setMode('ok');
    bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger });
    rt = runtime(bus);
    await rt.start();
    await waitFor(() => rt.snapshot().every((r) => r.state === 'sent'), 10_000, 'resumed and sent');
    assert.deepEqual(receiver.accepted().map((a) => a.idempotencyKey), [`sparing:S-1:${hour}:r0`, `sparing:S-1:${hour + 3_600_000}:r0`], 'each hour once, the accepted one not resent');
    const stored = [...(await bus.readCompacted(topics.submissions.name)).values()].map((v) => submissionRecordSchema.parse(JSON.parse(v.toString())));
    assert.deepEqual(stored.map((r) => [r.periodStart, r.state, r.records]).sort(), [[hour, 'sent', 30], [hour + 3_600_000, 'sent', 1]]);

    // Refused (the receiver's secret changed), then resent at a restart told to.
    receiver.setMode('refuse');
    await bus.publish([{ topic: topics.readings.name, key: 'm1', value: JSON.stringify(event(60, 60)) }]);
    await waitFor(() => rt.snapshot().some((r) => r.periodStart === hour + 2 * 3_600_000), 10_000, 'the third hour built');
    now += 2 * 3_600_000;
    await waitFor(() => rt.snapshot().some((r) => r.periodStart === hour + 2 * 3_600_000 && r.state === 'refused'), 10_000, 'the third hour refused');
    receiver.setMode('ok');
    await rt.stop();
    await bus.close();
    bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger });
    rt = runtime(bus);
    await rt.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(rt.snapshot().find((r) => r.periodStart === hour + 2 * 3_600_000)?.state, 'refused', 'a refusal stays one across a plain restart');
    await rt.stop();
    await bus.close();
    bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger });
    rt = runtime(bus, true);
    await rt.start();
    await waitFor(() => rt.snapshot().find((r) => r.periodStart === hour + 2 * 3_600_000)?.state === 'sent', 10_000, 'resent when told to');
    assert.equal(receiver.accepted().length, 3);
  } finally {
    await rt.stop();
    await bus.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('dead-letters unreadable readings and aggregate records with their reason and source, and goes on with the rest of the batch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eip-reporting-unit-'));
  const receiver = await startReceiver({ secretOf: (uid) => (uid === 'S-1' ? station.secret : undefined) });
  const bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger });
  const registry = createMetricsRegistry('reporting-unit-dl');
  const rt = newRuntime(bus, receiver.url, () => hour + 3_600_000 + 60_000, false, createReportingMetrics(registry));
  const letters: DeadLetter[] = [];
  const watch = await bus.subscribe({ groupId: 'dl-watch', topics: [topics.deadLetters.name], fromBeginning: true, handleBatch: async (b) => {
    for (const m of b.messages) letters.push(deadLetterSchema.parse(JSON.parse(m.value!.toString())));
  } });
  try {
    await rt.start();
    const badReading = JSON.stringify({ ...event(0, 0), readings: 'none' });
    await bus.publish([
      { topic: topics.readings.name, key: 'm1', value: 'not json {' },
      { topic: topics.readings.name, key: 'm1', value: badReading },
      { topic: topics.readings.name, key: 'm1', value: JSON.stringify(event(1, 1)) },
      { topic: topics.aggregates.name, key: 'm1', value: JSON.stringify({ v: 1, scope: 'meter', window: '1h' }) },
    ]);
    await waitFor(() => letters.length === 3 && rt.snapshot().some((r) => r.records === 1), 10_000, 'three dead letters and the valid record used');
    assert.deepEqual(letters.map((l) => [l.stage, l.reason]), [['reporting', 'bad-event'], ['reporting', 'bad-event'], ['reporting', 'bad-event']]);
    const bySource = new Map(letters.map((l) => [l.source.split('/')[0], l]));
    assert.match(letters.find((l) => Buffer.from(l.payloadBase64, 'base64').toString() === 'not json {')?.detail ?? '', /^not JSON/);
    assert.match(letters.find((l) => Buffer.from(l.payloadBase64, 'base64').toString() === badReading)?.detail ?? '', /^readings event v1: .*readings/);
    assert.match(bySource.get(topics.aggregates.name)?.detail ?? '', /^aggregate event v1: /);
    assert.match(bySource.get(topics.aggregates.name)?.source ?? '', new RegExp(`^${topics.aggregates.name.replaceAll('.', '\\.')}/\\d+@\\d+$`));
    const metrics = await registry.getSingleMetricAsString('eip_reporting_records_total');
    assert.match(metrics, /topic="readings",outcome="invalid"[^}]*\} 2/);
    assert.match(metrics, /topic="aggregates",outcome="invalid"[^}]*\} 1/);
  } finally {
    await watch.stop();
    await rt.stop();
    await bus.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
