/**
 * Which instance of a scaled-out rules service holds which alert state. A
 * binding's inputs all arrive under one key (its Home: the meter of its
 * readings, or the scope id of its aggregates), so they arrive on one partition
 * of one topic; the instance holding that partition holds the binding. Pure:
 * the partitioner is the event bus port's, given partition counts.
 */
import { partitionForKey } from '../../../shared/ports/partitioner.ts';
import type { Home } from './engine.ts';

export interface InputPartitions {
  /** Partitions of the readings topic. */
  reading: number;
  /** Partitions of the aggregates topic. */
  aggregate: number;
}

/** The partition of its input topic that carries a binding's inputs. */
export function homePartition(home: Home, counts: InputPartitions): number {
  return partitionForKey(home.key, counts[home.input]);
}

/**
 * The fingerprints held by whoever holds these partitions of the two input
 * topics (partition numbers per input kind).
 */
export function fingerprintsOf(homes: Iterable<[fp: string, home: Home]>, counts: InputPartitions, held: { reading: ReadonlySet<number>; aggregate: ReadonlySet<number> }): string[] {
  const out: string[] = [];
  for (const [fp, home] of homes) if (held[home.input].has(homePartition(home, counts))) out.push(fp);
  return out;
}
