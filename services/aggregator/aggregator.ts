/**
 * The aggregator's runtime: consumes eip.readings.v1 as a consumer group, feeds
 * one pure WindowAggregator per readings partition it holds, and after each
 * batch emits closed or revised meter windows to eip.aggregates.v1 and the
 * time-series store, and each partition's partial tenant and park windows with
 * its watermark to eip.aggregator-partials.v1. At most every
 * checkpointIntervalMs it checkpoints the partitions changed since their last
 * checkpoint to a compacted topic (key `<group>/<partition>`); a batch's
 * offsets are held (not committed) until a checkpoint holding its readings has
 * been written, so a restart or a partition moving to another instance
 * restores the checkpoint and replays the batches since, which the aggregator
 * absorbs: recording a reading twice is a no-op, and the windows the replay
 * closes again are the same windows (same windowId), emitted again.
 *
 * Instances of one group share the readings partitions: a partition's state is
 * loaded when it is assigned and dropped when it is revoked. The roll-up stage
 * (rollup-stage.ts, its own consumer group on the partials topic) combines the
 * partials of every partition into the tenant and park windows.
 */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { AggregateEvent } from '../../shared/contracts/events.ts';
import { deadLetterMessage, recordSource } from '../../shared/dead-letters.ts';
import { parseReadingBatch } from '../../shared/hot-inputs.ts';
import type { RegistryIndex } from '../../shared/contracts/park-registry.ts';
import type { BatchDone, ConsumedBatch, EventBus, OutgoingMessage, TopicPartitions } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { EipError, errorMessage } from '../../shared/errors.ts';
import { deadLetterItem, publishIsolating, type WriteContext } from '../../shared/write-isolating.ts';
import { PartitionOwner } from '../../shared/runtime/partition-owner.ts';
import type { Supervisor } from '../../shared/runtime/supervisor.ts';
import { WindowAggregator, watermarkFrom, parseAggregatorState, type PartialsMessage, type RollupPartial } from './domain/window-aggregator.ts';
import { fetchBackfills } from './backfill-io.ts';
import { confirmReplayRevisions, ReplaySpan } from './replay-revisions.ts';
import { slowestActive } from './domain/progress.ts';
import { checkpointWaitMs } from './domain/checkpoint-pacing.ts';
import { RollupStage } from './rollup-stage.ts';
import { outputItem, packCheckpointJson, unpackCheckpoint, writeAggregateOutput } from './output.ts';

export { toAggregatePoint } from './output.ts';
import type { AggregatorMetrics } from './metrics.ts';

export interface AggregatorRuntimeOptions {
  bus: EventBus;
  store: TimeSeriesStore;
  registry: RegistryIndex;
  metrics: AggregatorMetrics;
  logger: Logger;
  group: string;
  /** Out-of-order readings of a series this far behind its own progress still revise its windows in memory. */
  allowedLatenessMs: number;
  /** A series behind its partition, or silent, keeps its windows this far behind the partition's watermark (default: allowedLatenessMs). */
  partitionLatenessMs?: number;
  outOfOrdernessMs: number;
  /** A partition that delivered nothing for this long stops holding the watermark back. */
  idlePartitionMs: number;
  /** A series' windows close once the partition's watermark is this far past them, however far behind the series is. */
  idleSeriesMs: number;
  /** How far before a backfill span the register baseline is looked for: the raw bucket's retention. */
  backfillMaxAgeMs: number;
  /** Series read back from the store at once for a backfill (and roll-up groups for a recompute). */
  backfillConcurrency: number;
  batchMax: number;
  /** A partition's checkpoint is written at most this often (0: after every batch); its offsets commit with it. */
  checkpointIntervalMs?: number;
  /** Where an unexpected error of a timer turn goes (batches are supervised by the bus decorator). */
  supervisor: Supervisor;
  now?: () => number;
}

/** The checkpoint key of one readings partition. */
export const partitionCheckpointKey = (group: string, partition: number): string => `${group}/${partition}`;

/** Partials per message of the partials topic: well under the broker's message size. */
const partialsPerMessage = 2_000;

