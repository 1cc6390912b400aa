/**
 * The aggregator's runtime: consumes eip.readings.v1 as a consumer group, feeds
 * the pure WindowAggregator, and after each batch emits closed or revised windows
 * to eip.aggregates.v1 and the time-series store, then checkpoints its state to
 * a compacted topic. The batch's offsets are committed only after all of that,
 * so a restart restores the checkpoint and replays at most the uncommitted
 * batch, which the aggregator absorbs (recording a reading twice is a no-op).
 *
 * Roll-ups per tenant and park are computed from what this instance sees: run
 * one instance per consumer group (see the README).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { readingBatchEventSchema, type AggregateEvent } from '../../shared/contracts/events.ts';
import { deadLetterMessage, parseRecord, recordSource } from '../../shared/dead-letters.ts';
import type { RegistryIndex } from '../../shared/contracts/park-registry.ts';
import type { ConsumedBatch, EventBus, OutgoingMessage, Subscription } from '../../shared/ports/event-bus.ts';
import type { AggregatePoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { writeUntilDone } from '../../shared/write-until-done.ts';
import { Serial } from '../../shared/runtime/serial.ts';
import { WindowAggregator, watermarkFrom, parseAggregatorState } from './domain/window-aggregator.ts';
import type { AggregatorMetrics } from './metrics.ts';

export interface AggregatorRuntimeOptions {
  bus: EventBus;
  store: TimeSeriesStore;
  registry: RegistryIndex;
  metrics: AggregatorMetrics;
  logger: Logger;
  group: string;
  allowedLatenessMs: number;
  outOfOrdernessMs: number;
  /** A partition that delivered nothing for this long stops holding the watermark back. */
  idlePartitionMs: number;
  batchMax: number;
  now?: () => number;
}

export function toAggregatePoint(a: AggregateEvent): AggregatePoint {
  return {
    scope: a.scope, park: a.park, tenant: a.tenant, meter: a.meter, metric: a.metric, unit: a.unit, window: a.window, start: a.start,
    count: a.count, sum: a.sum, min: a.min, max: a.max, mean: a.mean, last: a.last, consumption: a.consumption, completeness: a.completeness,
    ...(a.simulated && { simulated: true }),
  };
}

export class AggregatorRuntime {
  private aggregator: WindowAggregator | undefined;
  private subscription: Subscription | undefined;
  private readonly abort = new AbortController();
  /**
   * Newest event time per partition, and when it last delivered: the watermark
   * follows the slowest active partition (a fast one must not make a slow one's
   * readings late), and idle partitions stop holding it back.
   */
  private readonly partitions = new Map<string, { max: number; seenAt: number }>();
  private lastWatermark: number | undefined;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Batches and timer flushes take turns: the aggregator is not re-entrant. */
  private readonly turns = new Serial();
  private readonly now: () => number;

  constructor(private readonly o: AggregatorRuntimeOptions) {
    this.now = o.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.startedAt = this.now();
    this.aggregator = await this.restore();
    this.subscription = await this.o.bus.subscribe({
      groupId: this.o.group,
      topics: [topics.readings.name],
      fromBeginning: true,
      maxBatchSize: this.o.batchMax,
      handleBatch: (batch) => this.exclusive(() => this.handle(batch)),
    });
    // Idle partitions free the watermark only with time passing: flush then too.
    this.timer = setInterval(() => {
      void this.exclusive(async () => {
        if (this.watermark() !== this.lastWatermark) await this.emit([]);
      }).catch((err: unknown) => this.o.logger.error({ err }, 'timed flush failed'));
    }, Math.max(250, Math.min(1000, this.o.idlePartitionMs / 2)));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.subscription?.stop();
    await this.turns.idle();
    this.abort.abort();
  }

  private exclusive(fn: () => Promise<void>): Promise<void> {
    return this.turns.run(fn);
  }

  private watermark(): number | undefined {
    // Partitions not heard from yet cannot hold the watermark back, so give every
    // assigned partition one idle period to deliver before anything closes.
    if (this.partitions.size === 0 || this.now() - this.startedAt < this.o.idlePartitionMs) return undefined;
    const cutoff = this.now() - this.o.idlePartitionMs;
    let active = Infinity;
    let newest = -Infinity;
    for (const p of this.partitions.values()) {
      if (p.seenAt >= cutoff) active = Math.min(active, p.max);
      newest = Math.max(newest, p.max);
    }
    return watermarkFrom(active === Infinity ? newest : active, this.o.outOfOrdernessMs);
  }

  get openWindows(): number {
    return this.aggregator?.openWindows ?? 0;
  }

