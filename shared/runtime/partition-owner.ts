/**
 * The skeleton of a consumer that owns state per partition (the aggregator's
 * readings stage and roll-up stage, the rules service): one subscription whose
 * batches, assignment changes and timer take turns on state that is not
 * re-entrant; state dropped the moment partitions are revoked; and writes
 * guarded so that nothing begun for revoked partitions lands after the next
 * owner loaded them.
 *
 * The service keeps its state and decides what to write; this holds the loop.
 */
import type { BatchDone, ConsumedBatch, EventBus, SubscribeOptions, Subscription, TopicPartitions } from '../ports/event-bus.ts';
import type { Logger } from '../observability/logger.ts';
import type { Publish } from '../write-isolating.ts';
import { EipError } from '../errors.ts';
import { Serial } from './serial.ts';
import { reportLoopError, type Supervisor } from './supervisor.ts';

export interface OwnerTimer {
  everyMs: number;
  /** One timer turn, taken in turn with the batches. */
  turn(): Promise<void>;
  /** Names the timer in the log line and in a failure. */
  component: string;
}

export interface PartitionOwnerOptions {
  bus: EventBus;
  logger: Logger;
  /** Where an unexpected error of a timer turn goes (batches are supervised by the bus decorator). */
  supervisor: Supervisor;
  subscription: Omit<SubscribeOptions, 'handleBatch' | 'onAssigned' | 'onRevoked'>;
  /** Loads the assigned partitions' state, in turn. */
  onAssigned(assigned: readonly TopicPartitions[]): Promise<void>;
  /**
   * Drops the revoked partitions' state. Called at once, not in turn: a turn
   * that starts later finds nothing of theirs; the one in progress is waited for
   * after, and its guarded writes fail.
   */
  onRevoked(revoked: readonly TopicPartitions[]): void;
  /** One batch, in turn; 'hold' leaves its offsets for commitHeld() (see SubscribeOptions.handleBatch). */
  handleBatch(batch: ConsumedBatch): Promise<BatchDone>;
  timer?: OwnerTimer | undefined;
}

/** What a guarded write gets: the publish that refuses once revoked, and the signal that ends retries then (or at stop). */
export interface GuardedWrite {
  publish: Publish;
  signal: AbortSignal;
}

export class PartitionOwner {
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly turns = new Serial();
  private readonly stopping = new AbortController();
  /** Aborted (and replaced) when partitions are revoked: writes begun before stop retrying. */
  private revocation = new AbortController();

  private readonly o: PartitionOwnerOptions;
  constructor(o: PartitionOwnerOptions) {
    this.o = o;
  }

  /** Aborted at stop(), after the last turn: writes outside the guarded ones end with it. */
  get stopSignal(): AbortSignal {
    return this.stopping.signal;
  }

  async start(): Promise<void> {
    this.subscription = await this.o.bus.subscribe({
      ...this.o.subscription,
      onAssigned: (assigned) => this.turns.run(() => this.o.onAssigned(assigned)),
      onRevoked: (revoked) => this.revoke(revoked),
      handleBatch: (batch) => this.turns.run(() => this.o.handleBatch(batch)),
    });
    const t = this.o.timer;
    if (t) {
      this.timer = setInterval(() => {
        void this.turns.run(() => t.turn()).catch((err: unknown) => reportLoopError(this.o.supervisor, this.o.logger, t.component, err, `${t.component} failed`));
      }, t.everyMs);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.subscription?.stop();
    await this.turns.idle();
    this.stopping.abort();
  }

  /** Commits the held batches' offsets: call it, in turn, once the state they built is persisted. */
  async commitHeld(): Promise<void> {
    await this.subscription?.commitHeld();
  }

  /** Runs fn in turn with the batches, the timer and the assignment changes. */
  exclusive(fn: () => Promise<void>): Promise<void> {
    return this.turns.run(fn);
  }

  /**
   * Runs a write for the partitions held now. False when they were revoked
   * before it landed: nothing of it is known to have been written, and the next
   * owner, loading the state without it, writes it again from there (the caller
   * must not commit). Any other failure, or one after stop(), is thrown.
   */
  async guarded(write: (w: GuardedWrite) => Promise<void>, revokedWhileWriting: () => Record<string, unknown>): Promise<boolean> {
    const revoked = this.revocation.signal;
    const publish: Publish = (messages) => (revoked.aborted ? Promise.reject(new EipError('CLOSED', 'partitions revoked before this output was written', { retriable: false })) : this.o.bus.publish(messages));
    try {
      await write({ publish, signal: AbortSignal.any([this.stopping.signal, revoked]) });
      return true;
    } catch (err) {
      if (!revoked.aborted || this.stopping.signal.aborted) throw err;
      this.o.logger.warn(revokedWhileWriting(), 'partitions revoked while writing: output left to their next owner');
      return false;
    }
  }

  private async revoke(revoked: readonly TopicPartitions[]): Promise<void> {
    this.revocation.abort();
    this.revocation = new AbortController();
    this.o.onRevoked(revoked);
    await this.turns.idle();
  }
}
