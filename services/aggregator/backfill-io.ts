/**
 * The store reads behind a backfill: for each series the window aggregator
 * asks about (readings of windows it already forgot), the series' stored
 * readings over the span, the register baseline before it, and the stored meter
 * windows whose revisions the recomputation continues. One set of queries per
 * series and batch, however many late readings it brought; the series' sets
 * are read `backfillConcurrency` at a time and applied in the aggregator's order.
 */
import { windowMs } from '../../shared/contracts/events.ts';
import type { AggregateEvent } from '../../shared/contracts/events.ts';
import type { ReadingPoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { storedWindowOf, type BackfillData, type BackfillRequest, type RecomputeRequest, type RollupCombiner, type StoredMember, type WindowAggregator } from './domain/window-aggregator.ts';
import type { AggregatorMetrics } from './metrics.ts';
import { windowBounds } from './domain/windows.ts';
import { mapBounded } from '../../shared/runtime/map-bounded.ts';

const DAY = 86_400_000;

export interface BackfillContext {
  store: TimeSeriesStore;
  metrics: AggregatorMetrics;
  backfillMaxAgeMs: number;
  /** Series (or roll-up groups) read from the store at once: their round trips overlap. */
  backfillConcurrency: number;
}

/** Takes the aggregator's backfill requests, reads them and fills them in: the recomputed meter windows to write. */
export async function fetchBackfills(agg: WindowAggregator, o: BackfillContext): Promise<AggregateEvent[]> {
  const out: AggregateEvent[] = [];
  // The reads are independent; the fills go in the requests' order, so the output is the same as read one by one.
  const read = await mapBounded(agg.takeBackfills(), o.backfillConcurrency, (q) => readBackfill(o.store, q, o.backfillMaxAgeMs));
  for (const data of read) {
    const events = agg.fill(data);
    o.metrics.backfills.inc();
    o.metrics.backfillReadings.inc(data.readings.length);
    o.metrics.backfillWindows.inc(events.length);
    out.push(...events);
  }
  return out;
}

export async function readBackfill(store: TimeSeriesStore, q: BackfillRequest, maxAgeMs: number): Promise<BackfillData> {
  const scope = { park: q.park, tenant: q.tenant, meter: q.meter };
  const range = (from: number, to: number, limit?: number): Promise<ReadingPoint[]> =>
    store.queryReadings({ scope, metric: q.metric, from, to, ...(limit !== undefined && { limit }) });
  let to = q.to;
  const readings = await range(q.from, to);
  if (q.cumulative && to < q.limit) {
    // The next stored reading's step starts from what the span now ends with: its windows are recomputed too.
    const [next] = await range(to, q.limit, 1);
    if (next) {
      const end = Math.min(q.limit, windowBounds(next.ts, q.sizes.at(-1)!, q.zone).end);
      readings.push(...(await range(to, end)));
      to = end;
    }
  }
  const before = q.cumulative ? await lastBefore(store, q, maxAgeMs) : undefined;
  const stored = (await Promise.all(q.sizes.map((window) => store.queryStoredAggregates({ scope, aggregateScope: 'meter', metric: q.metric, window, from: q.from, to }))))
    .flat().filter((p) => p.meter === q.meter).map(storedWindowOf);
  return {
    key: q.key, from: q.from, to,
    readings: readings.filter((r) => r.meter === q.meter).map((r) => ({ ts: r.ts, value: r.value, simulated: r.simulated === true })),
    late: q.readings, before, stored,
  };
}

/** The register's last stored reading before the span: the day before, else the newest day holding one within the retention. */
async function lastBefore(store: TimeSeriesStore, q: BackfillRequest, maxAgeMs: number): Promise<{ ts: number; value: number } | undefined> {
  const scope = { park: q.park, tenant: q.tenant, meter: q.meter };
  const pick = (rows: readonly ReadingPoint[]): { ts: number; value: number } | undefined => {
    const r = rows.filter((x) => x.meter === q.meter).at(-1);
    return r && { ts: r.ts, value: r.value };
  };
  const near = pick(await store.queryReadings({ scope, metric: q.metric, from: q.from - DAY, to: q.from }));
  if (near) return near;
  const oldest = Math.max(0, q.from - maxAgeMs);
  if (oldest >= q.from - DAY) return undefined;
  const days = await store.queryAggregate({ scope, metric: q.metric, fn: 'count', from: oldest, to: q.from - DAY, everyMs: DAY });
  const day = days.filter((b) => b.value > 0).at(-1);
  if (!day) return undefined;
  return pick(await store.queryReadings({ scope, metric: q.metric, from: Math.max(day.ts, oldest), to: Math.min(day.ts + DAY, q.from - DAY) }));
}

/**
 * Reads what the roll-up stage's recompute requests need: the stored meter
 * windows of each roll-up's members and the stored roll-up (its revision), one
 * query pair per scope, metric and size over the requests' span.
 */
export async function recomputeRollups(combiner: RollupCombiner, requests: readonly RecomputeRequest[], o: { store: TimeSeriesStore; metrics: AggregatorMetrics; backfillConcurrency: number }): Promise<AggregateEvent[]> {
  const groups = new Map<string, RecomputeRequest[]>();
  for (const q of requests) {
    const p = q.partial;
    const key = `${p.scope}|${p.park}|${p.tenant ?? ''}|${p.metric}|${p.window}`;
    const list = groups.get(key);
    if (list) list.push(q);
    else groups.set(key, [q]);
  }
  const out: AggregateEvent[] = [];
  // Read a few groups at once; recomputed in the groups' order, as read one by one.
  const read = await mapBounded([...groups.values()], o.backfillConcurrency, async (group) => {
    const first = group[0]!.partial;
    const scope = first.scope === 'tenant' && first.tenant !== undefined ? { park: first.park, tenant: first.tenant } : { park: first.park };
    const from = Math.min(...group.map((q) => q.partial.start));
    const to = Math.max(...group.map((q) => q.partial.end ?? q.partial.start + windowMs[q.partial.window]));
    const query = { scope, metric: first.metric, window: first.window, from, to };
    const [members, rollups] = await Promise.all([
      o.store.queryStoredAggregates({ ...query, aggregateScope: 'meter' }),
      o.store.queryStoredAggregates({ ...query, aggregateScope: first.scope }),
    ]);
    return { group, first, members, rollups };
  });
  for (const { group, first, members, rollups } of read) {
    const byStart = new Map<number, StoredMember[]>();
    for (const m of members) {
      if (m.meter === undefined || (first.scope === 'tenant' && m.tenant !== first.tenant)) continue;
      const list = byStart.get(m.start) ?? [];
      list.push({
        meter: m.meter, count: m.count, sum: m.sum, min: m.min, max: m.max, last: m.last, lastAt: m.lastAt ?? m.start + windowMs[m.window] - 1,
        consumption: m.consumption ?? 0, registerEvents: m.registerEvents ?? [], simulated: m.simulated === true,
      });
      byStart.set(m.start, list);
    }
    const stored = new Map(rollups.filter((r) => first.scope === 'park' ? r.tenant === undefined : r.tenant === first.tenant).map((r) => [r.start, storedWindowOf(r)]));
    // One recomputation per window: a window's later requests would read the same store.
    const done = new Set<string>();
    for (const q of group) {
      const k = `${q.partial.start}|${q.source ?? ''}`;
      if (done.has(k)) continue;
      done.add(k);
      const event = combiner.recomputed(q, byStart.get(q.partial.start) ?? [], stored.get(q.partial.start));
      o.metrics.rollupRecomputes.inc();
      if (event) out.push(event);
    }
  }
  return out;
}
