/**
 * The abstract test suite every EventBus adapter runs (Kafka and the embedded
 * SQLite bus), so both keep the port's promises: at-least-once delivery with
 * commit after the handler, per-key order, redelivery on handler failure,
 * independent groups, compacted reads and byte-bounded batches, the partitioner,
 * and partition assignment with its hooks (one member, and two sharing a group).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deferred, randomGroup, waitFor } from '../../test/helpers/bus.ts';
import { EipError } from '../errors.ts';
import type { BatchDone, ConsumedBatch, ConsumedMessage, EventBus, OutgoingMessage, SubscribeOptions, Subscription, TopicPartitions } from './event-bus.ts';
import { partitionForKey } from './partitioner.ts';

export interface ContractTopicOptions {
  compacted?: boolean;
  partitions?: number;
  /** The topic's record size limit (TopicSpec.maxMessageBytes), where the adapter has one. */
  maxMessageBytes?: number;
}

export interface BusFixture {
  bus: EventBus;
  /** A fresh topic no other test uses, created where the adapter needs that. */
  topic(options?: ContractTopicOptions): Promise<string>;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Per test; Kafka needs room for group joins. Default 60 s. */
  timeoutMs?: number;
  /** How long to wait for expected deliveries. Default 45 s. */
  waitMs?: number;
  /**
   * The adapter splits a group's partitions between its members (Kafka); when
   * false, one member holds every partition and the others wait (embedded bus).
   */
  splitsPartitions?: boolean;
}

interface Collector {
  subscription: Subscription;
  messages: ConsumedMessage[];
  batches: ConsumedBatch[];
}

function valueText(message: ConsumedMessage): string | null {
  return message.value === null ? null : message.value.toString('utf8');
}

function offsetId(message: ConsumedMessage): string {
  return `${message.partition}/${message.offset}`;
}

/** Checks what every delivered batch must satisfy, whatever the test. */
function assertBatchShape(batch: ConsumedBatch): void {
  assert.ok(batch.messages.length > 0, 'handleBatch is never called with an empty batch');
  let previous = -1n;
  for (const message of batch.messages) {
    assert.equal(message.topic, batch.topic);
    assert.equal(message.partition, batch.partition);
    assert.match(message.offset, /^\d+$/);
    const offset = BigInt(message.offset);
    assert.ok(offset > previous, 'offsets increase within a batch');
    previous = offset;
  }
  if (batch.highWatermark !== undefined) assert.ok(BigInt(batch.highWatermark) > previous, 'the high watermark is past the batch');
}

