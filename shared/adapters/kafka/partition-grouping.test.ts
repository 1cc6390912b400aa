/** The linear partition grouping against kafkajs' own, and that kafkajs' producer gets it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { compileFunction } from 'node:vm';
import fc from 'fast-check';
import { groupingModule, groupMessagesPerPartition, partitionGroupingInstalled } from './partition-grouping.ts';
import { cachedKeyPartitioner } from './kafka-bus.ts';

const require = createRequire(import.meta.url);
type Grouping = typeof groupMessagesPerPartition;

/** kafkajs' original, compiled from its file (the module cache holds the replacement). */
function originalGrouping(): Grouping {
  const module = { exports: {} as unknown };
  const load = compileFunction(readFileSync(require.resolve(groupingModule), 'utf8'), ['module', 'exports']) as (m: typeof module, e: unknown) => void;
  load(module, module.exports);
  return module.exports as Grouping;
}

describe('kafkajs partition grouping', () => {
  it('groups like kafkajs: the same partitions, the messages in their order', () => {
    const original = originalGrouping();
    const partitioner = cachedKeyPartitioner();
    fc.assert(fc.property(fc.integer({ min: 0, max: 12 }), fc.array(fc.record({ key: fc.string({ maxLength: 6 }), value: fc.string() }), { maxLength: 300 }), (count, messages) => {
      const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      const args = { topic: 't', partitionMetadata, messages, partitioner: partitioner as Parameters<Grouping>[0]['partitioner'] };
      const mine = groupMessagesPerPartition(args);
      assert.deepEqual(mine, original(args));
      assert.deepEqual(Object.keys(mine), Object.keys(original(args)));
    }), { numRuns: 300, seed: 14 });
  });

  it('is what kafkajs loads', async () => {
    await import('kafkajs');
    assert.equal(partitionGroupingInstalled, true);
    assert.equal(require(require.resolve(groupingModule)), groupMessagesPerPartition);
    assert.ok(require.cache[require.resolve('kafkajs/src/producer/sendMessages.js')], 'kafkajs loaded its producer');
  });
});
