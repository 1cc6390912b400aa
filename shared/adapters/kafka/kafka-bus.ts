import './partition-grouping.ts';
import './record-encoding.ts';
import { randomUUID } from 'node:crypto';
import kafkajs, { Partitioners, type Admin, type ICustomPartitioner, type Consumer, type EachBatchPayload, type IHeaders, type Kafka, type KafkaMessage, type Message, type PartitionAssigner, type Producer } from 'kafkajs';
import { EipError, errorMessage } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { BatchDone, ConsumedMessage, EventBus, Headers, OutgoingMessage, SubscribeOptions, Subscription, TopicPartitions } from '../../ports/event-bus.ts';
import { Serial } from '../../runtime/serial.ts';
import { backoffDelay, defaultRetryPolicy, retry, type RetryPolicy } from '../../retry.ts';
import { estimateRecordBytes, splitByBytes } from './batching.ts';
import { createKafkaClient, type KafkaConnectionOptions } from './client.ts';
import { kafkaError } from './errors.ts';
import { ensureTopicsWith, type TopicSettings } from './topics.ts';

export interface KafkaBusOptions extends KafkaConnectionOptions {
  /** Estimated bytes per send; stays under the broker's ~1 MB message.max.bytes. Default 900,000. */
  maxBatchBytes?: number;
  /** Messages per send. Default 5,000. */
  maxBatchMessages?: number;
  /**
   * kafkajs' retries of a failed send before publish() rejects. Default 5 (about
   * 10 s). kafkajs' default for idempotent producers is unbounded, which would
   * leave publish() hanging while Kafka is down instead of saying so.
   */
  producerRetries?: number;
  /** Backoff before a batch whose handler failed is delivered again. */
  retryPolicy?: Partial<RetryPolicy>;
  /** Largest batch handed to a handler when a subscription does not say. Default 500. */
  maxBatchSize?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long a fetch waits on the broker for data; also bounds how long stop() waits. Default 500 ms. */
  maxWaitTimeMs?: number;
  /** ping() answers false after this long. Default 5 s. */
  pingTimeoutMs?: number;
  /** readCompacted() rejects with TIMEOUT after this long. Default 60 s. */
  readCompactedTimeoutMs?: number;
  /** For ensureTopics. Default 1. */
  replicationFactor?: number;
}

export interface KafkaEventBus extends EventBus {
  /** Creates the missing topics (see ensureTopics in topics.ts); returns the names created. */
  ensureTopics(specs: readonly TopicSettings[]): Promise<string[]>;
}

function headersOf(headers: IHeaders | undefined): Headers {
  const result: Headers = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    // Kafka allows a header name more than once; the port keeps the last.
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) result[name] = value.toString();
  }
  return result;
}

function toConsumed(topic: string, partition: number, message: KafkaMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key === null || message.key === undefined ? null : message.key.toString('utf8'),
    value: message.value ?? null,
    headers: headersOf(message.headers),
    timestamp: Number(message.timestamp),
  };
}

function toKafkaMessage(message: OutgoingMessage): Message {
  return {
    ...(message.partition !== undefined && { partition: message.partition }),
    key: message.key,
    value: message.value,
    headers: message.headers,
    timestamp: message.timestamp === undefined ? undefined : String(message.timestamp),
  };
}

const { AssignerProtocol } = kafkajs;
const coPartitionedName = 'EipCoPartitioned';

/**
 * Partition p of every subscribed topic goes to the same member: the members
 * sorted by id take the partition numbers in turn (p modulo the member count).
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: coPartitionedName,
  version: 1,
  protocol: ({ topics }) => ({ name: coPartitionedName, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) }),
  assign: ({ members, topics }) => {
    const ids = members.map((m) => m.memberId).sort();
    const byMember = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      const partitions = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId).sort((a, b) => a - b);
      for (const p of partitions) {
        const mine = byMember.get(ids[p % ids.length]!)!;
        (mine[topic] ??= []).push(p);
      }
    }
    return Promise.resolve(ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: byMember.get(memberId)!, userData: Buffer.alloc(0) }),
    })));
  },
});

/** Partitions remembered per key before the cache starts over: a park's meters, with room to spare. */
const partitionCacheSize = 100_000;

/**
 * kafkajs' default partitioner (murmur2 of the key modulo the partition count),
 * remembering the partition of each string key: it hashes every message and
 * filters the partition list for each, a few microseconds a record, while a
 * park has a few thousand meters. Same partitions, so per-meter order holds.
 */
