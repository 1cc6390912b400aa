import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { createSqliteBus, partitionForKey, type SqliteBusOptions, type SqliteEventBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import type { ConsumedMessage } from '../../shared/ports/event-bus.ts';
import { eventBusContract } from '../../shared/ports/event-bus.contract.ts';
import { deferred, randomGroup, randomTopic, waitFor } from '../helpers/bus.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eip-bus-'));
  dirs.push(dir);
  return join(dir, 'bus.sqlite');
}

function openBus(path: string, extra: Partial<SqliteBusOptions> = {}): SqliteEventBus {
  // A short backoff keeps the redelivery test quick; nothing asserts timing.
  return createSqliteBus({ path, logger: quietLogger('sqlite-bus-test'), retryPolicy: { initialMs: 20, maxMs: 200 }, ...extra });
}

for (const partitions of [1, 3]) {
  eventBusContract(`sqlite (${partitions} partition${partitions > 1 ? 's' : ''})`, () => {
    const bus = openBus(tempFile(), { partitions });
    return Promise.resolve({
      bus,
      async topic(options = {}) {
        const name = randomTopic();
        await bus.ensureTopics([{ name, compacted: options.compacted ?? false, retentionMs: -1 }]);
        return name;
      },
      cleanup: () => bus.close(),
    });
  });
}

