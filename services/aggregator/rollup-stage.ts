/**
 * The aggregator's roll-up stage: consumes eip.aggregator-partials.v1 (one
 * partition, so every readings partition's partials arrive in one ordered
 * stream) as the consumer group `<group>.rollups`, feeds the pure
 * RollupCombiner, and emits the tenant and park windows to eip.aggregates.v1 and
 * the time-series store, then checkpoints the combiner (key `<group>/rollups`)
 * before the batch's offsets commit. Every aggregator instance runs one; the
 * group gives the partition to one of them, and another takes over (from the
 * checkpoint) when it goes.
 */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { AggregateEvent } from '../../shared/contracts/events.ts';
import { deadLetterMessage, parseRecord, recordSource } from '../../shared/dead-letters.ts';
import type { ConsumedBatch, OutgoingMessage } from '../../shared/ports/event-bus.ts';
import { EipError, errorMessage } from '../../shared/errors.ts';
import { deadLetterItem, publishIsolating, type WriteContext } from '../../shared/write-isolating.ts';
import { PartitionOwner } from '../../shared/runtime/partition-owner.ts';
import { partialsMessageSchema, parseRollupState, RollupCombiner, type RollupCombinerOptions } from './domain/window-aggregator.ts';
import { outputItem, packCheckpoint, unpackCheckpoint, writeAggregateOutput } from './output.ts';
import type { AggregatorRuntimeOptions } from './aggregator.ts';
import { recomputeRollups } from './backfill-io.ts';
import { confirmReplayRevisions, ReplaySpan } from './replay-revisions.ts';
import type { RecomputeRequest } from './domain/window-aggregator.ts';

export const rollupCheckpointKey = (group: string): string => `${group}/rollups`;
export const rollupGroup = (group: string): string => `${group}.rollups`;

export class RollupStage {
  private combiner: RollupCombiner | undefined;
  private lastWatermark: number | undefined;
  /** The partials its earlier owner may have taken after the checkpoint: the windows they change are numbered after the store. */
  private replay = new ReplaySpan('unknown');
  private readonly owner: PartitionOwner;
  private readonly now: () => number;
  private readonly options: RollupCombinerOptions;

  private readonly o: AggregatorRuntimeOptions;
  constructor(o: AggregatorRuntimeOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    // A roll-up window takes partials as long as any of its partitions' series may still revise it in memory: the partition allowance.
    this.options = { allowedLatenessMs: Math.max(o.allowedLatenessMs, o.partitionLatenessMs ?? 0), idleSourceMs: o.idlePartitionMs };
    this.owner = new PartitionOwner({
      bus: o.bus, logger: o.logger, supervisor: o.supervisor,
      subscription: { groupId: rollupGroup(o.group), topics: [topics.aggregatorPartials.name], fromBeginning: true, maxBatchSize: o.batchMax },
      onAssigned: () => this.assigned(),
      onRevoked: () => this.revoked(),
      handleBatch: (batch) => this.handle(batch),
      // Idle sources free the roll-up watermark only with time passing: flush then too.
      timer: {
        component: 'roll-up stage timed flush', everyMs: Math.max(250, Math.min(1000, o.idlePartitionMs / 2)),
        turn: async () => { if (this.combiner && this.combiner.watermarkAt(this.now()) !== this.lastWatermark) await this.emit([]); },
      },
    });
  }

  start(): Promise<void> {
    return this.owner.start();
  }

  stop(): Promise<void> {
    return this.owner.stop();
  }

  private async assigned(): Promise<void> {
    const saved = await this.o.bus.readCompacted(topics.aggregatorState.name);
    const own = saved.get(rollupCheckpointKey(this.o.group));
    this.replay = new ReplaySpan('unknown');
    if (own) {
      this.combiner = RollupCombiner.restore(parseRollupState(unpackCheckpoint(own)), this.options, this.now());
      this.o.logger.info({ group: this.o.group, openWindows: this.combiner.openWindows, bytes: own.length }, 'roll-up stage: restored checkpoint');
    } else {
      // No owner before has emitted anything: each writes this empty checkpoint before its first output, so nothing needs numbering after the store.
      this.combiner = new RollupCombiner(this.options);
      try {
        await this.o.bus.publish([{ topic: topics.aggregatorState.name, key: rollupCheckpointKey(this.o.group), value: packCheckpoint(this.combiner.snapshot()) }]);
      } catch (err) {
        throw new EipError('UNAVAILABLE', `could not write the roll-up stage's first checkpoint to ${topics.aggregatorState.name}: ${errorMessage(err)}`, { cause: err });
      }
      this.replay = new ReplaySpan('none');
    }
    this.lastWatermark = undefined;
    this.o.metrics.rollupStage.set(1);
  }

