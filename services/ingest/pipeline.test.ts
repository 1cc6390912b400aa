/**
 * The pipeline on the embedded adapters (SQLite bus and store, in memory), with
 * faults injected in front of them: backpressure holds acknowledgements, failed
 * writes are retried until they pass, and every reading ends up in both sinks once.
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
import type { EventBus } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { waitFor } from '../../test/helpers/bus.ts';

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
    assert.equal((await metrics.retries.get()).values.find((v) => v.labels.sink === 'timeseries')?.value, 3);
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
});