export const cachedKeyPartitioner: ICustomPartitioner = () => {
  const partition = Partitioners.DefaultPartitioner();
  // Per topic and partition count, so that a lookup builds no key string.
  const byTopic = new Map<string, { partitions: number; byKey: Map<string, number> }>();
  return (args) => {
    const { message, partitionMetadata, topic } = args;
    if (typeof message.key !== 'string' || (message.partition !== undefined && message.partition !== null)) return partition(args);
    let cache = byTopic.get(topic);
    if (cache?.partitions !== partitionMetadata.length) {
      cache = { partitions: partitionMetadata.length, byKey: new Map() };
      byTopic.set(topic, cache);
    }
    let p = cache.byKey.get(message.key);
    if (p === undefined) {
      p = partition(args);
      if (cache.byKey.size >= partitionCacheSize) cache.byKey.clear();
      cache.byKey.set(message.key, p);
    }
    return p;
  };
};

/** Connects once on first use; a failed attempt is forgotten so the next call tries again. */
function lazyConnect(connect: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => {
    pending ??= connect().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/**
 * The event bus on Kafka through kafkajs. The producer is idempotent with acks
 * from all in-sync replicas and one request in flight (which kafkajs requires
 * for idempotence), and connects on first use. Consumers commit an offset only
 * after their handler resolved; a failing handler's batch is sought back to and
 * delivered again after a backoff, with its partition paused meanwhile. A
 * subscription hands its handler one batch at a time (kafkajs' default of one
 * partition consumed at a time), so handlers need no locking of their own.
 */
export function createKafkaBus(options: KafkaBusOptions): KafkaEventBus {
  return new KafkaBus(options);
}

class KafkaBus implements KafkaEventBus {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly options: KafkaBusOptions;
  readonly retryPolicy: RetryPolicy;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly connectProducer: () => Promise<void>;
  private readonly connectAdmin: () => Promise<void>;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly partitionCounts = new Map<string, number>();
  private closed = false;

  constructor(options: KafkaBusOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'kafka-bus' });
    this.retryPolicy = { ...defaultRetryPolicy, ...options.retryPolicy };
    this.kafka = createKafkaClient(options);
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: cachedKeyPartitioner,
      retry: { retries: options.producerRetries ?? 5 },
    });
    this.admin = this.kafka.admin();
    this.connectProducer = lazyConnect(() => this.producer.connect());
    this.connectAdmin = lazyConnect(() => this.admin.connect());
  }

  private assertOpen(): void {
    if (this.closed) throw new EipError('CLOSED', 'kafka bus is closed');
  }

  private async readyAdmin(): Promise<Admin> {
    try {
      await this.connectAdmin();
    } catch (err) {
      throw kafkaError(err, 'connect admin');
    }
    return this.admin;
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    try {
      await this.connectProducer();
    } catch (err) {
      throw kafkaError(err, 'connect producer');
    }
    await this.checkExplicitPartitions(messages);
    const chunks = splitByBytes(messages, estimateRecordBytes, this.options.maxBatchBytes ?? 900_000, this.options.maxBatchMessages ?? 5_000);
    // One send at a time: a later chunk never overtakes an earlier one, so per-key order holds.
    for (const chunk of chunks) {
      const byTopic = new Map<string, Message[]>();
      for (const message of chunk) {
        let list = byTopic.get(message.topic);
        if (list === undefined) {
          list = [];
          byTopic.set(message.topic, list);
        }
        list.push(toKafkaMessage(message));
      }
      try {
        await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })) });
      } catch (err) {
        // Earlier chunks are stored: a retry of the whole batch duplicates them (at least once).
        throw kafkaError(err, 'publish');
      }
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    if (options.topics.length === 0) throw new EipError('CONFIG_INVALID', 'subscribe needs at least one topic');
    if (options.groupId === '') throw new EipError('CONFIG_INVALID', 'subscribe needs a groupId');
    const subscription = new KafkaSubscription(this, options, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (err) {
      await subscription.stop();
      throw kafkaError(err, `subscribe ${options.groupId}`);
    }
    return subscription;
  }

  /**
   * Reads the topic from the beginning up to the end offsets it has when called,
   * through a consumer of a throwaway group (kafkajs has no group-less consumer),
   * deleted afterwards. Relies on the record at high - 1 existing, which holds for
   * compacted topics: the cleaner never touches the active segment.
   */
  async readCompacted(topic: string): Promise<Map<string, Buffer>> {
    this.assertOpen();
    const admin = await this.readyAdmin();
    const result = new Map<string, Buffer>();
    // Only the metadata race below is waited out here; any other error is the caller's, at once.
    const fetched = await retry(async () => {
      try {
        return { offsets: await admin.fetchTopicOffsets(topic) };
      } catch (err) {
        if (err instanceof TypeError) throw offsetsNotKnownYet(err, topic);
        return { err };
      }
    }, { policy: { initialMs: 200, maxMs: 2_000, maxAttempts: 10 } });
    if ('err' in fetched) throw kafkaError(fetched.err, `read ${topic}`);
    const ends = new Map(fetched.offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    if (ends.size === 0) return result;

    const groupId = `${this.options.clientId}.read-compacted.${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 500 });
    const timeoutMs = this.options.readCompactedTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new EipError('TIMEOUT', `kafka: reading ${topic} took over ${timeoutMs} ms`)), timeoutMs);
        const remaining = new Set(ends.keys());
        const run = async (): Promise<void> => {
          await consumer.connect();
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          await consumer.run({
            autoCommit: false,
            eachBatch: ({ batch }) => {
              const end = ends.get(batch.partition);
              if (end === undefined) return Promise.resolve();
              for (const message of batch.messages) {
                if (BigInt(message.offset) >= end) break;
                if (message.key === null || message.key === undefined) continue;
                const key = message.key.toString('utf8');
                if (message.value === null) result.delete(key);
                else result.set(key, message.value);
              }
              if (BigInt(batch.lastOffset()) + 1n >= end) {
                remaining.delete(batch.partition);
                if (remaining.size === 0) resolve();
              }
              return Promise.resolve();
            },
          });
        };
        run().catch(reject);
      });
    } catch (err) {
      throw kafkaError(err, `read ${topic}`);
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch((err: unknown) => this.logger.warn({ err, groupId }, 'could not disconnect the compacted-topic reader'));
      await admin.deleteGroups([groupId]).catch((err: unknown) => this.logger.debug({ err, groupId }, 'could not delete the throwaway group'));
    }
    return result;
  }

  /** kafkajs sends a record to a partition that does not exist without complaint: refuse it here. */
  private async checkExplicitPartitions(messages: readonly OutgoingMessage[]): Promise<void> {
    for (const m of messages) {
      if (m.partition === undefined) continue;
      let count = this.partitionCounts.get(m.topic);
      if (count === undefined || m.partition >= count) {
        count = await this.partitionCount(m.topic);
        this.partitionCounts.set(m.topic, count);
      }
      if (!Number.isInteger(m.partition) || m.partition < 0 || m.partition >= count) {
        throw new EipError('REJECTED', `kafka: ${m.topic} has no partition ${m.partition} (it has ${count})`);
      }
    }
  }

  async partitionCount(topic: string): Promise<number> {
    this.assertOpen();
    const admin = await this.readyAdmin();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = topics[0]?.partitions.length ?? 0;
      if (count === 0) throw new EipError('UNAVAILABLE', `kafka: topic ${topic} has no partitions yet`);
      return count;
    } catch (err) {
      throw kafkaError(err, `describe ${topic}`);
    }
  }

  async ensureTopics(specs: readonly TopicSettings[]): Promise<string[]> {
    this.assertOpen();
    const admin = await this.readyAdmin();
    return ensureTopicsWith(admin, specs, this.logger, { replicationFactor: this.options.replicationFactor ?? 1 });
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.options.pingTimeoutMs ?? 5_000);
    });
    const check = (async () => {
      try {
        const admin = await this.readyAdmin();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0;
      } catch (err) {
        this.logger.debug({ err: errorMessage(err) }, 'kafka ping failed');
        return false;
      }
    })();
    try {
      return await Promise.race([check, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await Promise.all([
      this.producer.disconnect().catch((err: unknown) => this.logger.warn({ err }, 'producer disconnect failed')),
      this.admin.disconnect().catch((err: unknown) => this.logger.warn({ err }, 'admin disconnect failed')),
    ]);
  }
}

class KafkaSubscription implements Subscription {
  private readonly consumer: Consumer;
  private readonly logger: Logger;
  private readonly maxBatchSize: number;
  private readonly heartbeatIntervalMs: number;
  /** Consecutive handler failures per topic-partition, for the backoff. */
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Assignment hooks run one at a time, in the order kafkajs reported the changes. */
  private readonly hooks = new Serial();
  /** What the service was told it holds (after onAssigned resolved; emptied when onRevoked is called). */
  private held: TopicPartitions[] = [];
  private readonly heldKeys = new Set<string>();
  /** Per topic-partition, the offset to commit through the batches whose handler resolved with 'hold'. */
  private readonly heldOffsets = new Map<string, { topic: string; partition: number; offset: string }>();
  private running = true;
  private restarts = 0;
  private stopping: Promise<void> | undefined;

  private readonly bus: KafkaBus;
  private readonly options: SubscribeOptions;
  private readonly onStopped: () => void;
  constructor(
    bus: KafkaBus,
    options: SubscribeOptions,
    onStopped: () => void,
  ) {
    this.bus = bus;
    this.options = options;
    this.onStopped = onStopped;
    this.logger = bus.logger.child({ groupId: options.groupId });
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? bus.options.maxBatchSize ?? 500);
    this.heartbeatIntervalMs = bus.options.heartbeatIntervalMs ?? 3_000;
    this.consumer = bus.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: bus.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.heartbeatIntervalMs,
      maxWaitTimeInMs: bus.options.maxWaitTimeMs ?? 500,
      ...(options.copartitioned && { partitionAssigners: [coPartitionedAssigner] }),
      // kafkajs restarts after retriable crashes; keep doing so until stopped.
      retry: { restartOnFailure: () => Promise.resolve(this.running) },
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      // The membership is gone either way: whatever was held is not any more.
      this.revokeAll('consumer crashed');
      if (event.payload.restart || !this.running) return;
      // kafkajs gives up on errors it calls non-retriable; a bus consumer must not die silently.
      this.restarts++;
      const delayMs = backoffDelay(this.restarts, bus.retryPolicy);
      this.logger.error({ err: event.payload.error, delayMs }, 'kafka consumer crashed; restarting');
      this.later(delayMs, () => {
        this.start().catch((err: unknown) => this.logger.error({ err }, 'kafka consumer restart failed'));
      });
    });
    // kafkajs has finished every batch in progress when it says it is rebalancing, and rejoins right after.
    this.consumer.on(this.consumer.events.REBALANCING, () => this.revokeAll('group rebalancing'));
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      // A rejoin without a REBALANCING event (e.g. after UNKNOWN_MEMBER_ID) still revokes first: the protocol is eager.
      this.revokeAll('joined the group again');
      void this.hooks.run(() => this.assign(assignment));
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    if (this.restarts === 0) await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  private later(delayMs: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.running) fn();
    }, delayMs);
    this.timers.add(timer);
  }

  /**
   * Forgets the held partitions at once (a batch for them is no longer delivered)
   * and queues onRevoked; a no-op when nothing is held.
   */
  private revokeAll(reason: string): void {
    if (this.held.length === 0) return;
    const revoked = this.held;
    this.held = [];
    this.heldKeys.clear();
    // Their next owner gets the held batches again, from the committed offset.
    this.heldOffsets.clear();
    this.logger.debug({ reason, revoked }, 'partitions revoked');
    const hook = this.options.onRevoked;
    if (!hook) return;
    void this.hooks.run(async () => {
      try {
        await hook(revoked);
      } catch (err) {
        this.logger.error({ err }, 'onRevoked failed; the partitions are revoked all the same');
      }
    });
  }

  /** Tells the service what it holds now; retried with a backoff until it resolves or the subscription stops. */
  private async assign(assignment: Record<string, number[]>): Promise<void> {
    const assigned: TopicPartitions[] = [];
    for (const topic of this.options.topics) {
      const partitions = [...(assignment[topic] ?? [])].sort((a, b) => a - b);
      if (partitions.length === 0) continue;
      assigned.push({ topic, partitions, partitionCount: 0 });
    }
    for (let attempt = 1; this.running; attempt++) {
      try {
        for (const a of assigned) if (a.partitionCount === 0) a.partitionCount = await this.bus.partitionCount(a.topic);
        if (this.options.onAssigned) await this.options.onAssigned(assigned);
        break;
      } catch (err) {
        const delayMs = backoffDelay(attempt, this.bus.retryPolicy);
        this.logger.error({ err, attempt, delayMs }, 'onAssigned failed; calling it again');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    if (!this.running) return;
    this.held = assigned;
    for (const a of assigned) for (const p of a.partitions) this.heldKeys.add(`${a.topic}/${p}`);
    this.logger.debug({ assigned }, 'partitions assigned');
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = payload.batch;
    const key = `${topic}/${partition}`;
    const heartbeat = (): Promise<void> => payload.heartbeat();
    // The hooks of the latest assignment first: no batch before its partition's onAssigned resolved.
    await this.withHeartbeats(heartbeat, () => this.hooks.idle());
    if (!this.heldKeys.has(key)) {
      // Only between a revocation and kafkajs' rejoin: the next owner gets it from the committed offset.
      this.logger.debug({ topic, partition }, 'batch of a partition not held; left to its owner');
      return;
    }
    for (let start = 0; start < messages.length; start += this.maxBatchSize) {
      if (!payload.isRunning() || payload.isStale() || !this.heldKeys.has(key)) return;
      const chunk = messages.slice(start, start + this.maxBatchSize);
      const first = chunk[0]!.offset;
      let done: BatchDone;
      try {
        done = await this.withHeartbeats(heartbeat, () => this.options.handleBatch({ topic, partition, messages: chunk.map((m) => toConsumed(topic, partition, m)), highWatermark: payload.batch.highWatermark }));
      } catch (err) {
        const attempt = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, attempt);
        const delayMs = backoffDelay(attempt, this.bus.retryPolicy);
        this.logger.error({ err, topic, partition, offset: first, attempt, delayMs }, 'handler failed; the batch will be delivered again');
        // Nothing is committed or resolved: stopping now leaves the batch to the next owner.
        if (!payload.isRunning()) return;
        this.consumer.seek({ topic, partition, offset: first });
        const resume = payload.pause();
        this.later(delayMs, resume);
        return;
      }
      this.failures.delete(key);
      const last = chunk[chunk.length - 1]!.offset;
      const next = (BigInt(last) + 1n).toString();
      if (done === 'hold') {
        // Resolved, so that fetching moves on (autoCommit is off: kafkajs never commits it by itself).
        if (this.heldKeys.has(key)) this.heldOffsets.set(key, { topic, partition, offset: next });
      } else {
        // The payload's commit, not consumer.commitOffsets: the latter is skipped once stop() began,
        // and stop() promises to commit the batch in progress.
        await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
        this.heldOffsets.delete(key);
      }
      payload.resolveOffset(last);
      await heartbeat();
    }
  }

  async commitHeld(): Promise<void> {
    const due = [...this.heldOffsets].filter(([key]) => this.heldKeys.has(key));
    if (due.length === 0) return;
    try {
      await this.consumer.commitOffsets(due.map(([, o]) => o));
    } catch (err) {
      throw kafkaError(err, `commit held offsets of ${this.options.groupId}`);
    }
    // A batch held while the commit was in flight stays held.
    for (const [key, o] of due) if (this.heldOffsets.get(key) === o) this.heldOffsets.delete(key);
  }

  /** Keeps the group membership alive while a slow handler runs. */
  private async withHeartbeats<T>(heartbeat: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      heartbeat().catch((err: unknown) => this.logger.debug({ err: errorMessage(err) }, 'heartbeat during handler failed'));
    }, this.heartbeatIntervalMs);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      try {
        // Waits for the batch in progress (which commits), then leaves the group.
        await this.consumer.disconnect();
      } catch (err) {
        this.logger.warn({ err }, 'kafka consumer disconnect failed');
      }
      this.revokeAll('subscription stopped');
      await this.hooks.idle();
      this.onStopped();
    })();
    return this.stopping;
  }
}

/**
 * kafkajs's fetchTopicOffsets throws a TypeError from inside its client
 * ("Cannot destructure property 'partitions' of 'low.pop(...)'") when a topic
 * created a moment ago has no partition leaders in its metadata yet: that is a
 * wait, not a fault, so it is retried like an unavailable broker.
 */
function offsetsNotKnownYet(err: TypeError, topic: string): EipError {
  return new EipError('UNAVAILABLE', `kafka: read ${topic}: its partition offsets are not known yet (${err.message})`, { cause: err, retriable: true });
}
