/**
 * kafkajs 2.2.4 groups a send's messages by partition with
 * `Object.assign(result, { [partition]: [...current, message] })`: it copies a
 * partition's list for every message, so the cost grows with the square of the
 * batch. A batch of 4,700 readings on 6 partitions allocated about 20 MB there,
 * a fifth of everything ingest allocated (allocation profile of `npm run
 * bench:ingest`). This linear version, with the same result (partition ->
 * messages in their order, {} without partitions), takes its place in the
 * module cache before kafkajs loads: import this module before kafkajs.
 */
import { preloadCommonJs } from '../../runtime/preload-commonjs.ts';

interface GroupArgs<M> {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly M[];
  partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

export const groupingModule = 'kafkajs/src/producer/groupMessagesPerPartition.js';

/** False when kafkajs was loaded before this module: its producer then keeps the quadratic grouping. */
export const partitionGroupingInstalled = preloadCommonJs(import.meta.url, groupingModule, groupMessagesPerPartition);
