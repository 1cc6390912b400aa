export { createSqliteBus, type SqliteBusOptions, type SqliteEventBus, type TopicSettings } from './sqlite-bus.ts';
export { murmur2, partitionForKey } from './partition.ts';
