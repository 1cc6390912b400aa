/**
 * Creates the project's Kafka topics (shared/contracts/kafka-topics.ts) with their
 * partition counts, retention and compaction; idempotent. infra/kafka/kafka.sh runs
 * it after the broker is ready; run it yourself against another cluster.
 */
import { z } from 'zod';
import { runMain } from '../../shared/runtime/run-main.ts';
import { envInt, envList } from '../../shared/config/env.ts';
import { commonEnv } from '../../shared/config/common.ts';
import { allTopics } from '../../shared/contracts/kafka-topics.ts';
import { ensureTopics } from '../../shared/adapters/kafka/index.ts';
import { kafkaSecurityEnv } from '../../shared/config/adapters-env.ts';
import { kafkaSecurity } from '../../shared/adapters/select.ts';

export const bootstrapConfigSchema = z.object({
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  KAFKA_BROKERS: envList('Kafka bootstrap servers', { default: '127.0.0.1:9092', item: /^[^:\s]+:\d{1,5}$/, itemHint: 'host:port' }),
  KAFKA_REPLICATION_FACTOR: envInt('replication factor of the created topics (1 on a single node)', { default: 1, min: 1, max: 16 }),
  ...kafkaSecurityEnv,
});

await runMain({
  service: 'bootstrap-topics',
  summary: 'creates the project\'s Kafka topics (idempotent)',
  schema: bootstrapConfigSchema,
  start: async (config, { logger }) => {
    const created = await ensureTopics({ brokers: config.KAFKA_BROKERS, clientId: 'eip-bootstrap', logger, ...kafkaSecurity(config), replicationFactor: config.KAFKA_REPLICATION_FACTOR }, allTopics);
    logger.info({ created, topics: allTopics.map((t) => t.name) }, created.length ? 'topics created' : 'topics already present');
  },
});
