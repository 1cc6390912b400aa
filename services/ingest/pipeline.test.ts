/**
 * The pipeline on the embedded adapters (SQLite bus and store, in memory), with
 * faults injected in front of them: backpressure holds acknowledgements, failed
 * writes are retried until they pass, and every reading ends up in both sinks once;
 * a record a sink refuses is dead-lettered and the rest flows past it.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestPipeline } from './pipeline.ts';
import { Spool } from './spool.ts';
import { createIngestMetrics } from './metrics.ts';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { EipError } from '../../shared/errors.ts';
import { deadLetterSchema, type DeadLetter } from '../../shared/contracts/events.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import type { ReadingPoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { randomGroup, waitFor } from '../../test/helpers/bus.ts';

const logger = quietLogger();
const registry = loadParkRegistry(demoParkPath);
const topic = 'eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry';
const base = Date.UTC(2026, 10, 27, 8);
const msg = (seq: number): Buffer => Buffer.from(JSON.stringify({ v: 1, ts: base + seq * 120_000, seq, readings: [{ metric: 'ph', value: 7, unit: 'pH' }, { metric: 'cod', value: 40 + seq, unit: 'mg/L' }] }));

/** Fails the next `failures` calls of one method with a retriable error. */
function flaky<T extends object>(target: T, method: keyof T, state: { failures: number }): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (prop !== method || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
      return (...args: unknown[]) => {
        if (state.failures > 0) {
          state.failures--;
          return Promise.reject(new EipError('UNAVAILABLE', 'injected outage'));
        }
        return (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
      };
    },
  });
}

