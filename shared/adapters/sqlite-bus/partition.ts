/** The port's partitioner, which the embedded bus applies to keyed messages. */
export { murmur2, partitionForKey } from '../../ports/partitioner.ts';
