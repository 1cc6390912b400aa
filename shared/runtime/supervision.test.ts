/**
 * One failure mechanism for every loop: an unexpected error in a consumer's
 * handler (through the supervised bus) or in the ingest drain loop makes the
 * service not ready, with the cause in /readyz, and ends in a bounded graceful
 * shutdown with exit code 1. Expected errors are retried; a batch that keeps
 * failing shows as a stalled stage.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createSqliteBus } from '../adapters/sqlite-bus/index.ts';
import { EipError } from '../errors.ts';
import { createLogger, quietLogger } from '../observability/logger.ts';
import { startOpsServer, type OpsServer } from '../observability/ops-server.ts';
import type { ConsumedBatch, EventBus } from '../ports/event-bus.ts';
import { waitFor, deferred } from '../../test/helpers/bus.ts';
import { createShutdown, type Shutdown } from './shutdown.ts';
import { StageMonitor } from './stage-monitor.ts';
import { supervisedBus, ConsumerProgress } from './supervised-bus.ts';
import { failureCheck, isExpectedLoopError } from './supervisor.ts';

const logger = quietLogger('supervision-test');

/** A shutdown whose exit is recorded, not performed, and whose log lines are kept. */
function harness(options: { failDeadlineMs?: number; stepTimeoutMs?: number } = {}): { shutdown: Shutdown; exits: number[]; lines: Array<Record<string, unknown>>; exited: Promise<number> } {
  const exits: number[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const gate = deferred<number>();
  const log = createLogger('supervision-test', 'info', { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const shutdown = createShutdown(log, { installSignals: false, exit: (code) => { exits.push(code); gate.resolve(code); }, ...options });
  return { shutdown, exits, lines, exited: gate.promise };
}

describe('supervision', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function ops(checks: Parameters<typeof startOpsServer>[0]['checks']): Promise<OpsServer> {
    const server = await startOpsServer({ host: '127.0.0.1', port: 0, registry: new Registry(), logger, checks });
    cleanup.push(() => server.close());
    return server;
  }

  it('classifies retriable and CLOSED errors as expected, anything else as a failure', () => {
    assert.equal(isExpectedLoopError(new EipError('UNAVAILABLE', 'down')), true);
    assert.equal(isExpectedLoopError(new EipError('CLOSED', 'revoked')), true);
    assert.equal(isExpectedLoopError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), true);
    assert.equal(isExpectedLoopError(new TypeError('x is undefined')), false);
    assert.equal(isExpectedLoopError(new RangeError('Invalid time value')), false);
    assert.equal(isExpectedLoopError(new EipError('REJECTED', 'never')), false);
  });

  it('fail(): not ready with the cause, logged as fatal, steps run in order, exit 1; a second failure changes nothing', async () => {
    const h = harness();
    const stopped: string[] = [];
    h.shutdown.register('first', () => { stopped.push('first'); });
    h.shutdown.register('second', () => { stopped.push('second'); });
    const server = await ops({ loops: failureCheck(h.shutdown), other: () => true });
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status, 200);

    h.shutdown.fail('ingest drain loop', new RangeError('Invalid time value'));
    h.shutdown.fail('consumer rules', new TypeError('later'));
    assert.equal(await h.exited, 1);
    assert.deepEqual(h.exits, [1]);
    assert.deepEqual(stopped, ['second', 'first'], 'the graceful shutdown ran, last registered first');
    const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    assert.equal(res.status, 503);
    const body = await res.json() as { ready: boolean; checks: Record<string, boolean>; reasons: Record<string, string> };
    assert.equal(body.ready, false);
    assert.deepEqual(body.checks, { loops: false, other: true });
    assert.match(body.reasons.loops!, /^ingest drain loop failed at \d{4}-\d\d-\d\dT.*Z: Invalid time value$/);
    const fatal = h.lines.find((l) => l.level === 'fatal');
    assert.ok(fatal, 'a fatal line');
    assert.equal(fatal.component, 'ingest drain loop');
    assert.match(String((fatal.err as { stack?: string }).stack), /RangeError: Invalid time value/, 'the cause with its stack');
    assert.equal(h.shutdown.failure?.component, 'ingest drain loop', 'the first failure wins');
  });

  it('fail() exits 1 after failDeadlineMs when a shutdown step hangs', async () => {
    const h = harness({ failDeadlineMs: 100, stepTimeoutMs: 600 });
    h.shutdown.register('hangs', () => new Promise<void>(() => {}));
    h.shutdown.fail('aggregator timed flush', new TypeError('boom'));
    assert.equal(await h.exited, 1);
    assert.ok(h.lines.some((l) => l.level === 'fatal' && /did not finish in time/.test(String(l.msg))));
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(h.exits, [1], 'exited once, by the deadline, before the step timed out');
  });

  it('an error while a signal\'s shutdown runs is logged, not turned into a failure', async () => {
    const h = harness();
    const done = h.shutdown.shutdown('SIGTERM');
    h.shutdown.fail('consumer rules.outputs', new EipError('INTERNAL', 'given up while stopping'));
    assert.equal(await done, 0);
    assert.equal(h.shutdown.failure, undefined);
    assert.deepEqual(h.exits, []);
  });

  describe('supervised bus', () => {
    let bus: EventBus;
    function setup(handle: (batch: ConsumedBatch) => Promise<void>, now: () => number = Date.now) {
      const h = harness();
      const raw = createSqliteBus({ path: ':memory:', logger, pollIntervalMs: 5, retryPolicy: { initialMs: 5, maxMs: 20, jitter: 0 } });
      const monitor = new StageMonitor({ stallTimeoutMs: 60_000, now, sampleIntervalMs: 0 });
      bus = supervisedBus(raw, { supervisor: h.shutdown, monitor });
      cleanup.push(async () => { monitor.stop(); await raw.close(); });
      return { h, monitor, subscribe: () => bus.subscribe({ groupId: 'g', topics: ['t'], handleBatch: handle }) };
    }
    const publish = (n: number) => bus.publish(Array.from({ length: n }, (_, i) => ({ topic: 't', key: `k${i}`, value: `v${i}` })));

    it('an unexpected handler error fails the process: not ready, exit 1', async () => {
      const { h, subscribe } = setup(() => Promise.reject(new TypeError('cannot read properties of undefined')));
      const sub = await subscribe();
      h.shutdown.register('consumer', () => sub.stop());
      const server = await ops({ loops: failureCheck(h.shutdown) });
      await publish(3);
      assert.equal(await h.exited, 1);
      assert.equal(h.shutdown.failure?.component, 'consumer g (t/0)');
      const body = await (await fetch(`http://127.0.0.1:${server.port}/readyz`)).json() as { reasons: Record<string, string> };
      assert.match(body.reasons.loops!, /consumer g \(t\/0\) failed at .*: cannot read properties of undefined/);
    });

    it('a synchronous throw in a handler counts the same', async () => {
      const { h, subscribe } = setup(() => { throw new Error('read model bug'); });
      await subscribe();
      await publish(1);
      assert.equal(await h.exited, 1);
      assert.match(h.shutdown.failure!.message, /read model bug/);
    });

    it('an unexpected onAssigned error fails the process instead of being called again for ever', async () => {
      const h = harness();
      const raw = createSqliteBus({ path: ':memory:', logger, pollIntervalMs: 5 });
      const monitor = new StageMonitor({ stallTimeoutMs: 60_000, sampleIntervalMs: 0 });
      cleanup.push(async () => { monitor.stop(); await raw.close(); });
      const sub = await supervisedBus(raw, { supervisor: h.shutdown, monitor }).subscribe({ groupId: 'g', topics: ['t'], handleBatch: () => Promise.resolve(), onAssigned: () => Promise.reject(new SyntaxError('checkpoint is not JSON')) });
      h.shutdown.register('consumer', () => sub.stop());
      assert.equal(await h.exited, 1);
      assert.equal(h.shutdown.failure?.component, 'consumer g onAssigned');
    });

    it('an expected error is redelivered; a batch that keeps failing is a stalled stage with its pending count', async () => {
      let now = 1_000_000;
      let attempts = 0;
      let refuse = true;
      const { h, monitor, subscribe } = setup(() => {
        attempts++;
        return refuse ? Promise.reject(new EipError('UNAVAILABLE', 'store down')) : Promise.resolve();
      }, () => now);
      const sub = await subscribe();
      cleanup.push(() => sub.stop());
      await publish(4);
      await waitFor(() => attempts >= 3, 10_000, 'redeliveries');
      assert.equal(h.shutdown.failure, undefined, 'not a failure');
      assert.deepEqual(monitor.sample().map((s) => [s.stage, s.pending, s.stalled]), [['consumer:g', 4, false]]);
      now += 60_000;
      const out = monitor.check();
      assert.ok(typeof out === 'object' && !out.ok);
      assert.match(out.reason!, /^consumer:g: 4 pending, no progress for 60 s/);
      refuse = false;
      await waitFor(() => monitor.sample()[0]!.pending === 0, 10_000, 'drained');
      assert.equal(monitor.check(), true);
      await sub.stop();
      assert.deepEqual(monitor.sample(), [], 'a stopped subscription is no longer watched');
    });
  });

  it('ConsumerProgress: lag against the partition end, the batch in hand included, dropped on revocation', () => {
    const p = new ConsumerProgress();
    const batch = (partition: number, from: number, n: number, hw: number): ConsumedBatch => ({
      topic: 't', partition, highWatermark: String(hw),
      messages: Array.from({ length: n }, (_, i) => ({ topic: 't', partition, offset: String(from + i), key: null, value: null, headers: {}, timestamp: 0 })),
    });
    p.delivered(batch(0, 10, 5, 100));
    assert.deepEqual(p.sample(), { pending: 90, processed: 0 });
    p.handled(batch(0, 10, 5, 100));
    p.delivered(batch(1, 0, 2, 2));
    assert.deepEqual(p.sample(), { pending: 85 + 2, processed: 5 });
    p.handled(batch(1, 0, 2, 2));
    assert.deepEqual(p.sample(), { pending: 85, processed: 7 });
    p.revoked();
    assert.deepEqual(p.sample(), { pending: 0, processed: 7 });
  });
});
