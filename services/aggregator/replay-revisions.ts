/**
 * After a restore, the partition's earlier owner may have emitted windows
 * after the checkpoint; the replay cuts its batches differently, so it can
 * emit a window fewer times, and a number consumers already saw (with other
 * content) would come again. The store holds every emitted revision (it is
 * written before the bus), so the windows the replay changes are numbered after
 * it: one stored-aggregate query per park, metric and size over their span.
 */
import type { AggregateEvent } from '../../shared/contracts/events.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { storedWindowOf, windowIdOf, type WindowAggregator } from './domain/window-aggregator.ts';
import type { AggregatorMetrics } from './metrics.ts';

export async function confirmReplayRevisions(agg: WindowAggregator, events: readonly AggregateEvent[], o: { store: TimeSeriesStore; metrics: AggregatorMetrics }): Promise<void> {
  const groups = new Map<string, AggregateEvent[]>();
  for (const e of events) {
    const key = `${e.park}|${e.metric}|${e.window}`;
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
    const points = await o.store.queryStoredAggregates({ scope: { park: first.park }, aggregateScope: 'meter', metric: first.metric, window: first.window, from, to });
    for (const p of points) {
      if (p.meter === undefined) continue;
      const id = windowIdOf('meter', p.meter, p.metric, p.window, p.start);
      if (!wanted.has(id)) continue;
      const w = storedWindowOf(p);
      stored.set(id, { revision: w.revision, hash: w.hash });
    }
  }
  const n = agg.confirmRevisions(events, stored);
  for (const [outcome, count] of Object.entries(n)) if (count > 0) o.metrics.replayWindows.inc({ outcome }, count);
}
