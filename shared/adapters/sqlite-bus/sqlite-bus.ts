import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { allTopics, type TopicSpec } from '../../contracts/kafka-topics.ts';
import { EipError, errorMessage } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { BatchDone, ConsumedMessage, EventBus, Headers, OutgoingMessage, SubscribeOptions, Subscription, TopicPartitions } from '../../ports/event-bus.ts';
import { backoffDelay, defaultRetryPolicy, type RetryPolicy } from '../../retry.ts';
import { openDatabase, type SqliteDatabase } from '../sqlite/open-database.ts';
import { partitionForKey } from './partition.ts';
import { migrateBusSchema, prepareStatements, type BusStatements, type LogRow, type TopicRow } from './schema.ts';

/** What the embedded bus needs to know about a topic. */
export type TopicSettings = Pick<TopicSpec, 'name' | 'retentionMs' | 'compacted'>;

export interface SqliteBusOptions {
  /** SQLite file, created if missing; ':memory:' gives a bus private to this instance. */
  path: string;
  logger: Logger;
  /**
   * Partition count of every topic this bus creates (default 1). TopicSpec counts
   * are Kafka's and ignored here: an embedded partition orders messages but adds
   * no parallelism, since one consumer per group owns all partitions of a topic.
   * A topic keeps the count it was created with.
   */
  partitions?: number;
  /** How often an idle consumer looks for messages written by other processes. Default 25 ms. */
  pollIntervalMs?: number;
  /** Registered on open (compaction, retention). Default: every topic of the platform. */
  topics?: readonly TopicSettings[];
  /** More topic names treated as compacted when first used. */
  compactedTopics?: readonly string[];
  /** Backoff before a batch whose handler failed is delivered again. */
  retryPolicy?: Partial<RetryPolicy>;
  /** Largest batch handed to a handler when a subscription does not say. Default 500. */
  maxBatchSize?: number;
  /** A group's claim on a topic expires after this long without renewal. Default 15 s. */
  leaseMs?: number;
  /** How often messages past retention are deleted; 0 turns pruning off. Default 60 s. */
  pruneIntervalMs?: number;
}

export interface SqliteEventBus extends EventBus {
  /** Registers topics (compaction, retention); returns the names that were new. */
  ensureTopics(specs: readonly TopicSettings[]): Promise<string[]>;
  /**
   * Deletes messages older than their topic's retention that every group with a
   * committed offset has handled. Returns the number deleted. Compacted topics
   * are not pruned.
   */
  prune(now?: number): number;
}

/** Wakes idle consumers of the same file in this process as soon as a publish commits. */
const wakers = new Map<string, Set<() => void>>();

function notifyFile(fileKey: string): void {
  for (const wake of wakers.get(fileKey) ?? []) wake();
}

function storeError(err: unknown, action: string): EipError {
  if (err instanceof EipError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR'))) {
    return new EipError('UNAVAILABLE', `embedded bus: ${action}: ${errorMessage(err)}`, { cause: err, details: { code } });
  }
  if (code === 'SQLITE_TOOBIG') return new EipError('TOO_LARGE', `embedded bus: ${action}: ${errorMessage(err)}`, { cause: err, details: { code } });
  return new EipError('INTERNAL', `embedded bus: ${action}: ${errorMessage(err)}`, { cause: err });
}

function toBuffer(value: Buffer | string | null): Buffer | null {
  if (value === null) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * The event bus on one SQLite file, for the embedded mode: an append-only log per
 * topic-partition, committed offsets per group, and a keyed table for compacted
 * topics. Several processes may share the file (WAL), which is why consumers poll.
 *
 * Consumer groups: one subscription at a time owns a group's topics (all of the
 * subscription's topics, with all their partitions), through a lease per (group,
 * topic) in the file that also works across processes, taken for every topic at
 * once or not at all. A second subscription of the same group waits as a standby
 * and takes over when the owner stops (or its lease expires, after a crash), so
 * onAssigned is called once with every partition, and onRevoked when the lease
 * ends. Partitions are not split between members as Kafka would. As with the
 * Kafka adapter, a subscription hands its handler one batch at a time.
 */