  private revoked(): void {
    this.combiner = undefined;
    this.o.metrics.rollupStage.set(0);
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    const combiner = this.combiner;
    if (!combiner) throw new EipError('CLOSED', 'the partials partition is not held');
    const deadLetters: OutgoingMessage[] = [];
    const recompute: RecomputeRequest[] = [];
    this.replay.begin(batch);
    const replaying = this.replay.active;
    let replayed = false;
    for (const m of batch.messages) {
      // The topic is shared by every aggregator group: the key says whose a record is.
      if (m.key !== this.o.group) continue;
      if (replaying) {
        combiner.replaying = this.replay.replayed(m.offset);
        if (combiner.replaying) replayed = true;
      }
      const report = parseRecord(m.value, partialsMessageSchema, 'aggregator partials v1');
      if (!report.ok || report.value.group !== this.o.group) {
        deadLetters.push(deadLetterMessage({ stage: 'aggregator', reason: 'bad-event', detail: report.ok ? `group ${report.value.group} under key ${m.key}` : report.detail, source: recordSource(batch.topic, batch.partition, m.offset), payload: m.value, receivedAt: this.now() }));
        this.o.metrics.invalid.inc();
        continue;
      }
      const r = combiner.add(report.value, this.now());
      this.o.metrics.partials.inc({ outcome: 'accepted' }, r.accepted);
      if (r.late) this.o.metrics.partials.inc({ outcome: 'late' }, r.late);
      recompute.push(...r.recompute);
    }
    this.replay.finish(batch);
    // Windows forgotten here (or a partition's share it no longer holds): from the stored meter windows, written before these partials.
    combiner.replaying = replayed;
    const recomputed = await recomputeRollups(combiner, recompute, this.o);
    combiner.replaying = false;
    if (!(await this.emit(deadLetters, recomputed))) throw new EipError('CLOSED', 'the partials partition was revoked during the batch');
  }

  /** Emits the roll-ups the combined watermark closes, then checkpoints: before the caller's offsets commit. */
  private async emit(deadLetters: OutgoingMessage[], recomputed: readonly AggregateEvent[] = []): Promise<boolean> {
    const combiner = this.combiner;
    if (!combiner) return false;
    const now = this.now();
    this.lastWatermark = combiner.watermarkAt(now);
    const events: AggregateEvent[] = [...recomputed, ...combiner.flush(now)];
    const unverified = combiner.takeUnverified();
    if (unverified.length > 0) await confirmReplayRevisions('rollups', combiner, unverified, this.o);
    const checkpoint = packCheckpoint(combiner.snapshot());
    let written: AggregateEvent[] = [];
    const landed = await this.owner.guarded(async ({ publish, signal }) => {
      const context: WriteContext = { stage: 'aggregator', logger: this.o.logger, metrics: this.o.metrics.sinks, signal };
      written = await writeAggregateOutput(this.o.store, publish, { events, keyOf: (a) => a.tenant ?? a.park, others: deadLetters.map(deadLetterItem) }, context, this.now);
      await publishIsolating(publish, [outputItem({ topic: topics.aggregatorState.name, key: rollupCheckpointKey(this.o.group), value: checkpoint }, this.now, context)], context);
    }, () => ({ stage: 'aggregator roll-ups', events: events.length }));
    if (!landed) return false;
    for (const a of written) this.o.metrics.emitted.inc({ scope: a.scope, window: a.window });
    this.o.metrics.rollupCheckpointBytes.set(checkpoint.length);
    this.o.metrics.rollupOpenWindows.set(combiner.openWindows);
    if (combiner.watermark !== undefined) this.o.metrics.rollupWatermark.set(combiner.watermark);
    return true;
  }
}