interface PartitionState {
  agg: WindowAggregator;
  /** Newest event time of the registry's readings on the partition, and when it last delivered one. */
  max: number;
  seenAt: number;
  /** The last offset whose record the windows hold (decimal), written with the checkpoint. */
  through: string | undefined;
  /**
   * Restored from a checkpoint: records up to this offset are in it already. A
   * crash between writing a checkpoint and committing its offsets replays them;
   * skipped, they are not recorded twice (nor taken for late readings of
   * windows the checkpoint has forgotten since). Only records produced before
   * the checkpoint was written (skipBefore): a topic recreated since, its
   * offsets starting over, is read in full.
   */
  skipThrough: bigint | undefined;
  skipBefore: number;
  /**
   * The records its earlier owner may have recorded, and emitted windows from,
   * after the checkpoint: the windows they change are numbered after the store.
   * None after a checkpoint written at a graceful stop, or when there was none
   * (every owner writes one before its first output).
   */
  replay: ReplaySpan;
  /** The watermark last reported to the roll-up stage. */
  reported: number | undefined;
  /**
   * The last batch ended before the partition's end: it is catching up (after a
   * restart, a takeover, or a backlog of other parks' readings) and may yet
   * deliver older readings of ours, so it holds the watermark back.
   */
  behind: boolean;
}

export class AggregatorRuntime {
  private rollups: RollupStage | undefined;
  /** Batches, timer flushes and assignment changes take turns: the aggregators are not re-entrant. */
  private readonly owner: PartitionOwner;
  /** The readings partitions held, with their windows. */
  private readonly held = new Map<number, PartitionState>();
  private readingsPartitions = 1;
  private assignedAt = 0;
  private lastWatermark: number | undefined;
  /** Held partitions whose state changed since their last checkpoint: their batches' offsets are held. */
  private readonly unsaved = new Set<number>();
  /** When the last checkpoint was written or refused, and how long after it the next may be (domain/checkpoint-pacing.ts). */
  private checkpointedAt = -Infinity;
  private checkpointPauseMs: number;
  private readonly checkpointIntervalMs: number;
  private readonly now: () => number;

  private readonly o: AggregatorRuntimeOptions;
  constructor(o: AggregatorRuntimeOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.checkpointIntervalMs = o.checkpointIntervalMs ?? 0;
    this.checkpointPauseMs = this.checkpointIntervalMs;
    this.owner = new PartitionOwner({
      bus: o.bus, logger: o.logger, supervisor: o.supervisor,
      subscription: { groupId: o.group, topics: [topics.readings.name], fromBeginning: true, maxBatchSize: o.batchMax },
      onAssigned: (assigned) => this.assigned(assigned),
      onRevoked: () => this.revoked(),
      handleBatch: (batch) => this.handle(batch),
      // Idle partitions free the watermark only with time passing: flush then too.
      timer: {
        component: 'aggregator timed flush', everyMs: Math.max(250, Math.min(1000, o.idlePartitionMs / 2)),
        turn: async () => {
          if (this.held.size > 0 && (this.watermark() !== this.lastWatermark || this.checkpointDue())) await this.emitAndCommit();
        },
      },
    });
  }

  async start(): Promise<void> {
    this.rollups = new RollupStage({ ...this.o });
    await this.rollups.start();
    await this.owner.start();
  }

  async stop(): Promise<void> {
    // What changed since the last checkpoint is saved and committed, so a restart replays only what comes after.
    await this.owner.exclusive(async () => { if (this.held.size > 0 && this.unsaved.size > 0) await this.emitAndCommit(true, true); });
    await this.owner.stop();
    await this.rollups?.stop();
  }

  /** Meter windows held in memory, over the partitions held. */
  get openWindows(): number {
    let n = 0;
    for (const p of this.held.values()) n += p.agg.openWindows;
    return n;
  }

  /** Readings partitions held. */
  get partitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  private watermark(): number | undefined {
    // Partitions not heard from yet cannot hold the watermark back, so give every
    // assigned partition one idle period to deliver before anything closes.
    if (this.held.size === 0 || this.now() - this.assignedAt < this.o.idlePartitionMs) return undefined;
    const now = this.now();
    const sources = [...this.held.values()].flatMap((p) => (p.behind ? [{ at: p.max, seenAt: now }] : Number.isFinite(p.max) ? [{ at: p.max, seenAt: p.seenAt }] : []));
    const at = slowestActive(sources, now, this.o.idlePartitionMs);
    return at === undefined ? undefined : watermarkFrom(at, this.o.outOfOrdernessMs);
  }

