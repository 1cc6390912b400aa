/**
 * The event bus port: what services need from Kafka, and what the embedded bus
 * provides the same way. Delivery is at least once: a consumer group's offsets
 * are committed only after its handler has resolved for the batch.
 */
export type Headers = Record<string, string>;

export interface OutgoingMessage {
  topic: string;
  /**
   * Decides the partition, and so the ordering: same key, same order. A keyed
   * message goes to partitionForKey(key, partition count) (ports/partitioner.ts).
   */
  key: string | null;
  /** Overrides the key's partition: 0 <= partition < the topic's partition count. */
  partition?: number;
  /** null is a tombstone on a compacted topic (deletes the key). */
  value: Buffer | string | null;
  headers?: Headers;
  /** Epoch ms; defaults to now. */
  timestamp?: number;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** Decimal string, as Kafka offsets exceed 2^53 in theory. */
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Headers;
  timestamp: number;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: readonly ConsumedMessage[];
  /**
   * The partition's end offset (next offset to be written) when the batch was
   * fetched, where the adapter knows it: a consumer whose batch ends before it is
   * still catching up.
   */
  highWatermark?: string;
}

/** Partitions of one topic held by a group member. */
export interface TopicPartitions {
  topic: string;
  /** Ascending. */
  partitions: readonly number[];
  /** How many partitions the topic has, assigned or not. */
  partitionCount: number;
}

/** What a batch handler resolves with: nothing (commit the batch) or 'hold' (see SubscribeOptions.handleBatch). */
export type BatchDone = void | 'hold';

export interface SubscribeOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. Default: the beginning. */
  fromBeginning?: boolean;
  /**
   * Called with consecutive messages of one partition. Offsets up to the batch's
   * last message are committed only after this resolves; if it rejects, the
   * batch is delivered again (after a backoff) and nothing is committed.
   *
   * Resolving with 'hold' leaves the batch's offsets uncommitted while the next
   * batches of the partition are delivered all the same: a consumer whose state
   * is persisted less often than it handles batches commits only what its state
   * holds. Held offsets are committed by the next batch of the partition that
   * resolves without 'hold' (it commits through its own end) or by
   * Subscription.commitHeld(); a revocation or stop() drops them uncommitted,
   * so the partition's next owner gets those batches again.
   */
  handleBatch: (batch: ConsumedBatch) => Promise<BatchDone>;
  /** Largest batch handed to handleBatch, where the adapter can bound it. */
  maxBatchSize?: number;
  /**
   * The group's members share the topics' partitions; these hooks say which
   * this member holds, so per-key state can move with its partition. The
   * protocol is eager, as Kafka's: when the assignment changes, onRevoked is
   * called with every partition held (then nothing is held), and onAssigned with
   * the new set, which may include partitions held before. Both run between
   * batches, never alongside handleBatch or each other, and handleBatch is
   * called for a partition only after the onAssigned that gave it has resolved.
   * stop() calls onRevoked after the last batch. A member may hold nothing (more
   * members than partitions); an adapter without rebalancing (the embedded bus,
   * one member per group) calls onAssigned once with every partition.
   *
   * Kafka starts rejoining as soon as it learns of a rebalance and does not wait
   * for onRevoked to resolve: every batch has finished (and committed) by then,
   * but work the service does outside handleBatch (timers) must stop writing
   * for those partitions from the moment onRevoked is called.
   *
   * A rejecting onAssigned is called again after a backoff, and no batch is
   * delivered meanwhile; a rejecting onRevoked is logged, and the partitions are
   * revoked all the same.
   */
  onAssigned?: (assigned: readonly TopicPartitions[]) => Promise<void>;
  onRevoked?: (revoked: readonly TopicPartitions[]) => Promise<void>;
  /**
   * Co-partitioned: partition p of every subscribed topic goes to the same
   * member, so keys partitioned alike across topics (same key, same partition
   * count) meet in one member. Default false.
   */
  copartitioned?: boolean;
}

export interface Subscription {
  /** Stops fetching, waits for the handler in progress, commits it (unless held), leaves the group; held offsets stay uncommitted. */
  stop(): Promise<void>;
  /**
   * Commits, for every partition still held, the offsets of the batches held so
   * far (through the last one whose handler resolved with 'hold'). Call it only
   * once the state those batches built is persisted. A partition revoked
   * meanwhile is skipped; a commit the group refuses (a rebalance) rejects, and
   * its batches go to the next owner.
   */
  commitHeld(): Promise<void>;
}

export interface EventBus {
  /**
   * Publishes a batch. Resolves once every message is durably stored (Kafka:
   * acknowledged by all in-sync replicas); rejects with an EipError that says
   * whether a retry can help. Order is kept per key.
   */
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** The latest value per key of a compacted topic, read in full up to its current end. */
  readCompacted(topic: string): Promise<Map<string, Buffer>>;
  /** How many partitions the topic has (which partitionForKey needs). */
  partitionCount(topic: string): Promise<number>;
  /** True when the bus can take writes now. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