  private async restore(): Promise<WindowAggregator> {
    const options = { registry: this.o.registry, allowedLatenessMs: this.o.allowedLatenessMs };
    const saved = (await this.o.bus.readCompacted(topics.aggregatorState.name)).get(this.o.group);
    if (!saved) {
      this.o.logger.info({ group: this.o.group }, 'no checkpoint: starting from the beginning of the readings topic');
      return new WindowAggregator(options);
    }
    const checkpoint = JSON.parse(gunzipSync(saved).toString('utf8')) as { aggregator: unknown; partitions?: Array<[string, number]> };
    const restored = WindowAggregator.restore(parseAggregatorState(checkpoint.aggregator), options);
    // Partitions hold the watermark where they were until they deliver again or go idle,
    // so the first partition to deliver after a restart cannot close everyone's windows.
    for (const [key, max] of checkpoint.partitions ?? []) if (typeof key === 'string' && Number.isFinite(max)) this.partitions.set(key, { max, seenAt: this.now() });
    this.o.logger.info({ group: this.o.group, openWindows: restored.openWindows, watermark: restored.watermark, bytes: saved.length }, 'restored checkpoint');
    return restored;
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    const agg = this.aggregator!;
    const done = this.o.metrics.batchSeconds.startTimer();
    const deadLetters: OutgoingMessage[] = [];
    for (const m of batch.messages) {
      this.o.metrics.records.inc();
      const event = parseRecord(m.value, readingBatchEventSchema, 'readings event v1');
      if (!event.ok) {
        deadLetters.push(deadLetterMessage({ stage: 'aggregator', reason: 'bad-event', detail: event.detail, source: recordSource(batch.topic, batch.partition, m.offset), payload: m.value, receivedAt: this.now() }));
        this.o.metrics.invalid.inc();
        continue;
      }
      // Only readings this aggregator keeps move its event time: another park's clock is not ours.
      if (this.o.registry.owned(event.value.park, event.value.tenant, event.value.meter)) {
        const key = `${batch.topic}/${batch.partition}`;
        const p = this.partitions.get(key) ?? { max: -Infinity, seenAt: 0 };
        for (const reading of event.value.readings) p.max = Math.max(p.max, reading.ts);
        p.seenAt = this.now();
        this.partitions.set(key, p);
      }
      const r = agg.record(event.value);
      this.o.metrics.readings.inc({ outcome: 'accepted' }, r.accepted);
      if (r.late) this.o.metrics.readings.inc({ outcome: 'late' }, r.late);
      if (r.duplicates) this.o.metrics.readings.inc({ outcome: 'duplicate' }, r.duplicates);
      if (r.ignored) this.o.metrics.readings.inc({ outcome: 'ignored' }, r.ignored);
    }
    await this.emit(deadLetters);
    done();
  }

  /** Flushes to the watermark, writes what closed, checkpoints: all before the caller's offsets commit. */
  private async emit(deadLetters: OutgoingMessage[]): Promise<void> {
    const agg = this.aggregator!;
    const watermark = this.watermark();
    this.lastWatermark = watermark;
    const emitted = watermark === undefined ? [] : agg.flush(watermark);
    const messages: OutgoingMessage[] = emitted.map((a) => ({ topic: topics.aggregates.name, key: a.meter ?? a.tenant ?? a.park, value: JSON.stringify(a) }));
    // Until both have them the batch is not done: the windows were marked emitted, so giving up here would lose them.
    await Promise.all([
      emitted.length ? writeUntilDone('timeseries', () => this.o.store.writeAggregates(emitted.map(toAggregatePoint)), this.o.logger, undefined, this.abort.signal) : undefined,
      writeUntilDone('bus', () => this.o.bus.publish([...messages, ...deadLetters]), this.o.logger, undefined, this.abort.signal),
    ]);
    const partitions = [...this.partitions].map(([key, p]) => [key, p.max]);
    const checkpoint = gzipSync(JSON.stringify({ aggregator: agg.snapshot(), partitions }));
    await writeUntilDone('checkpoint', () => this.o.bus.publish([{ topic: topics.aggregatorState.name, key: this.o.group, value: checkpoint }]), this.o.logger, undefined, this.abort.signal);
    for (const a of emitted) this.o.metrics.emitted.inc({ scope: a.scope, window: a.window });
    this.o.metrics.checkpointBytes.set(checkpoint.length);
    this.o.metrics.openWindows.set(agg.openWindows);
    if (agg.watermark !== undefined) this.o.metrics.watermark.set(agg.watermark);
  }
}
