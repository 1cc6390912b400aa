export { createKafkaBus, type KafkaBusOptions, type KafkaEventBus } from './kafka-bus.ts';
export { ensureTopics, ensureTopicsWith, type EnsureTopicsOptions, type TopicSettings } from './topics.ts';
export { createKafkaClient, type KafkaConnectionOptions } from './client.ts';
export { kafkaError } from './errors.ts';
export { estimateRecordBytes, splitByBytes } from './batching.ts';
export { pinoLogCreator, type KafkajsLogLevel } from './log-creator.ts';
