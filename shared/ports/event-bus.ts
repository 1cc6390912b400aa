/**
 * The event bus port: what services need from Kafka, and what the embedded bus
 * provides the same way. Delivery is at least once: a consumer group's offsets
 * are committed only after its handler has resolved for the batch.
 */
export type Headers = Record<string, string>;

export interface OutgoingMessage {
  topic: string;
  /** Decides the partition, and so the ordering: same key, same order. */
  key: string | null;
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
}

export interface SubscribeOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. Default: the beginning. */
  fromBeginning?: boolean;
  /**
   * Called with consecutive messages of one partition. Offsets up to the batch's
   * last message are committed only after this resolves; if it rejects, the
   * batch is delivered again (after a backoff) and nothing is committed.
   */
  handleBatch: (batch: ConsumedBatch) => Promise<void>;
  /** Largest batch handed to handleBatch, where the adapter can bound it. */
  maxBatchSize?: number;
}

export interface Subscription {
  /** Stops fetching, waits for the handler in progress, commits, leaves the group. */
  stop(): Promise<void>;
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
  /** True when the bus can take writes now. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