  /** Loads the assigned partitions' checkpoints. */
  private async assigned(assigned: readonly TopicPartitions[]): Promise<void> {
    const mine = assigned.find((a) => a.topic === topics.readings.name);
    if (!mine) return;
    this.readingsPartitions = mine.partitionCount;
    const saved = await this.o.bus.readCompacted(topics.aggregatorState.name);
    const options = { registry: this.o.registry, allowedLatenessMs: this.o.allowedLatenessMs, ...(this.o.partitionLatenessMs !== undefined ? { partitionLatenessMs: this.o.partitionLatenessMs } : {}), outOfOrdernessMs: this.o.outOfOrdernessMs, idleSeriesMs: this.o.idleSeriesMs };
    const restored: Record<number, string> = {};
    const fresh: OutgoingMessage[] = [];
    for (const partition of mine.partitions) {
      const own = saved.get(partitionCheckpointKey(this.o.group, partition));
      let state: PartitionState;
      if (own) {
        const c = unpackCheckpoint(own) as { aggregator: unknown; max?: number | null; through?: unknown; at?: unknown; final?: unknown };
        const through = typeof c.through === 'string' && /^\d{1,20}$/.test(c.through) && typeof c.at === 'number' && Number.isFinite(c.at) ? c.through : undefined;
        // The partition holds the watermark where it was until it delivers again or goes idle.
        const max = typeof c.max === 'number' && Number.isFinite(c.max) ? c.max : -Infinity;
        state = { agg: WindowAggregator.restore(parseAggregatorState(c.aggregator), options), max, seenAt: Number.isFinite(max) ? this.now() : 0, reported: undefined, behind: false, through, skipThrough: through === undefined ? undefined : BigInt(through), skipBefore: typeof c.at === 'number' ? c.at : 0, replay: new ReplaySpan(c.final === true && through !== undefined ? 'none' : 'unknown') };
        if (!state.replay.active) state.agg.trustRestored();
        restored[partition] = `${own.length} bytes`;
      } else {
        // No owner before has emitted anything from it: each writes this empty checkpoint before its first output, so nothing needs numbering after the store.
        state = { agg: new WindowAggregator(options), max: -Infinity, seenAt: 0, reported: undefined, behind: false, through: undefined, skipThrough: undefined, skipBefore: 0, replay: new ReplaySpan('none') };
        fresh.push({ topic: topics.aggregatorState.name, key: partitionCheckpointKey(this.o.group, partition), value: packCheckpointJson(`{"aggregator":${state.agg.snapshotJson()},"max":null}`) });
      }
      this.held.set(partition, state);
      this.o.metrics.partitions.set({ partition: String(partition) }, 1);
    }
    if (fresh.length > 0) {
      try {
        await this.o.bus.publish(fresh);
      } catch (err) {
        // Without it a later owner could not tell that this one emitted: no output before it.
        throw new EipError('UNAVAILABLE', `could not write the first checkpoint of readings partitions ${fresh.map((m) => m.key).join(', ')} to ${topics.aggregatorState.name}: ${errorMessage(err)}`, { cause: err });
      }
    }
    this.assignedAt = this.now();
    this.lastWatermark = undefined;
    this.o.metrics.openWindows.set(this.openWindows);
    this.o.logger.info({ group: this.o.group, partitions: mine.partitions, restored, openWindows: this.openWindows }, 'readings partitions assigned');
  }

  /**
   * Drops the revoked partitions' state (their checkpoints were written with
   * each batch, before its offsets committed); the owner stops a write in
   * progress from retrying, so nothing of theirs lands after the next owner loaded them.
   */
  private revoked(): void {
    const partitions = this.partitions;
    this.held.clear();
    // Their offsets since the last checkpoint were not committed: the next owner replays them.
    this.unsaved.clear();
    this.o.metrics.partitions.reset();
    this.o.logger.info({ group: this.o.group, partitions }, 'readings partitions revoked');
  }

