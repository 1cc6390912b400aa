/**
 * The pipeline's side of the spool's bounds, on the embedded adapters: a full
 * disk holds acknowledgements (the broker keeps the message), shows in the
 * metrics and one log line, and resumes unaided when space returns; the byte
 * bound holds acknowledgements like the message bound does.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestPipeline } from './pipeline.ts';
import { Spool } from './spool.ts';
import { createIngestMetrics, type IngestMetrics } from './metrics.ts';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { createLogger, quietLogger } from '../../shared/observability/logger.ts';
import { loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import type { SpoolFs } from './spool-fs.ts';
import { faultySpoolFs } from '../../test/helpers/spool-fs.ts';
import { waitFor } from '../../test/helpers/bus.ts';

const registry = loadParkRegistry(demoParkPath);
const topic = 'eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry';
const base = Date.UTC(2026, 10, 27, 8);
const msg = (seq: number, pad = 0): Buffer => Buffer.from(JSON.stringify({ v: 1, ts: base + seq * 120_000, seq, readings: [{ metric: 'cod', value: 40 + seq, unit: 'mg/L' }], ...(pad > 0 && { note: 'x'.repeat(pad) }) }));

/** Hands messages over as MQTT.js does: the next one only once the previous is acknowledged. */
function broker(p: IngestPipeline, messages: Buffer[]): { acked: number[] } {
  const acked: number[] = [];
  const send = (i: number): void => {
    if (i >= messages.length) return;
    p.onMessage(topic, messages[i]!, () => {
      acked.push(i);
      queueMicrotask(() => send(i + 1));
    });
  };
  send(0);
  return { acked };
}

const gauge = async (m: IngestMetrics, name: 'backpressure' | 'spoolBlocked'): Promise<number | undefined> => (await m[name].get()).values[0]?.value;

