import './partition-grouping.ts';
import './record-encoding.ts';
import kafkajs, { type Admin } from 'kafkajs';
import type { TopicSpec } from '../../contracts/kafka-topics.ts';
import type { Logger } from '../../observability/logger.ts';
import { createKafkaClient, type KafkaConnectionOptions } from './client.ts';
import { kafkaError } from './errors.ts';

/** What topic creation needs from a TopicSpec. */
export type TopicSettings = Pick<TopicSpec, 'name' | 'partitions' | 'retentionMs' | 'compacted'>;

export interface EnsureTopicsOptions {
  /** Default 1 (the local single-node broker). */
  replicationFactor?: number;
}

/**
 * Creates the topics that do not exist, with their partitions, retention and
 * cleanup policy; idempotent. Existing topics are left alone (changing the
 * partition count would move keys to other partitions and break their order),
 * but a mismatch with the spec is logged.
 */
export async function ensureTopicsWith(admin: Admin, specs: readonly TopicSettings[], logger: Logger, options: EnsureTopicsOptions = {}): Promise<string[]> {
  const replicationFactor = options.replicationFactor ?? 1;
  try {
    const existing = new Set(await admin.listTopics());
    const created: string[] = [];
    for (const spec of specs) {
      if (existing.has(spec.name)) continue;
      // One topic per call: kafkajs skips waiting for leaders when any topic of a call already existed.
      const isNew = await admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor,
          configEntries: [
            { name: 'retention.ms', value: String(spec.retentionMs) },
            { name: 'cleanup.policy', value: spec.compacted ? 'compact' : 'delete' },
            // Kafka never compacts the active segment: roll it hourly so state topics read on start stay small.
            ...(spec.compacted ? [{ name: 'segment.ms', value: '3600000' }, { name: 'min.cleanable.dirty.ratio', value: '0.1' }] : []),
          ],
        }],
      });
      if (isNew) created.push(spec.name);
    }
    const others = specs.filter((s) => existing.has(s.name));
    if (others.length > 0) await checkExisting(admin, others, logger);
    if (created.length > 0) logger.info({ topics: created }, 'created Kafka topics');
    return created;
  } catch (err) {
    throw kafkaError(err, 'ensure topics');
  }
}

async function checkExisting(admin: Admin, specs: readonly TopicSettings[], logger: Logger): Promise<void> {
  const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name: s.name, configNames: ['cleanup.policy', 'retention.ms'] })),
  });
  for (const spec of specs) {
    const partitions = topics.find((t) => t.name === spec.name)?.partitions.length;
    const entries = configs.resources.find((r) => r.resourceName === spec.name)?.configEntries ?? [];
    const policy = entries.find((e) => e.configName === 'cleanup.policy')?.configValue;
    const retention = entries.find((e) => e.configName === 'retention.ms')?.configValue;
    const compacted = policy?.split(',').includes('compact');
    if (partitions !== spec.partitions || compacted !== spec.compacted || retention !== String(spec.retentionMs)) {
      logger.warn({ topic: spec.name, partitions, policy, retention, expected: { partitions: spec.partitions, compacted: spec.compacted, retentionMs: spec.retentionMs } }, 'existing Kafka topic differs from its spec; left unchanged');
    }
  }
}

/** For a bootstrap script: connects, creates what is missing, disconnects. */
export async function ensureTopics(options: KafkaConnectionOptions & EnsureTopicsOptions, specs: readonly TopicSettings[]): Promise<string[]> {
  const admin = createKafkaClient(options).admin();
  try {
    await admin.connect();
  } catch (err) {
    throw kafkaError(err, 'connect admin');
  }
  try {
    return await ensureTopicsWith(admin, specs, options.logger, options);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