  private async handle(batch: ConsumedBatch): Promise<BatchDone> {
    const state = this.held.get(batch.partition);
    if (!state) throw new EipError('CLOSED', `readings partition ${batch.partition} is not held`);
    const done = this.o.metrics.batchSeconds.startTimer();
    const deadLetters: OutgoingMessage[] = [];
    state.replay.begin(batch);
    const replaying = state.replay.active;
    let replayed = false;
    for (const m of batch.messages) {
      this.o.metrics.records.inc();
      if (replaying) {
        state.agg.replaying = state.replay.replayed(m.offset);
        if (state.agg.replaying) replayed = true;
      }
      if (state.skipThrough !== undefined) {
        if (BigInt(m.offset) <= state.skipThrough && m.timestamp <= state.skipBefore) continue;
        state.skipThrough = undefined;
      }
      state.through = m.offset;
      const event = parseReadingBatch(m.value);
      if (!event.ok) {
        deadLetters.push(deadLetterMessage({ stage: 'aggregator', reason: 'bad-event', detail: event.detail, source: recordSource(batch.topic, batch.partition, m.offset), payload: m.value, receivedAt: this.now() }));
        this.o.metrics.invalid.inc();
        continue;
      }
      // Only readings this aggregator keeps move its event time: another park's clock is not ours.
      if (this.o.registry.owned(event.value.park, event.value.tenant, event.value.meter)) {
        for (const reading of event.value.readings) state.max = Math.max(state.max, reading.ts);
        state.seenAt = this.now();
      }
      const r = state.agg.record(event.value);
      this.o.metrics.readings.inc({ outcome: 'accepted' }, r.accepted);
      if (r.late) this.o.metrics.readings.inc({ outcome: 'late' }, r.late);
      if (r.duplicates) this.o.metrics.readings.inc({ outcome: 'duplicate' }, r.duplicates);
      if (r.ignored) this.o.metrics.readings.inc({ outcome: 'ignored' }, r.ignored);
    }
    const last = batch.messages.at(-1);
    state.behind = batch.highWatermark !== undefined && last !== undefined && BigInt(batch.highWatermark) > BigInt(last.offset) + 1n;
    state.replay.finish(batch);
    // Readings of windows already forgotten: recomputed from the store before the flush (a replayed one's too, as replayed).
    state.agg.replaying = replayed;
    const backfilled = await fetchBackfills(state.agg, this.o);
    state.agg.replaying = false;
    const emitted = await this.emit(deadLetters, new Set([batch.partition]), backfilled);
    if (emitted === 'revoked') throw new EipError('CLOSED', 'readings partition revoked during the batch; it is left to its next owner');
    done();
    if (emitted === 'written') return 'hold';
    // This batch commits as it resolves; the other partitions' held batches are in the checkpoint too.
    await this.commitHeld();
    return undefined;
  }

  private checkpointDue(): boolean {
    return this.unsaved.size > 0 && this.now() - this.checkpointedAt >= this.checkpointPauseMs;
  }

  /** A timer (or stop) turn: flushes, and commits the held batches when it checkpointed. */
  private async emitAndCommit(checkpoint = false, final = false): Promise<void> {
    if ((await this.emit([], new Set(), [], checkpoint, final)) === 'checkpointed') await this.commitHeld();
  }

  /**
   * Commits the offsets held since the checkpoints just written. A refusal (a
   * rebalance) leaves them held: committed with the next checkpoint, or
   * replayed by the partition's next owner.
   */
  private async commitHeld(): Promise<void> {
    try {
      await this.owner.commitHeld();
    } catch (err) {
      this.o.logger.warn({ err: errorMessage(err) }, 'held offsets not committed; they commit with the next checkpoint or are replayed');
    }
  }