describe('ingest pipeline on embedded adapters', () => {
  let dir: string;
  let bus: EventBus;
  let store: TimeSeriesStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pipeline-'));
    bus = createSqliteBus({ path: ':memory:', logger });
    store = createSqliteStore({ path: ':memory:', logger });
  });
  afterEach(async () => {
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function pipeline(opts: { maxPending?: number; bus?: EventBus; store?: TimeSeriesStore } = {}) {
    const spool = Spool.open({ dir, logger });
    const metrics = createIngestMetrics(createMetricsRegistry('ingest-test'));
    const p = new IngestPipeline({
      spool, metrics, logger, bus: opts.bus ?? bus, store: opts.store ?? store,
      decode: { registry, maxFutureMs: 300_000, maxPastMs: 29 * 86_400_000, maxPayloadBytes: 65_536 },
      batchMaxMessages: 50, maxPending: opts.maxPending ?? 10_000, dedupWindow: 1024, now: () => base + 86_400_000,
    });
    return { p, spool, metrics };
  }

  async function stored(): Promise<number> {
    const r = await store.queryAggregate({ scope: { park: 'nusantara-eip', meter: 'wwtp-sparing-outlet' }, metric: 'cod', from: 0, to: base + 10 * 86_400_000, fn: 'count' });
    return r.reduce((s, b) => s + b.value, 0);
  }

  it('holds acknowledgements at the bound and releases them as the spool drains', async () => {
    const outage = { failures: 3 };
    const { p, spool, metrics } = pipeline({ maxPending: 20, store: flaky(store, 'writeReadings', outage) });
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) p.onMessage(topic, msg(i), () => acked.push(i));
    assert.equal(acked.length, 20);
    p.onMessage(topic, msg(20), () => acked.push(20));
    assert.equal(acked.length, 20, 'the 21st message is not acknowledged while the spool is full');
    assert.equal(spool.pending, 20);
    assert.equal((await metrics.backpressure.get()).values[0]?.value, 1);
    p.start();
    await waitFor(() => acked.length === 21, 30_000, 'held acknowledgement released');
    await waitFor(async () => (await stored()) === 21, 30_000, 'all stored');
    await p.stop();
    assert.equal(outage.failures, 0, 'the injected failures were met and retried');
    assert.equal((await metrics.sinks.retries.get()).values.find((v) => v.labels.stage === 'ingest' && v.labels.sink === 'timeseries' && v.labels.kind === 'retriable')?.value, 3);
    assert.equal(spool.pending, 0);
    spool.close();
  });

  it('produces every reading batch once to the bus even when the bus fails first', async () => {
    const outage = { failures: 2 };
    const { p, spool } = pipeline({ bus: flaky(bus, 'publish', outage) });
    for (let i = 0; i < 120; i++) p.onMessage(topic, msg(i), () => {});
    p.onMessage(topic, msg(5), () => {});
    p.onMessage('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/status', Buffer.from('{"status":"offline"}'), () => {});
    p.onMessage(topic, Buffer.from('garbage'), () => {});
    p.start();
    const seen = new Map<string, number>();
    const sub = await bus.subscribe({ groupId: 'check', topics: [topics.readings.name, topics.meterStatus.name, topics.deadLetters.name], handleBatch: async (b) => {
      seen.set(b.topic, (seen.get(b.topic) ?? 0) + b.messages.length);
    } });
    await waitFor(() => (seen.get(topics.readings.name) ?? 0) >= 120 && seen.has(topics.meterStatus.name) && seen.has(topics.deadLetters.name), 30_000, 'all events');
    await p.stop();
    await sub.stop();
    assert.equal(seen.get(topics.readings.name), 120, 'the duplicate of seq 5 was dropped');
    assert.equal(seen.get(topics.meterStatus.name), 1);
    assert.equal(seen.get(topics.deadLetters.name), 1);
    assert.equal(await stored(), 120);
    const state = await bus.readCompacted(topics.meterState.name);
    assert.equal((JSON.parse(state.get('wwtp-sparing-outlet')!.toString()) as { status: string }).status, 'offline');
    spool.close();
  });

  it('drains what a previous process spooled before it could write', async () => {
    const first = pipeline();
    for (let i = 0; i < 30; i++) first.p.onMessage(topic, msg(i), () => {});
    first.spool.close();
    const second = pipeline();
    assert.equal(second.spool.pending, 30);
    second.p.start();
    await waitFor(async () => (await stored()) === 30, 30_000, 'recovered messages stored');
    await second.p.stop();
    second.spool.close();
  });

  /** Readings events and dead letters on the bus, read from the beginning until at least the numbers expected are in. */
  async function onBus(expected: { readings: number; letters: number }): Promise<{ readings: number; letters: DeadLetter[] }> {
    let readings = 0;
    const letters: DeadLetter[] = [];
    const sub = await bus.subscribe({ groupId: randomGroup('check'), topics: [topics.readings.name, topics.deadLetters.name], fromBeginning: true, handleBatch: async (b) => {
      if (b.topic === topics.readings.name) readings += b.messages.length;
      else for (const m of b.messages) letters.push(deadLetterSchema.parse(JSON.parse(m.value!.toString())));
    } });
    await waitFor(() => readings >= expected.readings && letters.length >= expected.letters, 30_000, 'records on the bus');
    await sub.stop();
    return { readings, letters };
  }

  /** The SQLite store, with the readings of one meter message turned into a value it refuses (NaN) on their way in. */
  function poisoning(target: TimeSeriesStore, poisonTs: number): TimeSeriesStore {
    return new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver) as unknown;
        if (prop !== 'writeReadings') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
        return (points: readonly ReadingPoint[]) => obj.writeReadings(points.map((p) => (p.ts === poisonTs && p.metric === 'cod' ? { ...p, value: Number.NaN } : p)));
      },
    });
  }

  it('stores the valid records of a batch the store refuses, dead-letters the refused one with the store\'s reason, and keeps draining', async () => {
    const poisonSeq = 23;
    const { p, spool, metrics } = pipeline({ store: poisoning(store, base + poisonSeq * 120_000) });
    for (let i = 0; i < 40; i++) p.onMessage(topic, msg(i), () => {});
    p.start();
    await waitFor(() => spool.pending === 0, 30_000, 'the first batch drained');
    for (let i = 40; i < 60; i++) p.onMessage(topic, msg(i), () => {});
    await waitFor(() => spool.pending === 0, 30_000, 'a later batch drained');
    await p.stop();
    assert.equal(await stored(), 59, 'every cod reading but the refused one is stored');
    const ph = await store.queryAggregate({ scope: { park: 'nusantara-eip', meter: 'wwtp-sparing-outlet' }, metric: 'ph', from: 0, to: base + 10 * 86_400_000, fn: 'count' });
    assert.equal(ph.reduce((s, b) => s + b.value, 0), 59, 'the refused message is refused whole: its valid pH reading is not stored either');
    const { readings, letters } = await onBus({ readings: 59, letters: 1 });
    assert.equal(readings, 59, 'the bus holds the same records as the store: the refused one is not produced');
    assert.equal(letters.length, 1);
    const dl = letters[0]!;
    assert.equal(dl.reason, 'sink-refused');
    assert.equal(dl.stage, 'ingest');
    assert.equal(dl.source, topic);
    assert.match(dl.detail, /^timeseries refused it \(REJECTED\): reading #\d+: field value must be a finite number/);
    assert.deepEqual(JSON.parse(Buffer.from(dl.payloadBase64, 'base64').toString()), JSON.parse(msg(poisonSeq).toString()), 'the payload is the meter\'s message');
    assert.equal((await metrics.deadLettered.get()).values.find((v) => v.labels.reason === 'sink-refused')?.value, 1);
    assert.deepEqual((await metrics.sinks.refused.get()).values.map((v) => [v.labels, v.value]), [[{ stage: 'ingest', sink: 'timeseries', code: 'REJECTED' }, 1]]);
    assert.equal((await metrics.readingsWritten.get()).values[0]?.value, 118);
    spool.close();
  });

  it('a reading that overflows on unit conversion (1e306 MWh) in a batch of valid ones: the rest is stored, it is dead-lettered with a reason', async () => {
    const energy = 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry';
    const reading = (seq: number, value: number): Buffer => Buffer.from(JSON.stringify({ v: 1, ts: base + seq * 60_000, seq, readings: [{ metric: 'active_energy_import', value, unit: 'MWh' }] }));
    const { p, spool } = pipeline();
    for (let i = 0; i < 30; i++) p.onMessage(energy, reading(i, i === 10 ? 1e306 : 1000 + i), () => {});
    p.start();
    await waitFor(() => spool.pending === 0, 30_000, 'drained past the poison');
    for (let i = 30; i < 40; i++) p.onMessage(energy, reading(i, 1000 + i), () => {});
    await waitFor(() => spool.pending === 0, 30_000, 'a later batch drained');
    await p.stop();
    const r = await store.queryAggregate({ scope: { park: 'nusantara-eip', meter: 'snk-elec-main' }, metric: 'active_energy_import', from: 0, to: base + 10 * 86_400_000, fn: 'count' });
    assert.equal(r.reduce((s, b) => s + b.value, 0), 39);
    const { letters } = await onBus({ readings: 39, letters: 1 });
    // Refused by the store today; a decode that refuses non-finite values first gives it its own reason.
    assert.equal(letters.length, 1);
    assert.ok(letters[0]!.detail.length > 0);
    spool.close();
  });
});