describe('sqlite bus: beyond the contract', () => {
  it('a new bus on the same file resumes from the committed offsets', async () => {
    const path = tempFile();
    const topic = randomTopic();
    const groupId = randomGroup();
    const total = 60;
    const bus1 = openBus(path, { partitions: 2 });
    await bus1.publish(Array.from({ length: total }, (_, i) => ({ topic, key: `meter-${i % 3}`, value: `m${i}` })));

    const first: ConsumedMessage[] = [];
    const reached = deferred();
    const sub1 = await bus1.subscribe({
      groupId,
      topics: [topic],
      maxBatchSize: 7,
      handleBatch: (batch) => {
        first.push(...batch.messages);
        if (first.length >= 20) reached.resolve();
        return Promise.resolve();
      },
    });
    await reached.promise;
    await sub1.stop();
    await bus1.close();

    const bus2 = openBus(path);
    const second: ConsumedMessage[] = [];
    const sub2 = await bus2.subscribe({ groupId, topics: [topic], handleBatch: (b) => { second.push(...b.messages); return Promise.resolve(); } });
    try {
      await waitFor(() => first.length + second.length >= total, 10_000, 'the rest of the topic');
    } finally {
      await sub2.stop();
    }
    const seen = new Set(first.map((m) => `${m.partition}/${m.offset}`));
    assert.ok(second.every((m) => !seen.has(`${m.partition}/${m.offset}`)), 'nothing committed is delivered again');
    assert.deepEqual([...first, ...second].map((m) => m.value?.toString()).sort(), Array.from({ length: total }, (_, i) => `m${i}`).sort());
    // The topic keeps the 2 partitions it was created with, though bus2 defaults to 1.
    await bus2.publish([{ topic, key: 'meter-9', value: 'late' }]);
    const all: ConsumedMessage[] = [];
    const sub3 = await bus2.subscribe({ groupId: randomGroup(), topics: [topic], fromBeginning: true, handleBatch: (b) => { all.push(...b.messages); return Promise.resolve(); } });
    try {
      await waitFor(() => all.length >= total + 1, 10_000, 'the whole topic');
    } finally {
      await sub3.stop();
    }
    const late = all.find((m) => m.key === 'meter-9');
    assert.equal(late?.partition, partitionForKey('meter-9', 2));
    await bus2.close();
  });

  it('two subscriptions of one group never share a message; the standby takes over on stop', async () => {
    const bus = openBus(tempFile());
    const topic = randomTopic();
    const groupId = randomGroup();
    const a: ConsumedMessage[] = [];
    const b: ConsumedMessage[] = [];
    const subA = await bus.subscribe({ groupId, topics: [topic], handleBatch: (x) => { a.push(...x.messages); return Promise.resolve(); } });
    const subB = await bus.subscribe({ groupId, topics: [topic], handleBatch: (x) => { b.push(...x.messages); return Promise.resolve(); } });
    await bus.publish(Array.from({ length: 30 }, (_, i) => ({ topic, key: 'k', value: `m${i}` })));
    await waitFor(() => a.length + b.length >= 30, 10_000, 'first 30');
    const [owner, standby] = a.length > 0 ? [subA, subB] : [subB, subA];
    await owner.stop();
    await bus.publish(Array.from({ length: 30 }, (_, i) => ({ topic, key: 'k', value: `m${30 + i}` })));
    await waitFor(() => a.length + b.length >= 60, 10_000, 'next 30 through the standby');
    await standby.stop();
    assert.ok(a.length === 30 || b.length === 30, 'the first 30 all went to one owner');
    assert.deepEqual([...a, ...b].map((m) => m.value?.toString()).sort(), Array.from({ length: 60 }, (_, i) => `m${i}`).sort());
    await bus.close();
  });

  it('a publish from another bus instance (as from another process) reaches a polling consumer', async () => {
    const path = tempFile();
    const consumerBus = openBus(path);
    const producerBus = openBus(path);
    const topic = randomTopic();
    const got: ConsumedMessage[] = [];
    const sub = await consumerBus.subscribe({ groupId: randomGroup(), topics: [topic], handleBatch: (x) => { got.push(...x.messages); return Promise.resolve(); } });
    await producerBus.publish([{ topic, key: 'k', value: 'hello' }]);
    await waitFor(() => got.length === 1, 10_000, 'the message');
    await sub.stop();
    await Promise.all([consumerBus.close(), producerBus.close()]);
  });

  it('fromBeginning false skips what was published before the subscription', async () => {
    const bus = openBus(tempFile());
    const topic = randomTopic();
    await bus.publish([{ topic, key: 'k', value: 'before' }]);
    const got: string[] = [];
    const sub = await bus.subscribe({ groupId: randomGroup(), topics: [topic], fromBeginning: false, handleBatch: (x) => { got.push(...x.messages.map((m) => m.value!.toString())); return Promise.resolve(); } });
    await bus.publish([{ topic, key: 'k', value: 'after' }]);
    await waitFor(() => got.length >= 1, 10_000, 'the later message');
    await sub.stop();
    assert.deepEqual(got, ['after']);
    await bus.close();
  });

  it('an unkeyed message on a compacted topic is refused, and nothing of its batch is written', async () => {
    const bus = openBus(tempFile());
    const topic = randomTopic();
    await bus.ensureTopics([{ name: topic, compacted: true, retentionMs: -1 }]);
    await assert.rejects(bus.publish([{ topic, key: 'k1', value: 'a' }, { topic, key: null, value: 'b' }]), { name: 'EipError', code: 'REJECTED' });
    assert.equal((await bus.readCompacted(topic)).size, 0);
    await bus.close();
  });

  it('prune deletes messages past retention that every group has committed', async () => {
    const bus = openBus(tempFile(), { pruneIntervalMs: 0 });
    const topic = randomTopic();
    await bus.ensureTopics([{ name: topic, compacted: false, retentionMs: 1_000 }]);
    const old = 1_000_000;
    await bus.publish(Array.from({ length: 10 }, (_, i) => ({ topic, key: 'k', value: `m${i}`, timestamp: old + i })));
    const groupId = randomGroup();
    let handled = 0;
    const gate = deferred();
    const sub = await bus.subscribe({
      groupId,
      topics: [topic],
      maxBatchSize: 4,
      handleBatch: async (b) => {
        handled += b.messages.length;
        if (handled > 4) await gate.promise;
      },
    });
    await waitFor(() => handled > 4, 10_000, 'the second batch to be in progress');
    // The group committed the first 4 only (the second batch is still being handled): only those may go.
    assert.equal(bus.prune(old + 10_000), 4);
    assert.equal(bus.prune(old + 10_000), 0);
    gate.resolve();
    await sub.stop();
    await bus.close();
  });

  it('publish after close is refused with CLOSED', async () => {
    const bus = openBus(tempFile());
    await bus.close();
    await assert.rejects(bus.publish([{ topic: 't', key: 'k', value: 'v' }]), { name: 'EipError', code: 'CLOSED' });
    assert.equal(await bus.ping(), false);
  });

  it('partitions keys the way Kafka does (murmur2, as kafkajs DefaultPartitioner)', () => {
    const require = createRequire(import.meta.url);
    const kafkajs = require('kafkajs') as { Partitioners: { DefaultPartitioner: () => (args: { topic: string; partitionMetadata: { partitionId: number; leader: number }[]; message: { key: string } }) => number } };
    const partitioner = kafkajs.Partitioners.DefaultPartitioner();
    for (const count of [1, 3, 6]) {
      const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0 }));
      for (let i = 0; i < 500; i++) {
        const key = `meter-${i}-é`;
        assert.equal(partitionForKey(key, count), partitioner({ topic: 't', partitionMetadata, message: { key } }), key);
      }
    }
  });
});