  /**
   * Flushes every held partition to the watermark, writes what closed and each
   * partition's partials and, when due (or asked), checkpoints every partition
   * changed since its last checkpoint. 'checkpointed' when it did (the held
   * offsets may commit), 'written' when not, 'revoked' when the partitions were
   * revoked meanwhile.
   */
  private async emit(deadLetters: OutgoingMessage[], recorded: ReadonlySet<number>, backfilled: readonly AggregateEvent[] = [], checkpoint = false, final = false): Promise<'checkpointed' | 'written' | 'revoked'> {
    const watermark = this.watermark();
    this.lastWatermark = watermark;
    const events: AggregateEvent[] = [...backfilled];
    const reports: OutgoingMessage[] = [];
    for (const [partition, p] of this.held) {
      const r = watermark === undefined ? { events: [], partials: [] as RollupPartial[], unverified: [] } : p.agg.flush(watermark);
      if (r.unverified.length > 0) await confirmReplayRevisions('meters', p.agg, r.unverified, this.o);
      events.push(...r.events);
      // What the roll-up stage may rely on: every series has flushed its windows ending there.
      const wm = p.agg.flushedTo;
      // A partition catching up reports with each batch even when its watermark stays: the roll-up stage waits for it meanwhile.
      if (r.partials.length > 0 || wm !== p.reported || (p.behind && recorded.has(partition))) {
        // The partials first, the watermark on the last message: the roll-up stage reads them in this order.
        for (let i = 0; i === 0 || i < r.partials.length; i += partialsPerMessage) {
          const last = i + partialsPerMessage >= r.partials.length;
          const message: PartialsMessage = { v: 1, group: this.o.group, source: partition, sources: this.readingsPartitions, watermark: last ? (wm ?? null) : null, partials: r.partials.slice(i, i + partialsPerMessage) };
          reports.push({ topic: topics.aggregatorPartials.name, key: this.o.group, value: JSON.stringify(message) });
        }
        p.reported = wm;
      }
      if (recorded.has(partition) || r.events.length > 0 || r.partials.length > 0) this.unsaved.add(partition);
    }
    const due = this.unsaved.size > 0 && (checkpoint || this.checkpointDue());
    // CPU time, not wall time: on a shared machine the wall clock also counts the other processes' turns.
    const encodingFrom = process.cpuUsage();
    const checkpoints = (due ? [...this.unsaved] : []).map((partition): OutgoingMessage => {
      const p = this.held.get(partition)!;
      const encoded = this.o.metrics.checkpointSeconds.startTimer();
      // final: written at a graceful stop, so its next owner knows nothing was emitted after it.
      const through = p.through === undefined ? '' : `,"through":"${p.through}","at":${this.now()}${final ? ',"final":true' : ''}`;
      const value = packCheckpointJson(`{"aggregator":${p.agg.snapshotJson()},"max":${Number.isFinite(p.max) ? p.max : 'null'}${through}}`);
      encoded();
      return { topic: topics.aggregatorState.name, key: partitionCheckpointKey(this.o.group, partition), value };
    });
    if (due) {
      const used = process.cpuUsage(encodingFrom);
      this.checkpointPauseMs = checkpointWaitMs(this.checkpointIntervalMs, (used.user + used.system) / 1000);
      this.o.metrics.checkpointWait.set(this.checkpointPauseMs / 1000);
    }
    let written: AggregateEvent[] = [];
    let saved = 0;
    // Until both have them the batch is not done: the windows were marked emitted, so giving up here would lose them.
    // Revoked meanwhile, the next owner restores the checkpoint without this output and emits it again from there.
    const landed = await this.owner.guarded(async ({ publish, signal }) => {
      const context: WriteContext = { stage: 'aggregator', logger: this.o.logger, metrics: this.o.metrics.sinks, signal };
      written = await writeAggregateOutput(this.o.store, publish, {
        events, keyOf: (a) => a.meter ?? a.tenant ?? a.park,
        others: [...reports.map((m) => outputItem(m, this.now, context)), ...deadLetters.map(deadLetterItem)],
      }, context, this.now);
      if (checkpoints.length) saved = (await publishIsolating(publish, checkpoints.map((c) => outputItem(c, this.now, context)), context)).length;
    }, () => ({ stage: 'aggregator', events: events.length, checkpoints: checkpoints.length }));
    if (!landed) return 'revoked';
    for (const a of written) this.o.metrics.emitted.inc({ scope: a.scope, window: a.window });
    for (const c of checkpoints) {
      this.o.metrics.checkpointBytes.set((c.value as Buffer).length);
      this.o.metrics.checkpointWrittenBytes.inc((c.value as Buffer).length);
    }
    this.o.metrics.openWindows.set(this.openWindows);
    if (watermark !== undefined) this.o.metrics.watermark.set(watermark);
    if (!due) return 'written';
    // A refused one is tried again after the same wait, not with every batch: encoding it again at once would change nothing.
    this.checkpointedAt = this.now();
    if (saved < checkpoints.length) {
      // Dead-lettered: nothing commits past the previous checkpoint, so a restart loses nothing.
      this.o.logger.error({ partitions: [...this.unsaved], bytes: checkpoints.map((c) => (c.value as Buffer).length), refused: checkpoints.length - saved },
        'the bus refused a readings partition checkpoint: offsets stay uncommitted (a restart replays from the last checkpoint written) until one is accepted');
      return 'written';
    }
    this.unsaved.clear();
    return 'checkpointed';
  }
}
