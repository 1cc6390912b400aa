/**
 * The partition-owning consumer skeleton: turns never overlap, revoked state is
 * dropped at once, and a write begun for revoked partitions never lands.
 * An in-process fake bus drives the hooks where the timing matters; the SQLite
 * bus checks the wiring end to end.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createSqliteBus } from '../adapters/sqlite-bus/index.ts';
import { EipError } from '../errors.ts';
import { createLogger, quietLogger } from '../observability/logger.ts';
import type { ConsumedBatch, EventBus, OutgoingMessage, SubscribeOptions, TopicPartitions } from '../ports/event-bus.ts';
import { deferred, randomGroup, randomTopic, waitFor } from '../../test/helpers/bus.ts';
import { recordingSupervisor } from '../../test/helpers/supervisor.ts';
import { PartitionOwner, type PartitionOwnerOptions } from './partition-owner.ts';

const logger = quietLogger('partition-owner-test');
const parts = (topic: string, ...partitions: number[]): TopicPartitions[] => [{ topic, partitions, partitionCount: 3 }];
const batch = (partition: number): ConsumedBatch => ({ topic: 't', partition, messages: [] });

/** A bus whose subscription hooks the test calls itself; publishes are kept, or held on a gate. */
function fakeBus(): EventBus & { hooks(): SubscribeOptions; published: OutgoingMessage[][]; gate: { promise: Promise<void>; resolve: () => void } | undefined; stopped: boolean } {
  let options: SubscribeOptions | undefined;
  const bus = {
    published: [] as OutgoingMessage[][],
    gate: undefined as { promise: Promise<void>; resolve: () => void } | undefined,
    stopped: false,
    hooks: () => options!,
    async publish(messages: readonly OutgoingMessage[]) {
      if (bus.gate) await bus.gate.promise;
      bus.published.push([...messages]);
    },
    async subscribe(o: SubscribeOptions) {
      options = o;
      return { stop: async () => { bus.stopped = true; await o.onRevoked?.([]); }, commitHeld: async () => {} };
    },
    readCompacted: async () => new Map<string, Buffer>(),
    partitionCount: async () => 3,
    ping: async () => true,
    close: async () => {},
  };
  return bus;
}

function owner(bus: EventBus, over: Partial<PartitionOwnerOptions> = {}): PartitionOwner {
  return new PartitionOwner({
    bus, logger, supervisor: recordingSupervisor(),
    subscription: { groupId: 'g', topics: ['t'] },
    onAssigned: async () => {}, onRevoked: () => {}, handleBatch: async () => {},
    ...over,
  });
}

