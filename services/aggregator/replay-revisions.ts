/**
 * The store reads behind numbering a replay's windows (domain/revisions.ts):
 * what the store holds of the windows a flush after a restore emitted, one
 * stored-aggregate query per scope, park, metric and size over their span.
 * Used by both stages: meter windows (the readings partitions) and tenant and
 * park windows (the roll-up stage).
 */
import type { AggregateEvent } from '../../shared/contracts/events.ts';
import type { AggregatePoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import type { ConsumedBatch } from '../../shared/ports/event-bus.ts';
import { storedWindowOf, windowIdOf, type NumberingOutcome, type StoredRevisions } from './domain/window-aggregator.ts';
import type { AggregatorMetrics } from './metrics.ts';

/** What numbers a replay's windows: the window aggregator of a partition, or the roll-up combiner. */
export interface ReplayNumbering {
  confirmRevisions(events: readonly AggregateEvent[], stored: StoredRevisions): Record<NumberingOutcome, number>;
}

const idOf = (p: AggregatePoint): string | undefined => {
  const scopeId = p.scope === 'meter' ? p.meter : p.scope === 'tenant' ? p.tenant : p.park;
  return scopeId === undefined ? undefined : windowIdOf(p.scope, scopeId, p.metric, p.window, p.start);
};

export async function confirmReplayRevisions(stage: 'meters' | 'rollups', target: ReplayNumbering, events: readonly AggregateEvent[], o: { store: TimeSeriesStore; metrics: AggregatorMetrics }): Promise<void> {
  const groups = new Map<string, AggregateEvent[]>();
  for (const e of events) {
    const key = `${e.scope}|${e.park}|${e.metric}|${e.window}`;
    const list = groups.get(key);
    if (list) list.push(e);
    else groups.set(key, [e]);
  }
  const stored = new Map<string, { revision: number; hash: number }>();
  for (const group of groups.values()) {
    const first = group[0]!;
    const wanted = new Set(group.map((e) => e.windowId));
    let from = Infinity;
    let to = -Infinity;
    for (const e of group) {
      if (e.start < from) from = e.start;
      if (e.end > to) to = e.end;
    }
    const points = await o.store.queryStoredAggregates({ scope: { park: first.park }, aggregateScope: first.scope, metric: first.metric, window: first.window, from, to });
    for (const p of points) {
      const id = idOf(p);
      if (id === undefined || !wanted.has(id)) continue;
      const w = storedWindowOf(p);
      stored.set(id, { revision: w.revision, hash: w.hash });
    }
  }
  const n = target.confirmRevisions(events, stored);
  for (const [outcome, count] of Object.entries(n)) if (count > 0) o.metrics.replayWindows.inc({ stage, outcome }, count);
}

/**
 * Which records of a partition an earlier owner may have taken after its
 * checkpoint: those below the partition's end when this owner's first batch
 * came (both adapters report it; without it, that batch alone).
 */
export class ReplaySpan {
  /** Undefined until the first batch; null once past it, or when nothing can have been taken. */
  private end: bigint | null | undefined;

  /** `none`: the checkpoint says no output followed it (a graceful stop), or there was none. */
  constructor(from: 'unknown' | 'none') {
    this.end = from === 'none' ? null : undefined;
  }

  /** Still replaying (false once the consumer passed the end). */
  get active(): boolean {
    return this.end !== null;
  }

  /** With each batch, before its records: the first fixes the end. */
  begin(batch: ConsumedBatch): void {
    if (this.end !== undefined) return;
    const last = batch.messages.at(-1);
    this.end = batch.highWatermark !== undefined ? BigInt(batch.highWatermark) : last ? BigInt(last.offset) + 1n : null;
  }

  replayed(offset: string): boolean {
    return this.end !== null && this.end !== undefined && BigInt(offset) < this.end;
  }

  /** After the batch's records: past the end, nothing more is replayed. */
  finish(batch: ConsumedBatch): void {
    const last = batch.messages.at(-1);
    if (this.end !== null && this.end !== undefined && last !== undefined && BigInt(last.offset) + 1n >= this.end) this.end = null;
  }
}
