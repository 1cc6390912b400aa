/**
 * The ingest drain loop dying of an unexpected error: the service says so in
 * /readyz, logs the cause as fatal and exits 1 after its graceful shutdown;
 * the backlog gauges keep reading the spool, dead loop or not. A write that
 * never lands: the spool stage is stalled, and clears when it lands.
 */
import { it } from 'node:test';
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
import { createLogger, quietLogger } from '../../shared/observability/logger.ts';
import { startOpsServer } from '../../shared/observability/ops-server.ts';
import { loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
import { createShutdown } from '../../shared/runtime/shutdown.ts';
import { failureCheck } from '../../shared/runtime/supervisor.ts';
import { deferred, waitFor } from '../../test/helpers/bus.ts';
import { EipError } from '../../shared/errors.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { StageMonitor } from '../../shared/runtime/stage-monitor.ts';
import { spoolProgress, spoolStage } from './ingest.ts';

const logger = quietLogger();

it('a drain loop that throws fails the service: not ready with the cause, fatal log, exit 1, gauges still current', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'drain-failure-'));
  const bus = createSqliteBus({ path: ':memory:', logger });
  const store = createSqliteStore({ path: ':memory:', logger });
  const spool = Spool.open({ dir, logger });
  // The injected fault: the loop's first take() throws, as decode did on a timestamp of 1e16.
  const broken = new Proxy(spool, {
    get(target, prop) {
      if (prop === 'take') return () => { throw new RangeError('Invalid time value'); };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const lines: Array<Record<string, unknown>> = [];
  const exited = deferred<number>();
  const shutdown = createShutdown(createLogger('ingest', 'info', { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>); } }), { installSignals: false, exit: (code) => exited.resolve(code) });
  const registry = createMetricsRegistry('ingest-test');
  const metrics = createIngestMetrics(registry, spool);
  const pipeline = new IngestPipeline({
    spool: broken, bus, store, metrics, logger,
    decode: { registry: loadParkRegistry(demoParkPath), maxFutureMs: 300_000, maxPastMs: 29 * 86_400_000, maxPayloadBytes: 65_536 },
    batchMaxMessages: 50, maxPending: 10_000, dedupWindow: 1024,
    onLoopFailed: (err) => shutdown.fail('ingest drain loop', err),
  });
  const ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry, logger, checks: { loops: failureCheck(shutdown) } });
  let stopped = false;
  shutdown.register('ingest', async () => {
    await pipeline.stop();
    stopped = true;
  });
  try {
    assert.equal((await fetch(`http://127.0.0.1:${ops.port}/readyz`)).status, 200);
    pipeline.start();
    for (let i = 0; i < 3; i++) pipeline.onMessage('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', Buffer.from(`{"v":1,"ts":1e16,"seq":${i},"readings":[]}`), () => {});
    assert.equal(await exited.promise, 1);
    assert.ok(stopped, 'the graceful shutdown ran (and pipeline.stop() did not hang on the dead loop)');
    const res = await fetch(`http://127.0.0.1:${ops.port}/readyz`);
    assert.equal(res.status, 503);
    const body = await res.json() as { reasons: Record<string, string> };
    assert.match(body.reasons.loops!, /^ingest drain loop failed at .*: Invalid time value$/);
    const fatal = lines.find((l) => l.level === 'fatal');
    assert.equal(fatal?.component, 'ingest drain loop');
    assert.match(String((fatal.err as { stack?: string }).stack), /RangeError: Invalid time value/);
    // Two more spooled after the loop died: only a gauge read at scrape time can know.
    for (let i = 3; i < 5; i++) pipeline.onMessage('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', Buffer.from(`{"v":1,"ts":1e16,"seq":${i},"readings":[]}`), () => {});
    const text = await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
    assert.match(text, /^eip_ingest_spool_pending_messages\{service="ingest-test"\} 5$/m, 'the gauge reads the spool, not what the dead loop last set');
  } finally {
    await ops.close();
    spool.close();
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a write that never lands: the spool stage is stalled with its backlog, and clears once the write lands', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'drain-stall-'));
  const bus = createSqliteBus({ path: ':memory:', logger });
  const store = createSqliteStore({ path: ':memory:', logger });
  let down = true;
  let attempts = 0;
  const flaky: TimeSeriesStore = { ...store, writeReadings: (points) => { attempts++; return down ? Promise.reject(new EipError('UNAVAILABLE', 'injected: store away')) : store.writeReadings(points); } };
  const spool = Spool.open({ dir, logger });
  let now = Date.UTC(2026, 11, 1, 10);
  const since = new Date(now).toISOString();
  const monitor = new StageMonitor({ stallTimeoutMs: 60_000, now: () => now, sampleIntervalMs: 0 });
  monitor.add(spoolStage, () => spoolProgress(spool));
  const pipeline = new IngestPipeline({
    spool, bus, store: flaky, metrics: createIngestMetrics(createMetricsRegistry('ingest-test'), spool), logger,
    decode: { registry: loadParkRegistry(demoParkPath), maxFutureMs: 300_000, maxPastMs: 29 * 86_400_000, maxPayloadBytes: 65_536 },
    batchMaxMessages: 50, maxPending: 10_000, dedupWindow: 1024, now: () => now,
  });
  try {
    assert.equal(monitor.check(), true);
    pipeline.start();
    for (let i = 0; i < 3; i++) pipeline.onMessage('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', Buffer.from(JSON.stringify({ v: 1, ts: now - 60_000, seq: i, readings: [{ metric: 'ph', value: 7, unit: 'pH' }] })), () => {});
    await waitFor(() => attempts >= 2, 10_000, 'the write retried');
    now += 60_000;
    const out = monitor.check();
    assert.ok(typeof out === 'object' && !out.ok, 'stalled');
    assert.equal(out.reason, `ingest:spool: 3 pending, no progress for 60 s (since ${since})`);
    down = false;
    await waitFor(() => spool.pending === 0, 20_000, 'drained once the store is back');
    assert.equal(monitor.check(), true);
  } finally {
    await pipeline.stop();
    spool.close();
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