export function eventBusContract(name: string, makeBus: () => Promise<BusFixture>, options: ContractOptions = {}): void {
  const timeout = options.timeoutMs ?? 60_000;
  const waitMs = options.waitMs ?? 45_000;

  void describe(`EventBus contract: ${name}`, () => {
    let fx: BusFixture;

    before(async () => {
      fx = await makeBus();
    });

    after(async () => {
      await fx?.cleanup();
    });

    async function collect(topic: string, extra: Partial<SubscribeOptions> & { groupId: string }): Promise<Collector> {
      const messages: ConsumedMessage[] = [];
      const batches: ConsumedBatch[] = [];
      const subscription = await fx.bus.subscribe({
        topics: [topic],
        fromBeginning: true,
        handleBatch: (batch) => {
          assertBatchShape(batch);
          batches.push(batch);
          messages.push(...batch.messages);
          return Promise.resolve();
        },
        ...extra,
      });
      return { subscription, messages, batches };
    }

    void it('ping is true', { timeout }, async () => {
      assert.equal(await fx.bus.ping(), true);
    });

    void it('publishing an empty batch resolves', { timeout }, async () => {
      await fx.bus.publish([]);
    });

    void it('a new group consumes every message exactly once, in order per key, with keys, values, headers and timestamps intact', { timeout }, async () => {
      const topic = await fx.topic({ partitions: 3 });
      const keys = ['meter-a', 'meter-b', 'meter-c', 'meter-d', 'meter-e'];
      const published: OutgoingMessage[] = [];
      for (let i = 0; i < 150; i++) {
        published.push({ topic, key: keys[i % keys.length]!, value: `reading ${i}`, headers: { seq: String(i), kind: 'reading' }, timestamp: 1_700_000_000_000 + i });
      }
      const first = published.slice();
      const second: OutgoingMessage[] = [];
      for (let i = 150; i < 200; i++) {
        // Binary values, including bytes that are not valid UTF-8.
        second.push({ topic, key: keys[i % keys.length]!, value: Buffer.from([0, 255, i % 256, 0x80]), headers: { seq: String(i) }, timestamp: 1_700_000_000_000 + i });
      }
      second.push({ topic, key: null, value: 'unkeyed 1', headers: { seq: '200' }, timestamp: 1_700_000_000_200 });
      second.push({ topic, key: null, value: 'unkeyed 2', headers: { seq: '201' }, timestamp: 1_700_000_000_201 });
      published.push(...second);
      await fx.bus.publish(first);
      await fx.bus.publish(second);

      const c = await collect(topic, { groupId: randomGroup() });
      try {
        await waitFor(() => c.messages.length >= published.length, waitMs, `${published.length} messages`);
      } finally {
        await c.subscription.stop();
      }

      assert.equal(c.messages.length, published.length, 'no message delivered twice');
      const bySeq = new Map(c.messages.map((m) => [m.headers.seq, m]));
      assert.equal(bySeq.size, published.length, 'every message delivered');
      for (const sent of published) {
        const got = bySeq.get(sent.headers!.seq);
        assert.ok(got, `message ${sent.headers!.seq} delivered`);
        assert.equal(got.key, sent.key);
        const expected = typeof sent.value === 'string' ? Buffer.from(sent.value) : sent.value;
        assert.deepEqual(got.value, expected);
        assert.deepEqual(got.headers, sent.headers);
        assert.equal(got.timestamp, sent.timestamp);
      }
      for (const key of keys) {
        const received = c.messages.filter((m) => m.key === key);
        const expected = published.filter((m) => m.key === key).map((m) => m.headers!.seq);
        assert.deepEqual(received.map((m) => m.headers.seq), expected, `order kept for ${key}`);
        assert.equal(new Set(received.map((m) => m.partition)).size, 1, `${key} stays on one partition`);
      }
      const unkeyed = c.messages.filter((m) => m.key === null).map(valueText).sort();
      assert.deepEqual(unkeyed, ['unkeyed 1', 'unkeyed 2']);
    });

    void it('commits after handling: a new subscription of the same group resumes right after the committed offset', { timeout }, async () => {
      const topic = await fx.topic({ partitions: 1 });
      const total = 100;
      await fx.bus.publish(Array.from({ length: total }, (_, i) => ({ topic, key: 'meter-1', value: `m${i}` })));
      const groupId = randomGroup();

      const first: ConsumedMessage[] = [];
      const thirdBatch = deferred();
      const release = deferred();
      let calls = 0;
      const sub1 = await fx.bus.subscribe({
        groupId,
        topics: [topic],
        fromBeginning: true,
        maxBatchSize: 10,
        handleBatch: async (batch) => {
          assertBatchShape(batch);
          assert.ok(batch.messages.length <= 10, 'maxBatchSize bounds the batch');
          first.push(...batch.messages);
          calls++;
          if (calls === 3) {
            thirdBatch.resolve();
            // Still handling when stop() is called: stop must wait, then commit this batch.
            await release.promise;
          }
        },
      });
      await thirdBatch.promise;
      const stopping = sub1.stop();
      release.resolve();
      await stopping;

      assert.ok(first.length > 0 && first.length < total, `first run handled part of the topic (${first.length})`);
      const c = await collect(topic, { groupId, maxBatchSize: 10 });
      try {
        await waitFor(() => first.length + c.messages.length >= total, waitMs, 'the rest of the topic');
      } finally {
        await c.subscription.stop();
      }

      const firstIds = new Set(first.map(offsetId));
      assert.equal(firstIds.size, first.length);
      assert.ok(c.messages.every((m) => !firstIds.has(offsetId(m))), 'nothing handled and committed before is delivered again');
      assert.equal(first.length + c.messages.length, total, 'nothing lost, nothing twice');
      const lastFirst = BigInt(first[first.length - 1]!.offset);
      assert.equal(BigInt(c.messages[0]!.offset), lastFirst + 1n, 'resumes right after the last handled offset');
      const values = [...first, ...c.messages].map(valueText);
      assert.deepEqual(values, Array.from({ length: total }, (_, i) => `m${i}`));
    });

    /**
     * Consumes the topic once with a handler that holds its batches' offsets and
     * lets `decide` commit some (by commitHeld() from inside a batch, or by
     * resolving a batch without 'hold'), stops, then resumes the group: it must
     * start right after the last offset committed that way.
     */
    async function heldRun(total: number, decide: (batch: ConsumedBatch, subscription: () => Subscription) => Promise<BatchDone>): Promise<{ first: ConsumedMessage[]; again: ConsumedMessage[] }> {
      const topic = await fx.topic({ partitions: 1 });
      await fx.bus.publish(Array.from({ length: total }, (_, i) => ({ topic, key: 'meter-1', value: `m${i}` })));
      const groupId = randomGroup();
      const first: ConsumedMessage[] = [];
      let sub: Subscription | undefined;
      sub = await fx.bus.subscribe({
        groupId, topics: [topic], fromBeginning: true, maxBatchSize: 10,
        handleBatch: async (batch) => {
          assertBatchShape(batch);
          const done = await decide(batch, () => sub!);
          first.push(...batch.messages);
          return done;
        },
      });
      try {
        // Held batches do not hold delivery back.
        await waitFor(() => first.length >= total, waitMs, 'every message, though held');
      } finally {
        await sub.stop();
      }
      const c = await collect(topic, { groupId, maxBatchSize: 10 });
      try {
        await waitFor(() => c.messages.length > 0 && c.messages.at(-1)!.offset === first.at(-1)!.offset, waitMs, 'the held part again');
      } finally {
        await c.subscription.stop();
      }
      sub = undefined;
      assert.deepEqual(first.map(valueText), Array.from({ length: total }, (_, i) => `m${i}`), 'the first run gets every message once, in order');
      return { first, again: c.messages };
    }

    void it('held batches: commitHeld() commits through the last batch held, and what was held after it is delivered again to the group', { timeout }, async () => {
      let committedTo: bigint | undefined;
      let handled = 0n;
      const { again } = await heldRun(60, async (batch, subscription) => {
        if (committedTo === undefined && BigInt(batch.messages[0]!.offset) >= 25n) {
          // Every batch before this one was held: commit them, hold this one and the rest.
          await subscription().commitHeld();
          committedTo = handled;
        }
        handled = BigInt(batch.messages.at(-1)!.offset) + 1n;
        return 'hold';
      });
      assert.ok(committedTo !== undefined && committedTo >= 25n);
      assert.equal(BigInt(again[0]!.offset), committedTo, 'the group resumes right after the committed held batches');
      assert.deepEqual(again.map(valueText), Array.from({ length: 60 - Number(committedTo) }, (_, i) => `m${i + Number(committedTo)}`), 'every message held and not committed comes again, none of the committed');
    });

    void it('held batches: a batch resolved without hold commits through its end, the held ones before it included', { timeout }, async () => {
      let committedTo: bigint | undefined;
      let calledEmpty = false;
      const { again } = await heldRun(60, async (batch, subscription) => {
        if (!calledEmpty) {
          // Nothing held yet: a no-op.
          await subscription().commitHeld();
          calledEmpty = true;
        }
        if (committedTo === undefined && BigInt(batch.messages[0]!.offset) >= 20n) {
          committedTo = BigInt(batch.messages.at(-1)!.offset) + 1n;
          return undefined;
        }
        return 'hold';
      });
      assert.ok(committedTo !== undefined && committedTo < 60n, 'a plain batch before the end');
      assert.equal(BigInt(again[0]!.offset), committedTo, 'the group resumes right after the plain batch; the held ones after it were not committed at stop');
      assert.equal(again.length, 60 - Number(committedTo));
    });

    void it('a handler that throws gets the same batch again after a backoff, and nothing is lost', { timeout }, async () => {
      const topic = await fx.topic({ partitions: 1 });
      const total = 50;
      await fx.bus.publish(Array.from({ length: total }, (_, i) => ({ topic, key: 'meter-1', value: `m${i}` })));

      const handled: ConsumedMessage[] = [];
      const calls: { firstOffset: string; failed: boolean }[] = [];
      const sub = await fx.bus.subscribe({
        groupId: randomGroup(),
        topics: [topic],
        fromBeginning: true,
        maxBatchSize: 10,
        handleBatch: (batch) => {
          assertBatchShape(batch);
          const failed = calls.length === 1; // the second call fails once
          calls.push({ firstOffset: batch.messages[0]!.offset, failed });
          if (failed) return Promise.reject(new Error('injected handler failure'));
          handled.push(...batch.messages);
          return Promise.resolve();
        },
      });
      try {
        await waitFor(() => handled.length >= total, waitMs, `${total} handled messages`);
      } finally {
        await sub.stop();
      }

      const failedIndex = calls.findIndex((c) => c.failed);
      assert.equal(failedIndex, 1);
      assert.equal(calls[failedIndex + 1]?.firstOffset, calls[failedIndex]!.firstOffset, 'the failed batch is delivered again from its first message');
      assert.deepEqual(handled.map(valueText), Array.from({ length: total }, (_, i) => `m${i}`), 'every message handled once, in order');
    });

    void it('two groups each get every message', { timeout }, async () => {
      const topic = await fx.topic({ partitions: 2 });
      const total = 40;
      await fx.bus.publish(Array.from({ length: total }, (_, i) => ({ topic, key: `meter-${i % 4}`, value: `m${i}` })));
      const a = await collect(topic, { groupId: randomGroup('group-a') });
      const b = await collect(topic, { groupId: randomGroup('group-b') });
      try {
        await waitFor(() => a.messages.length >= total && b.messages.length >= total, waitMs, 'both groups to get every message');
      } finally {
        await Promise.all([a.subscription.stop(), b.subscription.stop()]);
      }
      const expected = Array.from({ length: total }, (_, i) => `m${i}`).sort();
      assert.deepEqual(a.messages.map(valueText).sort(), expected);
      assert.deepEqual(b.messages.map(valueText).sort(), expected);
    });

    void it('partitionCount gives the topic\'s partitions; a keyed message lands on partitionForKey, an explicit partition wins over the key', { timeout }, async () => {
      const topic = await fx.topic({ partitions: 3 });
      const count = await fx.bus.partitionCount(topic);
      assert.ok(count >= 1);
      const keys = Array.from({ length: 12 }, (_, i) => `meter-${i}`);
      await fx.bus.publish([
        ...keys.map((key): OutgoingMessage => ({ topic, key, value: 'keyed' })),
        { topic, key: 'meter-0', partition: count - 1, value: 'explicit' },
      ]);
      const c = await collect(topic, { groupId: randomGroup() });
      try {
        await waitFor(() => c.messages.length >= keys.length + 1, waitMs, 'every message');
      } finally {
        await c.subscription.stop();
      }
      for (const m of c.messages.filter((x) => valueText(x) === 'keyed')) assert.equal(m.partition, partitionForKey(m.key!, count), `${m.key} on its key's partition`);
      assert.equal(c.messages.find((x) => valueText(x) === 'explicit')?.partition, count - 1);
      await assert.rejects(fx.bus.publish([{ topic, key: 'k', partition: count + 5, value: 'nowhere' }]), (err: unknown) => err instanceof EipError && !err.retriable);
    });

    void it('a batch carries the partition\'s high watermark: past the batch while the consumer catches up, right after it at the end', { timeout }, async () => {
      const topic = await fx.topic({ partitions: 1 });
      await fx.bus.publish(Array.from({ length: 50 }, (_, i) => ({ topic, key: 'meter-1', value: `m${i}` })));
      const c = await collect(topic, { groupId: randomGroup(), maxBatchSize: 10 });
      try {
        await waitFor(() => c.messages.length >= 50, waitMs, 'every message');
      } finally {
        await c.subscription.stop();
      }
      const lag = (b: ConsumedBatch): bigint => BigInt(b.highWatermark ?? '-1') - BigInt(b.messages.at(-1)!.offset) - 1n;
      assert.ok(c.batches.every((b) => b.highWatermark !== undefined), 'every batch says');
      assert.equal(lag(c.batches[0]!), 40n, 'the first batch: 40 more behind it');
      assert.equal(lag(c.batches.at(-1)!), 0n, 'the last batch ends at the high watermark');
    });

    void it('onAssigned names every partition before the first batch; stop() calls onRevoked with them after the last', { timeout }, async () => {
      const topic = await fx.topic({ partitions: 3 });
      const count = await fx.bus.partitionCount(topic);
      await fx.bus.publish(Array.from({ length: 30 }, (_, i) => ({ topic, key: `meter-${i}`, value: `m${i}` })));
      const log: string[] = [];
      let held = new Set<number>();
      let assigned: readonly TopicPartitions[] = [];
      let revoked: readonly TopicPartitions[] = [];
      let handled = 0;
      const sub = await fx.bus.subscribe({
        groupId: randomGroup(),
        topics: [topic],
        fromBeginning: true,
        onAssigned: async (a) => {
          log.push('assigned');
          // A slow hook: batches must still wait for it.
          await new Promise((r) => setTimeout(r, 200));
          assigned = a;
          held = new Set(a.flatMap((t) => t.partitions));
        },
        onRevoked: (r) => {
          log.push('revoked');
          revoked = r;
          held = new Set();
          return Promise.resolve();
        },
        handleBatch: (batch) => {
          assertBatchShape(batch);
          assert.ok(held.has(batch.partition), `batch of partition ${batch.partition}, held: ${[...held].join(',')}`);
          log.push('batch');
          handled += batch.messages.length;
          return Promise.resolve();
        },
      });
      try {
        await waitFor(() => handled >= 30, waitMs, 'every message');
      } finally {
        await sub.stop();
      }
      assert.equal(log[0], 'assigned');
      assert.equal(log.at(-1), 'revoked');
      assert.equal(log.filter((x) => x === 'assigned').length, 1, 'one member: assigned once');
      assert.deepEqual(assigned, [{ topic, partitions: Array.from({ length: count }, (_, p) => p), partitionCount: count }]);
      assert.deepEqual(revoked, assigned);
    });

    void it('two members of one group: no partition is held by both at once, each batch is of a partition its member holds, and when one stops the other takes all', { timeout }, async () => {
      const topicA = await fx.topic({ partitions: 4 });
      const topicB = await fx.topic({ partitions: 4 });
      const count = await fx.bus.partitionCount(topicA);
      assert.equal(await fx.bus.partitionCount(topicB), count);
      const groupId = randomGroup();
      const held = [new Map<string, number[]>(), new Map<string, number[]>()];
      const violations: string[] = [];
      const received = [0, 0];
      const heldBy = (i: number, topic: string, partition: number): boolean => held[i]!.get(topic)?.includes(partition) ?? false;
      const member = (i: number): Promise<Subscription> => fx.bus.subscribe({
        groupId,
        topics: [topicA, topicB],
        fromBeginning: true,
        copartitioned: true,
        onAssigned: (assigned) => {
          for (const t of assigned) {
            for (const p of t.partitions) if (heldBy(1 - i, t.topic, p)) violations.push(`${t.topic}/${p} assigned to ${i} while ${1 - i} holds it`);
            held[i]!.set(t.topic, [...t.partitions]);
          }
          return Promise.resolve();
        },
        onRevoked: () => {
          held[i]!.clear();
          return Promise.resolve();
        },
        handleBatch: (batch) => {
          if (!heldBy(i, batch.topic, batch.partition)) violations.push(`member ${i} got a batch of ${batch.topic}/${batch.partition} it does not hold`);
          received[i]! += batch.messages.length;
          return Promise.resolve();
        },
      });
      const first = await member(0);
      const second = await member(1);
      let secondStopped = false;
      try {
        const all = (i: number): number => [...held[i]!.values()].reduce((n, ps) => n + ps.length, 0);
        // Both members settled: every partition of both topics held by exactly one member.
        if (options.splitsPartitions) await waitFor(() => all(0) > 0 && all(1) > 0 && all(0) + all(1) === 2 * count, waitMs, 'the partitions split between the members');
        else {
          await waitFor(() => all(0) === 2 * count, waitMs, 'the first member holding every partition');
          assert.equal(all(1), 0, 'the second member waits while the first holds the group');
        }
        for (const p of Array.from({ length: count }, (_, x) => x)) {
          assert.equal(heldBy(0, topicA, p), heldBy(0, topicB, p), `co-partitioned: partition ${p} of both topics with the same member`);
        }
        await fx.bus.publish(Array.from({ length: 40 }, (_, i) => ({ topic: i % 2 ? topicA : topicB, key: `meter-${i}`, value: `m${i}` })));
        await waitFor(() => received[0]! + received[1]! >= 40, waitMs, 'every message by one member or the other');
        await second.stop();
        secondStopped = true;
        await waitFor(() => all(0) === 2 * count, waitMs, 'the remaining member holding every partition');
        await fx.bus.publish(Array.from({ length: 20 }, (_, i) => ({ topic: topicA, key: `later-${i}`, value: `l${i}` })));
        await waitFor(() => received[0]! + received[1]! >= 60, waitMs, 'later messages by the remaining member');
      } finally {
        if (!secondStopped) await second.stop();
        await first.stop();
      }
      assert.deepEqual(violations, []);
      assert.equal(received[0]! + received[1]!, 60, 'nothing delivered twice with no failure');
    });

    void it('readCompacted gives the latest value per key; a tombstone removes the key', { timeout }, async () => {
      const topic = await fx.topic({ compacted: true, partitions: 3 });
      await fx.bus.publish([
        { topic, key: 'k1', value: 'a' },
        { topic, key: 'k2', value: 'b' },
        { topic, key: 'k1', value: 'c' },
      ]);
      await fx.bus.publish([{ topic, key: 'k2', value: null }]);
      const state = await fx.bus.readCompacted(topic);
      assert.deepEqual([...state.entries()].map(([k, v]) => [k, v.toString('utf8')]), [['k1', 'c']]);
    });

    void it('an unkeyed message on a compacted topic is refused as REJECTED, not retriable', { timeout }, async () => {
      const topic = await fx.topic({ compacted: true, partitions: 1 });
      await assert.rejects(fx.bus.publish([{ topic, key: null, value: 'no key' }]), (err: unknown) => err instanceof EipError && err.code === 'REJECTED' && !err.retriable);
    });

    void it('readCompacted of an empty compacted topic is an empty map', { timeout }, async () => {
      const topic = await fx.topic({ compacted: true, partitions: 3 });
      const state = await fx.bus.readCompacted(topic);
      assert.equal(state.size, 0);
    });

    void it('a topic declared for large records takes a 2 MB record and reads it back whole from its compacted state', { timeout }, async () => {
      const topic = await fx.topic({ compacted: true, partitions: 1, maxMessageBytes: 4 * 2 ** 20 });
      const value = Buffer.alloc(2_000_000, 7);
      await fx.bus.publish([{ topic, key: 'state', value }]);
      const state = await fx.bus.readCompacted(topic);
      assert.ok(state.get('state')?.equals(value), 'the whole record');
    });

    void it('a batch over 1 MB in total publishes without TOO_LARGE and is stored in full', { timeout }, async () => {
      const topic = await fx.topic({ compacted: true, partitions: 3 });
      const count = 3_000;
      const valueFor = (i: number): Buffer => Buffer.concat([Buffer.from(`value-${i}:`), Buffer.alloc(1_024, i % 251)]);
      const messages = Array.from({ length: count }, (_, i): OutgoingMessage => ({ topic, key: `key-${i}`, value: valueFor(i) }));
      await fx.bus.publish(messages);
      const state = await fx.bus.readCompacted(topic);
      assert.equal(state.size, count);
      for (let i = 0; i < count; i++) assert.ok(state.get(`key-${i}`)?.equals(valueFor(i)), `key-${i} stored intact`);
    });
  });
}