export function createSqliteBus(options: SqliteBusOptions): SqliteEventBus {
  return new SqliteBus(options);
}

class SqliteBus implements SqliteEventBus {
  readonly db: SqliteDatabase;
  readonly stmts: BusStatements;
  readonly logger: Logger;
  readonly fileKey: string;
  readonly pollIntervalMs: number;
  readonly retryPolicy: RetryPolicy;
  readonly maxBatchSize: number;
  readonly leaseMs: number;
  private readonly partitions: number;
  private readonly settings = new Map<string, TopicSettings>();
  private readonly warnedPartitions = new Set<string>();
  private readonly roundRobin = new Map<string, number>();
  private readonly subscriptions = new Set<SqliteSubscription>();
  private readonly publishTx: Database.Transaction<(messages: readonly OutgoingMessage[]) => void>;
  private readonly pruneTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: SqliteBusOptions) {
    this.partitions = options.partitions ?? 1;
    if (!Number.isInteger(this.partitions) || this.partitions < 1) throw new EipError('CONFIG_INVALID', `embedded bus: partitions must be a positive integer, got ${this.partitions}`);
    this.logger = options.logger.child({ component: 'sqlite-bus' });
    this.pollIntervalMs = options.pollIntervalMs ?? 25;
    this.retryPolicy = { ...defaultRetryPolicy, ...options.retryPolicy };
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.fileKey = options.path === ':memory:' ? `:memory:${randomUUID()}` : resolve(options.path);
    for (const spec of options.topics ?? allTopics) this.settings.set(spec.name, spec);
    for (const name of options.compactedTopics ?? []) this.settings.set(name, { name, compacted: true, retentionMs: this.settings.get(name)?.retentionMs ?? -1 });

    this.db = openDatabase(options.path);
    migrateBusSchema(this.db);
    this.stmts = prepareStatements(this.db);
    this.publishTx = this.db.transaction((messages: readonly OutgoingMessage[]) => this.append(messages));
    this.db.transaction(() => { for (const spec of this.settings.values()) this.registerTopic(spec); }).immediate();

    const pruneIntervalMs = options.pruneIntervalMs ?? 60_000;
    if (pruneIntervalMs > 0) {
      this.pruneTimer = setInterval(() => {
        try {
          const deleted = this.prune();
          if (deleted > 0) this.logger.debug({ deleted }, 'pruned messages past retention');
        } catch (err) {
          this.logger.warn({ err }, 'pruning the embedded bus failed');
        }
      }, pruneIntervalMs);
      this.pruneTimer.unref();
    }
  }

  /** Creates the topic if needed; upgrades it to compacted (rebuilding its keyed table) when asked. */
  private registerTopic(spec: TopicSettings): { row: TopicRow; created: boolean } {
    const existing = this.stmts.topic.get(spec.name);
    if (existing === undefined) {
      this.stmts.insertTopic.run(spec.name, this.partitions, spec.compacted ? 1 : 0, spec.retentionMs);
      for (let p = 0; p < this.partitions; p++) this.stmts.insertPartition.run(spec.name, p);
      return { row: { topic: spec.name, partitions: this.partitions, compacted: spec.compacted ? 1 : 0, retention_ms: spec.retentionMs }, created: true };
    }
    if (existing.partitions !== this.partitions && !this.warnedPartitions.has(spec.name)) {
      this.warnedPartitions.add(spec.name);
      this.logger.warn({ topic: spec.name, partitions: existing.partitions, configured: this.partitions }, 'topic keeps the partition count it was created with');
    }
    const compacted = existing.compacted === 1 || spec.compacted;
    if (compacted !== (existing.compacted === 1) || existing.retention_ms !== spec.retentionMs) {
      this.stmts.updateTopic.run(compacted ? 1 : 0, spec.retentionMs, spec.name);
      if (compacted && existing.compacted !== 1) this.rebuildKeys(spec.name);
    }
    return { row: { ...existing, compacted: compacted ? 1 : 0, retention_ms: spec.retentionMs }, created: false };
  }

  private rebuildKeys(topic: string): void {
    this.stmts.clearKeys.run(topic);
    for (const { key, value } of this.stmts.keyedLog.iterate(topic)) {
      if (value === null) this.stmts.deleteKey.run(topic, key);
      else this.stmts.upsertKey.run(topic, key, value);
    }
  }

  /** A topic first used without registration gets the configured settings, or a plain one. */
  topicRow(topic: string): TopicRow {
    return this.stmts.topic.get(topic) ?? this.registerTopic(this.settings.get(topic) ?? { name: topic, compacted: false, retentionMs: -1 }).row;
  }

  private append(messages: readonly OutgoingMessage[]): void {
    const rows = new Map<string, TopicRow>();
    const now = Date.now();
    for (const message of messages) {
      let row = rows.get(message.topic);
      if (row === undefined) {
        row = this.topicRow(message.topic);
        rows.set(message.topic, row);
      }
      if (row.compacted === 1 && message.key === null) {
        // Kafka refuses unkeyed records on compacted topics; so do we, for the whole batch.
        throw new EipError('REJECTED', `embedded bus: compacted topic ${message.topic} needs a key on every message`);
      }
      if (message.partition !== undefined && !(Number.isInteger(message.partition) && message.partition >= 0 && message.partition < row.partitions)) {
        throw new EipError('REJECTED', `embedded bus: ${message.topic} has no partition ${message.partition} (it has ${row.partitions})`);
      }
      const partition = message.partition ?? (message.key === null ? this.nextRoundRobin(message.topic, row.partitions) : partitionForKey(message.key, row.partitions));
      const taken = this.stmts.takeOffset.get(message.topic, partition);
      if (taken === undefined) throw new EipError('INTERNAL', `embedded bus: partition ${message.topic}/${partition} is missing`);
      const value = toBuffer(message.value);
      this.stmts.append.run(message.topic, partition, taken.offset, message.key, value, JSON.stringify(message.headers ?? {}), message.timestamp ?? now);
      if (row.compacted === 1 && message.key !== null) {
        if (value === null) this.stmts.deleteKey.run(message.topic, message.key);
        else this.stmts.upsertKey.run(message.topic, message.key, value);
      }
    }
  }

  private nextRoundRobin(topic: string, partitions: number): number {
    const next = this.roundRobin.get(topic) ?? 0;
    this.roundRobin.set(topic, next + 1);
    return next % partitions;
  }

  private assertOpen(): void {
    if (this.closed) throw new EipError('CLOSED', 'embedded bus is closed');
  }

  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    try {
      this.assertOpen();
      if (messages.length === 0) return Promise.resolve();
      // IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading a read lock.
      this.publishTx.immediate(messages);
    } catch (err) {
      return Promise.reject(storeError(err, 'publish'));
    }
    notifyFile(this.fileKey);
    return Promise.resolve();
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    try {
      this.assertOpen();
      if (options.topics.length === 0) throw new EipError('CONFIG_INVALID', 'subscribe needs at least one topic');
      if (options.groupId === '') throw new EipError('CONFIG_INVALID', 'subscribe needs a groupId');
      this.db.transaction(() => { for (const topic of options.topics) this.topicRow(topic); }).immediate();
    } catch (err) {
      return Promise.reject(storeError(err, 'subscribe'));
    }
    const subscription = new SqliteSubscription(this, options, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    subscription.start();
    return Promise.resolve(subscription);
  }

  addWaker(wake: () => void): () => void {
    let set = wakers.get(this.fileKey);
    if (set === undefined) {
      set = new Set();
      wakers.set(this.fileKey, set);
    }
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) wakers.delete(this.fileKey);
    };
  }

  readCompacted(topic: string): Promise<Map<string, Buffer>> {
    try {
      this.assertOpen();
      const result = new Map<string, Buffer>();
      const row = this.stmts.topic.get(topic);
      if (row === undefined) return Promise.resolve(result);
      if (row.compacted === 1) {
        for (const { key, value } of this.stmts.compacted.iterate(topic)) result.set(key, value);
      } else {
        // Not declared compacted: fold the log as Kafka's reader would.
        for (const { key, value } of this.stmts.keyedLog.iterate(topic)) {
          if (value === null) result.delete(key);
          else result.set(key, value);
        }
      }
      return Promise.resolve(result);
    } catch (err) {
      return Promise.reject(storeError(err, 'readCompacted'));
    }
  }

  partitionCount(topic: string): Promise<number> {
    try {
      this.assertOpen();
      return Promise.resolve(this.topicRow(topic).partitions);
    } catch (err) {
      return Promise.reject(storeError(err, 'partitionCount'));
    }
  }

  ensureTopics(specs: readonly TopicSettings[]): Promise<string[]> {
    try {
      this.assertOpen();
      const created: string[] = [];
      this.db.transaction(() => {
        for (const spec of specs) {
          this.settings.set(spec.name, spec);
          if (this.registerTopic(spec).created) created.push(spec.name);
        }
      }).immediate();
      return Promise.resolve(created);
    } catch (err) {
      return Promise.reject(storeError(err, 'ensureTopics'));
    }
  }

  prune(now = Date.now()): number {
    this.assertOpen();
    let deleted = 0;
    for (const topic of this.stmts.prunableTopics.all()) {
      const cutoff = now - topic.retention_ms;
      this.db.transaction(() => {
        for (let p = 0; p < topic.partitions; p++) {
          const committed = this.stmts.minCommitted.get(topic.topic, p)?.next_offset ?? null;
          deleted += this.stmts.prune.run(topic.topic, p, committed ?? Number.MAX_SAFE_INTEGER, cutoff).changes;
        }
      }).immediate();
    }
    return deleted;
  }

  ping(): Promise<boolean> {
    if (this.closed || !this.db.open) return Promise.resolve(false);
    try {
      this.db.prepare('SELECT 1').get();
      return Promise.resolve(true);
    } catch {
      return Promise.resolve(false);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pruneTimer !== undefined) clearInterval(this.pruneTimer);
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.db.close();
  }
}