describe('PartitionOwner', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('batches, assignment changes and timer turns take turns, in call order', async () => {
    const bus = fakeBus();
    let inside = 0;
    let overlapped = false;
    const order: string[] = [];
    const turn = (name: string) => async (): Promise<void> => {
      inside++;
      if (inside > 1) overlapped = true;
      order.push(`${name}:in`);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`${name}:out`);
      inside--;
    };
    let ticks = 0;
    const o = owner(bus, {
      onAssigned: turn('assigned'),
      handleBatch: (b) => turn(`batch${b.partition}`)(),
      timer: { everyMs: 2, component: 'test timer', turn: async () => { ticks++; await turn('tick')(); } },
    });
    await o.start();
    cleanup.push(() => o.stop());
    const h = bus.hooks();
    await Promise.all([h.onAssigned!(parts('t', 0, 1)), h.handleBatch(batch(0)), h.handleBatch(batch(1)), o.exclusive(turn('own'))]);
    await waitFor(() => ticks >= 2, 5_000, 'timer turns');
    assert.equal(overlapped, false);
    assert.deepEqual(order.slice(0, 8), ['assigned:in', 'assigned:out', 'batch0:in', 'batch0:out', 'batch1:in', 'batch1:out', 'own:in', 'own:out']);
  });

  it('revocation drops state at once, not after the turn in progress, and resolves once that turn is done', async () => {
    const bus = fakeBus();
    const held = new Set<number>();
    const inBatch = deferred();
    const release = deferred();
    let batchDone = false;
    const o = owner(bus, {
      onAssigned: async (a) => { for (const p of a[0]!.partitions) held.add(p); },
      onRevoked: () => held.clear(),
      handleBatch: async () => { inBatch.resolve(); await release.promise; batchDone = true; },
    });
    await o.start();
    cleanup.push(() => o.stop());
    const h = bus.hooks();
    await h.onAssigned!(parts('t', 0, 2));
    const running = h.handleBatch(batch(0));
    await inBatch.promise;
    let revokedResolved = false;
    const revoking = h.onRevoked!(parts('t', 0, 2)).then(() => { revokedResolved = true; });
    assert.equal(held.size, 0, 'state dropped while the batch still runs');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(revokedResolved, false, 'the revocation waits for the turn in progress');
    release.resolve();
    await Promise.all([running, revoking]);
    assert.equal(batchDone, true);
  });

  it('a guarded write that lands resolves true and publishes through the bus', async () => {
    const bus = fakeBus();
    const o = owner(bus);
    await o.start();
    cleanup.push(() => o.stop());
    const ok = await o.guarded(({ publish }) => publish([{ topic: 'out', key: 'k', value: 'v' }]), () => ({}));
    assert.equal(ok, true);
    assert.deepEqual(bus.published.map((b) => b.map((m) => m.value)), [['v']]);
  });

  it('a write revoked before it landed resolves false, stops its retries, and publishes nothing after the revocation', async () => {
    const bus = fakeBus();
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger('partition-owner-test', 'warn', { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
    const o = owner(bus, { logger: log });
    await o.start();
    cleanup.push(() => o.stop());
    const started = deferred();
    let signalSeen: AbortSignal | undefined;
    const writing = o.guarded(async ({ publish, signal }) => {
      signalSeen = signal;
      await publish([{ topic: 'out', key: 'a', value: 'first' }]);
      started.resolve();
      // A write that retries until its signal says to stop, as write-isolating does.
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await publish([{ topic: 'out', key: 'a', value: 'after revocation' }]);
    }, () => ({ what: 'test output' }));
    await started.promise;
    await bus.hooks().onRevoked!(parts('t', 0));
    assert.equal(await writing, false);
    assert.equal(signalSeen?.aborted, true);
    assert.deepEqual(bus.published.flat().map((m) => m.value), ['first']);
    assert.ok(lines.some((l) => l.msg === 'partitions revoked while writing: output left to their next owner' && l.what === 'test output'), JSON.stringify(lines));
  });

  it('a write after a revocation is for the partitions assigned since: it lands', async () => {
    const bus = fakeBus();
    const o = owner(bus);
    await o.start();
    cleanup.push(() => o.stop());
    await bus.hooks().onRevoked!(parts('t', 0));
    await bus.hooks().onAssigned!(parts('t', 1));
    assert.equal(await o.guarded(({ publish }) => publish([{ topic: 'out', key: null, value: 'x' }]), () => ({})), true);
    assert.equal(bus.published.length, 1);
  });

  it('a failure not caused by a revocation is thrown', async () => {
    const bus = fakeBus();
    const o = owner(bus);
    await o.start();
    cleanup.push(() => o.stop());
    await assert.rejects(o.guarded(async () => { throw new EipError('UNAVAILABLE', 'down', { retriable: true }); }, () => ({})), /down/);
  });

  it('stop ends the subscription, waits for the turn in progress and then aborts the stop signal', async () => {
    const bus = fakeBus();
    const release = deferred();
    const inBatch = deferred();
    let revoked = 0;
    const o = owner(bus, { onRevoked: () => { revoked++; }, handleBatch: async () => { inBatch.resolve(); await release.promise; } });
    await o.start();
    const running = bus.hooks().handleBatch(batch(0));
    await inBatch.promise;
    const stopping = o.stop();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(o.stopSignal.aborted, false, 'not before the turn in progress is done');
    release.resolve();
    await Promise.all([running, stopping]);
    assert.equal(bus.stopped, true);
    assert.equal(revoked, 1);
    assert.equal(o.stopSignal.aborted, true);
  });

  it('a timer turn failing with an expected error is logged and retried; an unexpected one fails the process', async () => {
    const bus = fakeBus();
    const supervisor = recordingSupervisor();
    let n = 0;
    const o = owner(bus, {
      supervisor,
      timer: { everyMs: 2, component: 'test flush', turn: async () => {
        n++;
        if (n === 1) throw new EipError('CLOSED', 'revoked meanwhile');
        if (n === 2) throw new Error('a bug');
      } },
    });
    await o.start();
    cleanup.push(() => o.stop());
    await waitFor(() => n >= 3, 5_000, 'three timer turns');
    assert.deepEqual(supervisor.failures.map((f) => [f.component, f.message]), [['test flush', 'a bug']]);
  });

  it('on the SQLite bus: assigned before the first batch, batches in turn, revoked at stop', async () => {
    const bus = createSqliteBus({ path: ':memory:', logger, pollIntervalMs: 5 });
    cleanup.push(() => bus.close());
    const topic = randomTopic('owner');
    const events: string[] = [];
    const seen: string[] = [];
    const o = new PartitionOwner({
      bus, logger, supervisor: recordingSupervisor(),
      subscription: { groupId: randomGroup('owner'), topics: [topic], fromBeginning: true, maxBatchSize: 2 },
      onAssigned: async (a) => { events.push(`assigned ${a.map((x) => `${x.topic === topic ? 'topic' : x.topic}:${x.partitions.join(',')}`).join(' ')}`); },
      onRevoked: () => { events.push('revoked'); },
      handleBatch: async (b) => {
        const ok = await o.guarded(({ publish }) => publish([{ topic: `${topic}.out`, key: null, value: `n${b.messages.length}` }]), () => ({}));
        if (!ok) throw new EipError('CLOSED', 'revoked');
        for (const m of b.messages) seen.push(String(m.value));
      },
    });
    await bus.publish(['a', 'b', 'c'].map((value) => ({ topic, key: 'k', value })));
    await o.start();
    await waitFor(() => seen.length === 3, 10_000, 'three records handled');
    await o.stop();
    assert.deepEqual(seen, ['a', 'b', 'c']);
    assert.deepEqual(events, ['assigned topic:0', 'revoked']);
  });
});
