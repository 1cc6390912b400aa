import './partition-grouping.ts';
import './record-encoding.ts';
import kafkajs, { type Admin } from 'kafkajs';
import type { TopicSpec } from '../../contracts/kafka-topics.ts';
import type { Logger } from '../../observability/logger.ts';
import { createKafkaClient, type KafkaConnectionOptions } from './client.ts';
import { kafkaError } from './errors.ts';

/** What topic creation needs from a TopicSpec. */
export type TopicSettings = Pick<TopicSpec, 'name' | 'partitions' | 'retentionMs' | 'compacted' | 'maxMessageBytes'>;

export interface EnsureTopicsOptions {
  /** Default 1 (the local single-node broker). */
  replicationFactor?: number;
}

/**
 * Creates the topics that do not exist, with their partitions, retention,
 * cleanup policy and record size limit; idempotent. Existing topics are left
 * alone (changing the partition count would move keys to other partitions and
 * break their order), but a mismatch with the spec is logged; only a size limit
 * below the spec's is raised, which takes nothing away from anyone.
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
            ...(spec.maxMessageBytes !== undefined ? [{ name: 'max.message.bytes', value: String(spec.maxMessageBytes) }] : []),
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
    resources: specs.map((s) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name: s.name, configNames: ['cleanup.policy', 'retention.ms', 'max.message.bytes'] })),
  });
  const raise: { name: string; from: string | undefined; to: number }[] = [];
  for (const spec of specs) {
    const partitions = topics.find((t) => t.name === spec.name)?.partitions.length;
    const entries = configs.resources.find((r) => r.resourceName === spec.name)?.configEntries ?? [];
    const policy = entries.find((e) => e.configName === 'cleanup.policy')?.configValue;
    const retention = entries.find((e) => e.configName === 'retention.ms')?.configValue;
    const compacted = policy?.split(',').includes('compact');
    if (partitions !== spec.partitions || compacted !== spec.compacted || retention !== String(spec.retentionMs)) {
      logger.warn({ topic: spec.name, partitions, policy, retention, expected: { partitions: spec.partitions, compacted: spec.compacted, retentionMs: spec.retentionMs } }, 'existing Kafka topic differs from its spec; left unchanged');
    }
    const limit = entries.find((e) => e.configName === 'max.message.bytes')?.configValue;
    if (spec.maxMessageBytes !== undefined && !(Number(limit) >= spec.maxMessageBytes)) raise.push({ name: spec.name, from: limit, to: spec.maxMessageBytes });
  }
  if (raise.length === 0) return;
  // kafkajs speaks the older AlterConfigs, which replaces a topic's whole set of overrides: the ones it has go with the new limit.
  const current = await admin.describeConfigs({ includeSynonyms: false, resources: raise.map((r) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name: r.name })) });
  await admin.alterConfigs({
    validateOnly: false,
    resources: raise.map((r) => {
      const overrides = (current.resources.find((x) => x.resourceName === r.name)?.configEntries ?? [])
        .filter((e) => e.configSource === kafkajs.ConfigSource.TOPIC_CONFIG && e.configName !== 'max.message.bytes')
        .map((e) => ({ name: e.configName, value: e.configValue }));
      return { type: kafkajs.ConfigResourceTypes.TOPIC, name: r.name, configEntries: [...overrides, { name: 'max.message.bytes', value: String(r.to) }] };
    }),
  });
  for (const r of raise) logger.info({ topic: r.name, from: r.from, to: r.to }, 'raised the Kafka topic\'s max.message.bytes to its spec');
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