interface PartitionState {
  /** Next offset to deliver. */
  position: number;
  attempts: number;
  retryAt: number;
}

interface OwnedTopic {
  /** Committed offsets when the lease was taken. */
  committed: Map<number, number>;
  /** Partition heads when the lease was taken: where a group without commits starts when not fromBeginning. */
  heads: Map<number, number>;
  partitions: Map<number, PartitionState>;
}

class SqliteSubscription implements Subscription {
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  private readonly owned = new Map<string, OwnedTopic>();
  private readonly logger: Logger;
  private readonly maxBatchSize: number;
  private running = true;
  private pendingWake = false;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private removeWaker: (() => void) | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** The leases are held and the service was told so (onAssigned resolved). */
  private assigned: TopicPartitions[] | undefined;
  private assignAttempts = 0;
  private assignRetryAt = 0;
  /** A lease was lost (renewal or commit refused): everything is revoked at the next turn of the loop. */
  private lost = false;
  /** Per topic-partition, the offset to commit through the batches whose handler resolved with 'hold'. */
  private readonly heldOffsets = new Map<string, { topic: string; partition: number; next: number }>();

  private readonly bus: SqliteBus;
  private readonly options: SubscribeOptions;
  private readonly onStopped: () => void;
  constructor(
    bus: SqliteBus,
    options: SubscribeOptions,
    onStopped: () => void,
  ) {
    this.bus = bus;
    this.options = options;
    this.onStopped = onStopped;
    this.logger = bus.logger.child({ groupId: options.groupId });
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? bus.maxBatchSize);
  }

  start(): void {
    this.removeWaker = this.bus.addWaker(() => {
      this.pendingWake = true;
      this.wake?.();
    });
    // Renewal on a timer, so a slow handler does not lose the lease mid-batch.
    this.renewTimer = setInterval(() => this.renewLeases(), Math.max(50, Math.floor(this.bus.leaseMs / 3)));
    this.renewTimer.unref();
    this.loopDone = this.loop();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      this.wake?.();
      await this.loopDone;
      clearInterval(this.renewTimer);
      this.removeWaker?.();
      await this.revoke('subscription stopped');
      this.onStopped();
    })();
    return this.stopping;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let delivered = false;
      let wakeAt = Date.now() + this.bus.pollIntervalMs;
      try {
        this.pendingWake = false;
        if (this.lost) await this.revoke('lease lost; another consumer of the group took over');
        if (this.owned.size === 0) this.claimLeases();
        if (this.owned.size > 0 && this.assigned === undefined) {
          if (this.assignRetryAt > Date.now()) wakeAt = Math.min(wakeAt, this.assignRetryAt);
          else await this.assign();
        }
        if (this.assigned !== undefined) {
          for (const [topic, owned] of this.owned) {
            for (const head of this.bus.stmts.heads.all(topic)) {
              if (!this.running || this.lost || !this.owned.has(topic)) break;
              const state = this.partitionState(topic, owned, head.partition);
              if (head.next_offset <= state.position) continue;
              if (state.retryAt > Date.now()) {
                wakeAt = Math.min(wakeAt, state.retryAt);
                continue;
              }
              const rows = this.bus.stmts.fetch.all(topic, head.partition, state.position, this.maxBatchSize);
              if (rows.length === 0) {
                // Everything up to the head was pruned.
                state.position = head.next_offset;
                continue;
              }
              delivered = true;
              await this.deliver(topic, head.partition, rows, state, head.next_offset);
            }
          }
        }
        failures = 0;
      } catch (err) {
        // A store failure (e.g. busy beyond busy_timeout): back off, never crash the service.
        failures++;
        const delay = backoffDelay(failures, this.bus.retryPolicy);
        this.logger.error({ err, delayMs: delay }, 'embedded bus consumer failed; retrying');
        wakeAt = Date.now() + delay;
        delivered = false;
      }
      if (!delivered && this.running && !this.pendingWake) await this.idle(wakeAt - Date.now());
    }
  }

  private idle(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Every topic of the subscription, or none: a group has one member at a time. */
  private claimLeases(): void {
    const { groupId, topics } = this.options;
    const stmts = this.bus.stmts;
    const now = Date.now();
    for (const topic of topics) {
      const current = stmts.lease.get(groupId, topic);
      if (current !== undefined && current.owner !== this.owner && current.expires_at >= now) return;
    }
    const claimed = this.bus.db.transaction(() => {
      const result = new Map<string, OwnedTopic>();
      for (const topic of topics) {
        if (stmts.claimLease.run(groupId, topic, this.owner, now + this.bus.leaseMs, now).changes === 0) throw new LeaseTaken();
        const committed = new Map(stmts.committed.all(groupId, topic).map((r) => [r.partition, r.next_offset] as const));
        const heads = new Map(stmts.heads.all(topic).map((r) => [r.partition, r.next_offset] as const));
        result.set(topic, { committed, heads, partitions: new Map<number, PartitionState>() });
      }
      return result;
    });
    let owned: Map<string, OwnedTopic>;
    try {
      owned = claimed.immediate();
    } catch (err) {
      if (err instanceof LeaseTaken) return; // rolled back: another member took one in between
      throw err;
    }
    for (const [topic, o] of owned) this.owned.set(topic, o);
    this.lost = false;
    this.logger.debug({ topics }, 'consumer owns the topics for its group');
  }

  private async assign(): Promise<void> {
    const assigned: TopicPartitions[] = [...this.owned.keys()].map((topic) => {
      const count = this.bus.topicRow(topic).partitions;
      return { topic, partitions: Array.from({ length: count }, (_, p) => p), partitionCount: count };
    });
    try {
      await this.options.onAssigned?.(assigned);
    } catch (err) {
      this.assignAttempts++;
      const delayMs = backoffDelay(this.assignAttempts, this.bus.retryPolicy);
      this.assignRetryAt = Date.now() + delayMs;
      this.logger.error({ err, attempt: this.assignAttempts, delayMs }, 'onAssigned failed; calling it again');
      return;
    }
    this.assignAttempts = 0;
    this.assignRetryAt = 0;
    this.assigned = assigned;
  }

  /** Releases every lease still held and tells the service (when it was told it held them). */
  private async revoke(reason: string): Promise<void> {
    const revoked = this.assigned;
    this.assigned = undefined;
    this.assignAttempts = 0;
    this.assignRetryAt = 0;
    for (const topic of this.owned.keys()) {
      try {
        this.bus.stmts.releaseLease.run(this.options.groupId, topic, this.owner);
      } catch (err) {
        this.logger.warn({ err, topic }, 'could not release the lease; it will expire');
      }
    }
    this.owned.clear();
    // The next owner gets the held batches again, from the committed offset.
    this.heldOffsets.clear();
    this.lost = false;
    if (revoked === undefined) return;
    this.logger.debug({ reason }, 'partitions revoked');
    try {
      await this.options.onRevoked?.(revoked);
    } catch (err) {
      this.logger.error({ err }, 'onRevoked failed; the partitions are revoked all the same');
    }
  }

  private partitionState(topic: string, owned: OwnedTopic, partition: number): PartitionState {
    let state = owned.partitions.get(partition);
    if (state === undefined) {
      // Like Kafka's auto.offset.reset: the committed offset, else earliest or the head when the lease was taken.
      const start = owned.committed.get(partition) ?? (this.options.fromBeginning === false ? (owned.heads.get(partition) ?? 0) : 0);
      state = { position: start, attempts: 0, retryAt: 0 };
      owned.partitions.set(partition, state);
    }
    return state;
  }

  private async deliver(topic: string, partition: number, rows: readonly LogRow[], state: PartitionState, head: number): Promise<void> {
    const messages = rows.map((row): ConsumedMessage => ({
      topic,
      partition,
      offset: String(row.offset),
      key: row.key,
      value: row.value,
      headers: JSON.parse(row.headers) as Headers,
      timestamp: row.timestamp,
    }));
    let done: BatchDone;
    try {
      done = await this.options.handleBatch({ topic, partition, messages, highWatermark: String(head) });
    } catch (err) {
      state.attempts++;
      const delayMs = backoffDelay(state.attempts, this.bus.retryPolicy);
      state.retryAt = Date.now() + delayMs;
      this.logger.error({ err, topic, partition, offset: messages[0]?.offset, attempt: state.attempts, delayMs }, 'handler failed; the batch will be delivered again');
      return;
    }
    state.attempts = 0;
    state.retryAt = 0;
    const next = rows[rows.length - 1]!.offset + 1;
    const key = `${topic}/${partition}`;
    if (done === 'hold') {
      state.position = next;
      if (this.owned.has(topic)) this.heldOffsets.set(key, { topic, partition, next });
    } else if (this.commit(topic, partition, next)) {
      state.position = next;
      this.heldOffsets.delete(key);
    } else {
      this.lost = true;
      this.logger.warn({ topic, partition }, 'lease lost before commit; the batch will be delivered again to the new owner');
    }
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the port's commit is asynchronous; this store's is not
  async commitHeld(): Promise<void> {
    for (const [key, held] of [...this.heldOffsets]) {
      if (this.assigned === undefined || !this.owned.has(held.topic)) continue;
      let committed: boolean;
      try {
        committed = this.commit(held.topic, held.partition, held.next);
      } catch (err) {
        throw storeError(err, `commit held offsets of ${this.options.groupId}`);
      }
      if (!committed) {
        this.lost = true;
        this.wake?.();
        throw new EipError('CLOSED', `embedded bus: the lease of ${held.topic} was lost before its held offsets were committed`, { retriable: false });
      }
      this.heldOffsets.delete(key);
    }
  }

  /** Commits only while this subscription still holds the lease, which fences a stale owner. */
  private commit(topic: string, partition: number, next: number): boolean {
    const { groupId } = this.options;
    const stmts = this.bus.stmts;
    return this.bus.db.transaction(() => {
      const now = Date.now();
      if (stmts.renewLease.run(now + this.bus.leaseMs, groupId, topic, this.owner).changes === 0) return false;
      stmts.commit.run(groupId, topic, partition, next, now);
      return true;
    }).immediate();
  }

  private renewLeases(): void {
    for (const topic of this.owned.keys()) {
      try {
        if (this.bus.stmts.renewLease.run(Date.now() + this.bus.leaseMs, this.options.groupId, topic, this.owner).changes === 0) {
          this.lost = true;
          this.wake?.();
          this.logger.warn({ topic }, 'lease lost; another consumer of the group took the topic');
        }
      } catch (err) {
        this.logger.warn({ err, topic }, 'lease renewal failed; will retry');
      }
    }
  }
}

/** Thrown inside the claim transaction to roll it back. */
class LeaseTaken extends Error {}
