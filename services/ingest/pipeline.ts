/**
 * Ingest's runtime: spool every MQTT message, acknowledge it, and drain the
 * spool in batches: decode, dedup, then write to the time-series store and the
 * bus side by side; a batch leaves the spool only when both have it.
 * Backpressure: past maxPending spooled messages, acknowledgements are held, so
 * MQTT.js stops reading and the broker keeps the rest in the session queue.
 */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { MeterStatusEvent, ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { deadLetterMessage } from '../../shared/dead-letters.ts';
import type { EventBus, OutgoingMessage } from '../../shared/ports/event-bus.ts';
import type { ReadingPoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { writeUntilDone } from '../../shared/write-until-done.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { decode, type DecodeOptions } from './domain/decode.ts';
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
  dedupWindow: number;
  /** Stage name in dead letters. */
  stage?: string;
  now?: () => number;
}

interface PreparedBatch {
  last: number;
  points: ReadingPoint[];
  messages: OutgoingMessage[];
  readingCount: number;
  meterMessages: number;
  /** Event times of the readings, for the stored-latency histogram. */
  eventTimes: number[];
}

export class IngestPipeline {
  private readonly o: PipelineOptions;
  private readonly dedup: DedupWindow;
  private readonly now: () => number;
  private held: { topic: string; payload: Buffer; receivedAt: number; done: () => void } | undefined;
  private wake: (() => void) | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(options: PipelineOptions) {
    this.o = options;
    this.dedup = new DedupWindow(options.dedupWindow);
    this.now = options.now ?? Date.now;
  }

  /** The MQTT message handler: spool, then acknowledge, unless the spool is full. */
  onMessage(topic: string, payload: Buffer, done: () => void): void {
    const receivedAt = this.now();
    if (this.o.spool.pending >= this.o.maxPending) {
      // Held until the drain makes room: MQTT.js reads nothing more meanwhile.
      this.held = { topic, payload, receivedAt, done };
      this.o.metrics.backpressure.set(1);
      this.o.logger.warn({ pending: this.o.spool.pending }, 'spool full: holding acknowledgements (backpressure)');
      return;
    }
    this.spool(topic, payload, receivedAt, done);
  }

  private spool(topic: string, payload: Buffer, receivedAt: number, done: () => void): void {
    try {
      this.o.spool.append(topic, payload, receivedAt);
    } catch (err) {
      // Not acknowledged: the broker redelivers it once we come back.
      this.o.logger.error({ err }, 'spool append failed; message left unacknowledged');
      return;
    }
    this.o.metrics.received.inc();
    done();
    this.wake?.();
  }

  private releaseHeld(): void {
    if (!this.held || this.o.spool.pending >= this.o.maxPending * 0.8) return;
    const h = this.held;
    this.held = undefined;
    this.o.metrics.backpressure.set(0);
    this.o.logger.info({ pending: this.o.spool.pending }, 'spool has room again: acknowledging');
    this.spool(h.topic, h.payload, h.receivedAt, h.done);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.drainLoop();
  }

  /** Drains what is spooled (bounded by the caller's timeout), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.running = false;
  }

  get pending(): number {
    return this.o.spool.pending;
  }

  /** True while an acknowledgement is held (backpressure): the broker sends nothing more meanwhile. */
  get holding(): boolean {
    return this.held !== undefined;
  }

  private async drainLoop(): Promise<void> {
    while (true) {
      this.updateGauges();
      if (this.o.spool.waiting === 0) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          // A timer as well, in case a wake-up is missed.
          setTimeout(resolve, 200).unref();
        });
        this.wake = undefined;
        continue;
      }
      const records = this.o.spool.take(this.o.batchMaxMessages);
      const batch = this.prepare(records);
      this.o.metrics.inFlight.set(records.length);
      this.o.metrics.batchSize.observe(records.length);
      await Promise.all([
        this.write('timeseries', () => this.o.store.writeReadings(batch.points), batch.points.length === 0),
        this.write('bus', () => this.o.bus.publish(batch.messages), batch.messages.length === 0),
      ]);
      const storedAt = this.now();
      this.o.spool.ack(batch.last);
      this.o.metrics.inFlight.set(0);
      this.o.metrics.readingsWritten.inc(batch.readingCount);
      this.o.metrics.messagesWritten.inc(batch.meterMessages);
      for (const t of batch.eventTimes) this.o.metrics.storedLatency.observe(Math.max(0, storedAt - t) / 1000);
      this.releaseHeld();
    }
  }

  private updateGauges(): void {
    this.o.metrics.spoolPending.set(this.o.spool.pending);
    this.o.metrics.spoolBytes.set(this.o.spool.pendingBytes);
  }

  /** Retries until the sink has the batch: nothing is dropped, the spool and the broker hold the rest. */
  private async write(sink: 'timeseries' | 'bus', fn: () => Promise<void>, empty: boolean): Promise<void> {
    if (empty) return;
    const end = this.o.metrics.writeLatency.startTimer({ sink });
    await writeUntilDone(sink, fn, this.o.logger, () => {
      this.o.metrics.retries.inc({ sink });
      this.updateGauges();
    });
    end();
  }

  private prepare(records: readonly SpoolRecord[]): PreparedBatch {
    const stage = this.o.stage ?? 'ingest';
    const out: PreparedBatch = { last: records.at(-1)!.id, points: [], messages: [], readingCount: 0, meterMessages: 0, eventTimes: [] };
    for (const rec of records) {
      const d = decode(rec.topic, rec.payload, rec.receivedAt, this.o.decode);
      if (d.kind === 'dead') {
        out.messages.push(deadLetterMessage({ stage, reason: d.reason, detail: d.detail, source: rec.topic, payload: rec.payload.subarray(0, this.o.decode.maxPayloadBytes), receivedAt: rec.receivedAt }));
        this.o.metrics.deadLettered.inc({ reason: d.reason });
        continue;
      }
      if (d.kind === 'status') {
        const ev: MeterStatusEvent = { v: 1, park: d.park, tenant: d.tenant, meter: d.meter, status: d.status, cause: d.status === 'online' ? 'birth' : 'will', at: d.at, simulated: d.simulated };
        const value = JSON.stringify(ev);
        out.messages.push({ topic: topics.meterStatus.name, key: d.meter, value }, { topic: topics.meterState.name, key: d.meter, value });
        this.o.metrics.statusEvents.inc({ status: d.status });
        continue;
      }
      if (!this.dedup.firstSeen(d.meter, d.seq)) {
        this.o.metrics.duplicates.inc();
        continue;
      }
      for (const r of d.readings) {
        out.points.push({ park: d.park, tenant: d.tenant, meter: d.meter, metric: r.metric, unit: r.unit, value: r.value, ts: r.ts, ...(d.simulated && { simulated: true }) });
        out.eventTimes.push(r.ts);
      }
      const ev: ReadingBatchEvent = { v: 1, park: d.park, tenant: d.tenant, meter: d.meter, seq: d.seq, receivedAt: rec.receivedAt, simulated: d.simulated, readings: d.readings };
      out.messages.push({ topic: topics.readings.name, key: d.meter, value: JSON.stringify(ev) });
      out.readingCount += d.readings.length;
      out.meterMessages++;
    }
    return out;
  }
}
