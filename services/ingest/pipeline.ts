/**
 * Ingest's runtime: spool every MQTT message, acknowledge it, and drain the
 * spool in batches: decode, dedup, then write to the time-series store and the
 * bus; a batch leaves the spool only when both have it, or a record a sink
 * refused is dead-lettered (shared/write-isolating.ts).
 * Backpressure: past maxPending spooled messages or maxPendingBytes spooled
 * bytes, or while the spool cannot write (a full disk), acknowledgements are
 * held, so MQTT.js stops reading and the broker keeps the rest in the session queue.
 */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { MeterStatusEvent, ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { deadLetterMessage, sinkRefusedMessage } from '../../shared/dead-letters.ts';
import type { EipError } from '../../shared/errors.ts';
import type { EventBus, OutgoingMessage } from '../../shared/ports/event-bus.ts';
import type { ReadingPoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { deadLetterItem, publishIsolating, writeIsolating, type PublishItem, type WriteContext } from '../../shared/write-isolating.ts';
import { backoffDelay, type RetryPolicy } from '../../shared/retry.ts';
import { errorMessage } from '../../shared/errors.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { decodeOrRefuse, type DecodeOptions } from './domain/decode.ts';
import { DedupWindow } from './domain/dedup.ts';
import type { Spool, SpoolRecord } from './spool.ts';
import type { IngestMetrics } from './metrics.ts';

export interface PipelineOptions {
  spool: Spool;
  bus: EventBus;
  store: TimeSeriesStore;
  decode: DecodeOptions;
  metrics: IngestMetrics;
  logger: Logger;
  batchMaxMessages: number;
  maxPending: number;
  /** Backpressure by bytes: frame bytes spooled and not yet in both sinks (default: no byte bound). */
  maxPendingBytes?: number;
  /** Backoff of a failed spool append (a full disk), for tests. */
  appendRetry?: Partial<RetryPolicy>;
  dedupWindow: number;
  /** Stage name in dead letters. */
  stage?: string;
  /**
   * The caller sends no acknowledgement before flush() returned true: a message
   * is then staged and acknowledged at once, and flush() writes a burst of them
   * in one write (a group commit). Otherwise each is appended before it is acknowledged.
   */
  groupCommit?: boolean;
  /** The drain loop died of an unexpected error: nothing drains any more, so the owner stops the process. */
  onLoopFailed?: (err: unknown) => void;
  now?: () => number;
}

interface HeldMessage {
  topic: string;
  payload: Buffer;
  receivedAt: number;
  done: () => void;
}

/** A failed append is retried from 100 ms, doubling to 5 s, for as long as it takes. */
const appendRetryPolicy: RetryPolicy = { initialMs: 100, factor: 2, maxMs: 5000, maxAttempts: Infinity, jitter: 0.2 };

/** The error code as a metric label, from a short known list (labels stay few). */
function spoolErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE', 'ENOENT'].includes(code) ? code : 'other';
}

/** What the store did with a batch: the records it refused, and their dead letters for the bus. */
interface StoreOutcome {
  refused: ReadonlySet<PreparedRecord>;
  letters: PublishItem[];
}

/** A stored batch on its way to the bus; settled once its write and release ended, either way. */
interface BusStage {
  done: Promise<void>;
  settled: boolean;
}

/** One spooled message with what it becomes: it is written, or refused, whole. */
interface PreparedRecord {
  rec: SpoolRecord;
  /** Decode refused it: its one message is its dead letter. */
  refused: boolean;
  points: ReadingPoint[];
  messages: OutgoingMessage[];
  readingCount: number;
  meterMessages: number;
}

export class IngestPipeline {
  private readonly o: PipelineOptions;
  private readonly dedup: DedupWindow;
  private readonly now: () => number;
  /** Messages not yet acknowledged, oldest first: MQTT.js hands over the next only after done(), so one per connection. */
  private readonly held: HeldMessage[] = [];
  /** Acknowledgements are held because the spool reached a bound. */
  private full = false;
  /** Consecutive failed appends; a retry is scheduled while retryTimer is set. */
  private appendFailures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** A flush of staged messages failed since the last flush(): that burst's acknowledgements must not leave. */
  private stagedLost = false;
  /** Messages in the batches being written (one on the bus, one at the store). */
  private inFlightCount = 0;

  constructor(options: PipelineOptions) {
    this.o = options;
    this.dedup = new DedupWindow(options.dedupWindow);
    this.now = options.now ?? Date.now;
  }

  /**
   * The MQTT message handler: spool, then acknowledge (with groupCommit: stage
   * and acknowledge, flush() making it durable before the acknowledgement
   * leaves), unless the spool is full or cannot write.
   */
  onMessage(topic: string, payload: Buffer, done: () => void): void {
    const receivedAt = this.now();
    if (this.o.groupCommit === true && this.held.length === 0 && !this.retryTimer && this.hasRoom()) {
      this.o.spool.stage(topic, payload, receivedAt);
      done();
      return;
    }
    // Queued behind any held message, so the order of acknowledgements is the order of arrival.
    this.held.push({ topic, payload, receivedAt, done });
    this.releaseHeld();
  }

  /**
   * Writes the messages staged and acknowledged since the last flush, in one
   * write. False when that failed (or an earlier write lost staged messages):
   * none of those acknowledgements may leave; the broker delivers them again.
   */
  flush(): boolean {
    const ok = this.flushStaged() && !this.stagedLost;
    this.stagedLost = false;
    return ok;
  }

  private flushStaged(): boolean {
    const count = this.o.spool.staged;
    if (count === 0) return true;
    try {
      this.o.spool.flush();
    } catch (err) {
      this.stagedLost = true;
      this.appendFailed(err);
      return false;
    }
    this.o.metrics.received.inc(count);
    this.writableAgain();
    this.wake?.();
    return true;
  }

  /** Appends one held message to the spool; false when that failed (it stays held and unacknowledged). */
  private spool(h: HeldMessage): boolean {
    // Staged messages go first, in their order; if they are lost, so is their burst's flush().
    if (!this.flushStaged()) return false;
    try {
      this.o.spool.append(h.topic, h.payload, h.receivedAt);
    } catch (err) {
      this.appendFailed(err);
      return false;
    }
    this.writableAgain();
    return true;
  }

  private writableAgain(): void {
    if (this.appendFailures === 0) return;
    this.o.logger.info({ attempts: this.appendFailures, pending: this.o.spool.pending }, 'spool writable again: acknowledging');
    this.appendFailures = 0;
    this.o.metrics.spoolBlocked.set(0);
    this.showHold();
  }

  /** A full disk or an I/O error: hold the message and try it again later, with backoff. */
  private appendFailed(err: unknown): void {
    const code = spoolErrorCode(err);
    this.o.metrics.spoolWriteErrors.inc({ code });
    if (this.appendFailures++ === 0) {
      this.o.metrics.spoolBlocked.set(1);
      this.showHold();
      this.o.logger.error({ code, err: errorMessage(err), pending: this.o.spool.pending }, 'spool append failed: holding acknowledgements until it can write again');
    }
    const delayMs = backoffDelay(this.appendFailures, { ...appendRetryPolicy, ...this.o.appendRetry });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // Once stopping, held messages stay with the broker.
      if (!this.stopping) this.releaseHeld();
    }, delayMs);
    this.retryTimer.unref();
  }

  /** Below the bounds (resuming at 80 % of a bound once it was reached); says so when that changes. */
  private hasRoom(): boolean {
    const s = this.o.spool;
    const f = this.full ? 0.8 : 1;
    const full = s.pending + s.staged >= this.o.maxPending * f || s.pendingBytes >= (this.o.maxPendingBytes ?? Infinity) * f;
    if (full) {
      if (!this.full) {
        this.full = true;
        this.showHold();
        this.o.logger.warn({ pending: s.pending, pendingBytes: s.pendingBytes }, 'spool full: holding acknowledgements (backpressure)');
      }
      return false;
    }
    if (this.full) {
      this.full = false;
      this.showHold();
      this.o.logger.info({ pending: s.pending, pendingBytes: s.pendingBytes }, 'spool has room again: acknowledging');
    }
    return true;
  }

  /** Spools held messages while there is room and the disk takes them. */
  private releaseHeld(): void {
    while (this.held.length > 0 && !this.retryTimer) {
      if (!this.hasRoom()) return;
      const h = this.held[0]!;
      if (!this.spool(h)) return;
      // Out of the queue before done(): acknowledging may hand over the next message at once.
      this.held.shift();
      this.o.metrics.received.inc();
      h.done();
      this.wake?.();
    }
  }

  private showHold(): void {
    this.o.metrics.backpressure.set(this.full || this.appendFailures > 0 ? 1 : 0);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.drainLoop().catch((err: unknown) => {
      if (!this.o.onLoopFailed) throw err;
      this.o.onLoopFailed(err);
    });
  }

  /** Drains what is spooled (bounded by the caller's timeout), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    // Whatever is still staged was never acknowledged, or its acknowledgement not sent: spooled all the same.
    this.flushStaged();
    this.wake?.();
    await this.loop;
    this.running = false;
  }

  get pending(): number {
    return this.o.spool.pending;
  }

  /** True while an acknowledgement is held (backpressure): the broker sends nothing more meanwhile. */
  get holding(): boolean {
    return this.held.length > 0;
  }

  /**
   * Batch N's bus write overlaps batch N+1's store write: the store still takes
   * every batch before the bus gets it, the bus gets the batches in order (one
   * write at a time, so per-key order holds), and each batch is released from
   * the spool only after the one before. At most two batches are in flight.
   */
  private async drainLoop(): Promise<void> {
    let busStage: BusStage | undefined;
    while (true) {
      if (busStage?.settled) {
        await busStage.done;
        busStage = undefined;
      }
      if (this.o.spool.waiting === 0) {
        if (this.stopping && !busStage) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          // A timer as well, in case a wake-up is missed.
          setTimeout(resolve, 200).unref();
          void busStage?.done.then(resolve, resolve);
        });
        this.wake = undefined;
        continue;
      }
      const records = this.o.spool.take(this.o.batchMaxMessages);
      if (records.length === 0) {
        // The batch on the bus holds the spool's memory window: it goes first.
        if (busStage) await busStage.done;
        busStage = undefined;
        continue;
      }
      // Prepared one record at a time: a sink refuses records, and each is accepted or refused whole.
      const batch = records.map((rec) => this.prepare(rec));
      this.inFlightCount += records.length;
      this.o.metrics.inFlight.set(this.inFlightCount);
      this.o.metrics.batchSize.observe(records.length);
      const stored = await this.writeStore(batch);
      if (busStage) await busStage.done;
      busStage = this.busStage(batch, stored, records.at(-1)!.id);
    }
  }

  /** The bus write and the release of one stored batch, running while the next batch goes to the store. */
  private busStage(batch: readonly PreparedRecord[], stored: StoreOutcome, lastId: number): BusStage {
    const stage: BusStage = {
      settled: false,
      done: (async () => {
        const written = await this.writeBus(batch, stored);
        const storedAt = this.now();
        this.o.spool.ack(lastId);
        this.inFlightCount -= batch.length;
        this.o.metrics.inFlight.set(this.inFlightCount);
        for (const r of written) {
          this.o.metrics.readingsWritten.inc(r.readingCount);
          this.o.metrics.messagesWritten.inc(r.meterMessages);
          for (const p of r.points) this.o.metrics.storedLatency.observe(Math.max(0, storedAt - p.ts) / 1000);
        }
        this.releaseHeld();
      })(),
    };
    // Awaited by the loop, which then fails with its error; settled is what the loop checks in between.
    stage.done.then(() => { stage.settled = true; }, () => { stage.settled = true; });
    return stage;
  }

  private writeContext(): WriteContext {
    return { stage: this.o.stage ?? 'ingest', logger: this.o.logger, metrics: this.o.metrics.sinks };
  }

  private letter(r: PreparedRecord, sink: string, error: EipError): OutgoingMessage {
    this.o.metrics.deadLettered.inc({ reason: 'sink-refused' });
    return sinkRefusedMessage({ stage: this.o.stage ?? 'ingest', sink, error, source: r.rec.topic, payload: r.rec.payload.subarray(0, this.o.decode.maxPayloadBytes), receivedAt: r.rec.receivedAt });
  }

  /**
   * Writes a batch's readings to the store, before the bus gets any of it: the
   * store is the sink that refuses readings (a value or time it cannot hold),
   * and a record it refuses is dead-lettered instead of produced, so the store
   * and the bus hold the same readings. Retriable failures are retried for as
   * long as it takes (the spool and the broker hold the rest); see
   * shared/write-isolating.ts.
   */
  private async writeStore(batch: readonly PreparedRecord[]): Promise<StoreOutcome> {
    const refused = new Set<PreparedRecord>();
    const letters: PublishItem[] = [];
    const withPoints = batch.filter((r) => r.points.length > 0);
    if (withPoints.length > 0) {
      const end = this.o.metrics.writeLatency.startTimer({ sink: 'timeseries' });
      await writeIsolating(withPoints, {
        ...this.writeContext(), sink: 'timeseries',
        write: (part) => this.o.store.writeReadings(part.length === 1 ? part[0]!.points : part.flatMap((r) => r.points)),
        onRefused: ({ item, error }) => {
          refused.add(item);
          letters.push(deadLetterItem(this.letter(item, 'timeseries', error)));
        },
      });
      end();
    }
    return { refused, letters };
  }

  /**
   * Publishes what the store took (and the dead letters of what it refused).
   * A record the bus refuses after the store took it (over the broker's size
   * limit) stays in the store: its dead letter says so. Resolves with the
   * records in both sinks.
   */
  private async writeBus(batch: readonly PreparedRecord[], stored: StoreOutcome): Promise<PreparedRecord[]> {
    const records = new Map<PublishItem, PreparedRecord>();
    for (const r of batch) {
      if (r.messages.length === 0 || stored.refused.has(r)) continue;
      // A record that is a dead letter already keeps its reason; the bus refusing it drops only its payload.
      records.set(r.refused ? deadLetterItem(r.messages[0]!) : { messages: r.messages, deadLetter: (error) => this.letter(r, 'bus', error) }, r);
    }
    const published = new Set<PreparedRecord>();
    if (records.size + stored.letters.length > 0) {
      const end = this.o.metrics.writeLatency.startTimer({ sink: 'bus' });
      for (const item of await publishIsolating((m) => this.o.bus.publish(m), [...records.keys(), ...stored.letters], this.writeContext())) {
        const r = records.get(item);
        if (r) published.add(r);
      }
      end();
    }
    return batch.filter((r) => r.meterMessages > 0 && published.has(r));
  }

  private prepare(rec: SpoolRecord): PreparedRecord {
    const stage = this.o.stage ?? 'ingest';
    const out: PreparedRecord = { rec, refused: false, points: [], messages: [], readingCount: 0, meterMessages: 0 };
    const d = decodeOrRefuse(rec.topic, rec.payload, rec.receivedAt, this.o.decode);
    if (d.kind === 'dead') {
      out.refused = true;
      out.messages.push(deadLetterMessage({ stage, reason: d.reason, detail: d.detail, source: rec.topic, payload: rec.payload.subarray(0, this.o.decode.maxPayloadBytes), receivedAt: rec.receivedAt }));
      this.o.metrics.deadLettered.inc({ reason: d.reason });
      return out;
    }
    if (d.kind === 'status') {
      const ev: MeterStatusEvent = { v: 1, park: d.park, tenant: d.tenant, meter: d.meter, status: d.status, cause: d.status === 'online' ? 'birth' : 'will', at: d.at, simulated: d.simulated };
      const value = JSON.stringify(ev);
      out.messages.push({ topic: topics.meterStatus.name, key: d.meter, value }, { topic: topics.meterState.name, key: d.meter, value });
      this.o.metrics.statusEvents.inc({ status: d.status });
      return out;
    }
    if (!this.dedup.firstSeen(d.meter, d.seq)) {
      this.o.metrics.duplicates.inc();
      return out;
    }
    for (const r of d.readings) {
      const point: ReadingPoint = { park: d.park, tenant: d.tenant, meter: d.meter, metric: r.metric, unit: r.unit, value: r.value, ts: r.ts };
      if (d.simulated) point.simulated = true;
      out.points.push(point);
    }
    const ev: ReadingBatchEvent = { v: 1, park: d.park, tenant: d.tenant, meter: d.meter, seq: d.seq, receivedAt: rec.receivedAt, simulated: d.simulated, readings: d.readings };
    out.messages.push({ topic: topics.readings.name, key: d.meter, value: JSON.stringify(ev) });
    out.readingCount = d.readings.length;
    out.meterMessages = 1;
    return out;
  }
}
