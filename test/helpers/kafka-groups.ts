/**
 * Fresh consumer groups of a test start at the topics' ends. A developer's
 * long-lived Kafka holds millions of other runs' records (benchmarks write
 * hundreds of MB), which a group starting from the beginning would read first:
 * tests then time out on such a Kafka while passing on a freshly formatted one.
 * Call this before the group first joins and before the test publishes what it
 * expects to see; a group that already has offsets is moved too, so call it once.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { EventBus, Subscription } from '../../shared/ports/event-bus.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { rollupGroup } from '../../services/aggregator/rollup-stage.ts';
import { outputsGroup } from '../../services/rules/alert-outputs.ts';
import { kafkaBrokers } from './servers.ts';

export type GroupTopics = readonly [groupId: string, topics: readonly string[]];

export async function startGroupsAtEnd(entries: readonly GroupTopics[]): Promise<void> {
  const admin = new Kafka({ clientId: 'test-groups-at-end', brokers: kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    for (const [groupId, names] of entries) {
      for (const topic of names) {
        const ends = await admin.fetchTopicOffsets(topic);
        await admin.setOffsets({ groupId, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** The groups (and what each reads) of a service instance started with the given group setting. */
export const serviceGroups = {
  aggregator: (group: string): GroupTopics[] => [[group, [topics.readings.name]], [rollupGroup(group), [topics.aggregatorPartials.name]]],
  rules: (group: string): GroupTopics[] => [
    [group, [topics.readings.name, topics.aggregates.name, topics.rulesRouted.name]],
    [`${group}.router`, [topics.meterStatus.name, topics.alertCommands.name]],
    [outputsGroup(group), [topics.alerts.name]],
  ],
};

/** A fresh group of the test's own, from the topics' ends: every record's JSON goes to onRecord, in order per partition. */
export async function watchFromEnd(bus: EventBus, name: string, topicNames: readonly string[], onRecord: (topic: string, json: unknown) => void): Promise<Subscription> {
  const groupId = `${name}-${randomBytes(4).toString('hex')}`;
  await startGroupsAtEnd([[groupId, topicNames]]);
  return bus.subscribe({
    groupId, topics: [...topicNames], fromBeginning: true,
    handleBatch: async (b) => { for (const m of b.messages) onRecord(b.topic, JSON.parse(m.value!.toString())); },
  });
}