describe('ingest pipeline and the spool bounds', () => {
  let dir: string;
  let bus: EventBus;
  let store: TimeSeriesStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pipeline-spool-'));
    bus = createSqliteBus({ path: ':memory:', logger: quietLogger() });
    store = createSqliteStore({ path: ':memory:', logger: quietLogger() });
  });
  afterEach(async () => {
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function pipeline(opts: { fs?: SpoolFs; maxPending?: number; maxPendingBytes?: number; logLines?: string[]; groupCommit?: boolean } = {}) {
    const lines = opts.logLines;
    const logger = lines ? createLogger('ingest-test', 'info', { write: (l: string) => { lines.push(l); } }) : quietLogger();
    const spool = Spool.open({ dir, logger, ...(opts.fs && { fs: opts.fs }) });
    const metrics = createIngestMetrics(createMetricsRegistry('ingest-test'));
    const p = new IngestPipeline({
      spool, metrics, logger, bus, store,
      decode: { registry, maxFutureMs: 300_000, maxPastMs: 29 * 86_400_000, maxPayloadBytes: 65_536 },
      batchMaxMessages: 50, maxPending: opts.maxPending ?? 10_000, dedupWindow: 1024, now: () => base + 86_400_000,
      ...(opts.maxPendingBytes !== undefined && { maxPendingBytes: opts.maxPendingBytes }),
      appendRetry: { initialMs: 5, maxMs: 40 },
      ...(opts.groupCommit === true && { groupCommit: true }),
    });
    return { p, spool, metrics };
  }

  /** The seq of every stored reading, oldest first. */
  async function stored(): Promise<number[]> {
    const points = await store.queryReadings({ scope: { park: 'nusantara-eip', meter: 'wwtp-sparing-outlet' }, metric: 'cod', from: 0, to: base + 10 * 86_400_000 });
    return points.map((pt) => Math.round((pt.ts - base) / 120_000));
  }

  it('a full disk holds acknowledgements, says so once, and resumes by itself when space returns', async () => {
    const faults = faultySpoolFs();
    const lines: string[] = [];
    const { p, spool, metrics } = pipeline({ fs: faults.fs, logLines: lines });
    p.start();
    const messages = Array.from({ length: 40 }, (_, i) => msg(i));
    faults.failWrites('ENOSPC', { partialBytes: 10 });
    const { acked } = broker(p, messages);
    await waitFor(() => faults.refused >= 5, 10_000, 'several retried appends');
    assert.deepEqual(acked, [], 'nothing acknowledged while the disk is full');
    assert.equal(spool.pending, 0);
    assert.equal(await gauge(metrics, 'spoolBlocked'), 1);
    assert.equal(await gauge(metrics, 'backpressure'), 1);
    assert.equal(p.holding, true, 'holding, so the subscription probe expects no delivery');
    const errors = (await metrics.spoolWriteErrors.get()).values.find((v) => v.labels.code === 'ENOSPC')?.value ?? 0;
    assert.ok(errors >= 5, `write errors counted by code (${errors})`);
    faults.pass();
    await waitFor(() => acked.length === 40, 10_000, 'every message acknowledged once space returned');
    assert.deepEqual(acked, [...Array(40).keys()], 'in order, each once');
    await waitFor(async () => (await stored()).length === 40, 30_000, 'all stored');
    assert.deepEqual(await stored(), [...Array(40).keys()]);
    assert.equal(await gauge(metrics, 'spoolBlocked'), 0);
    assert.equal(await gauge(metrics, 'backpressure'), 0);
    assert.equal(p.holding, false);
    await p.stop();
    const said = (text: string): number => lines.filter((l) => l.includes(text)).length;
    assert.equal(said('spool append failed'), 1, 'one log line for the whole outage, not one per attempt');
    assert.equal(said('spool writable again'), 1);
    spool.close();
  });

  it('a message held on a full disk at shutdown stays unacknowledged for the broker to redeliver', async () => {
    const faults = faultySpoolFs();
    const { p, spool } = pipeline({ fs: faults.fs });
    p.start();
    faults.failWrites('EDQUOT');
    const { acked } = broker(p, [msg(0)]);
    await waitFor(() => faults.refused >= 2, 10_000, 'a retried append');
    await p.stop();
    faults.pass();
    const refusedAtStop = faults.refused;
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(acked, []);
    assert.equal(faults.refused, refusedAtStop, 'no retries after stop');
    assert.equal(spool.pending, 0);
    spool.close();
  });

  it('group commit: a burst is acknowledged at once and made durable by flush() in one write; a failed flush keeps none of it, and what follows is held until the disk takes it', async () => {
    const faults = faultySpoolFs();
    let writes = 0;
    const fs: SpoolFs = { ...faults.fs, write: (fd, data, offset, length) => { writes++; return faults.fs.write(fd, data, offset, length); } };
    const { p, spool, metrics } = pipeline({ fs, groupCommit: true });
    p.start();
    const acked: number[] = [];
    for (let i = 0; i < 5; i++) p.onMessage(topic, msg(i), () => acked.push(i));
    assert.deepEqual(acked, [0, 1, 2, 3, 4], 'acknowledged at once: the caller sends nothing before flush()');
    assert.equal(spool.pending, 0, 'not spooled before flush()');
    assert.equal(writes, 0);
    assert.equal(p.flush(), true);
    assert.equal(writes, 1, 'one write for the burst');
    assert.equal(spool.pending, 5);
    assert.equal(p.flush(), true, 'nothing staged: nothing to refuse');

    faults.failWrites('ENOSPC', { partialBytes: 30 });
    for (let i = 5; i < 8; i++) p.onMessage(topic, msg(i), () => acked.push(i));
    assert.equal(p.flush(), false, 'the burst\'s acknowledgements must not leave');
    assert.equal(await gauge(metrics, 'spoolBlocked'), 1);
    p.onMessage(topic, msg(8), () => acked.push(8));
    assert.equal(acked.includes(8), false, 'held, not acknowledged, while the disk refuses');
    assert.equal(p.holding, true);
    faults.pass();
    await waitFor(() => acked.includes(8), 10_000, 'acknowledged once the disk takes it');
    await waitFor(async () => (await stored()).length === 6, 30_000, 'stored');
    assert.deepEqual(await stored(), [0, 1, 2, 3, 4, 8], 'the failed burst is not in the spool (the broker delivers it again)');
    assert.equal(await gauge(metrics, 'spoolBlocked'), 0);
    await p.stop();
    spool.close();
    const recovered = Spool.open({ dir, logger: quietLogger() });
    assert.equal(recovered.pending, 0, 'no torn frame of the failed burst left behind');
    recovered.close();
  });

  it('holds acknowledgements at the byte bound, well below the message bound, and resumes as the spool drains', async () => {
    const pad = 4000;
    const { p, spool, metrics } = pipeline({ maxPending: 10_000, maxPendingBytes: 10 * pad });
    const { acked } = broker(p, Array.from({ length: 30 }, (_, i) => msg(i, pad)));
    await waitFor(() => acked.length === 10, 5_000, 'acknowledged up to the byte bound');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(acked.length, 10, 'the 11th message waits: 10 spooled messages reach the byte bound');
    assert.ok(spool.pendingBytes >= 10 * pad);
    assert.equal(await gauge(metrics, 'backpressure'), 1);
    assert.equal(await gauge(metrics, 'spoolBlocked'), 0, 'full, not blocked');
    p.start();
    await waitFor(() => acked.length === 30, 30_000, 'all acknowledged as the drain made room');
    await waitFor(async () => (await stored()).length === 30, 30_000, 'all stored');
    await p.stop();
    assert.equal(await gauge(metrics, 'backpressure'), 0);
    spool.close();
  });
});
