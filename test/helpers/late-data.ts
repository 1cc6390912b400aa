/**
 * The late-data scenario shared by the aggregator's backfill tests: three
 * meters on a 2-minute cadence, one of which (the logger) goes silent for an
 * outage and then resends what it buffered, in order or shuffled, while the
 * others stay live. `drive` runs the aggregator's two stages as the runtime
 * does (store before bus, backfills before the flush) over any time-series
 * store and returns the latest revision of every window it emitted.
 */
import { windowMs, type AggregateEvent, type ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { parseParkRegistry, RegistryIndex } from '../../shared/contracts/park-registry.ts';
import type { ReadingPoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { partitionForKey } from '../../shared/ports/partitioner.ts';
import { partialsMessageSchema, RollupCombiner, WindowAggregator } from '../../services/aggregator/domain/window-aggregator.ts';
import { fetchBackfills, recomputeRollups } from '../../services/aggregator/backfill-io.ts';
import { packCheckpoint, toAggregatePoint } from '../../services/aggregator/output.ts';
import { createAggregatorMetrics, type AggregatorMetrics } from '../../services/aggregator/metrics.ts';

export const lateStart = Date.UTC(2026, 10, 23); // a UTC midnight
export const MIN = 60_000;
export const H = 60 * MIN;
export const D = 24 * H;
const CADENCE = 2 * MIN;

/** The scenario's park registry (JSON, as a registry file holds it). */
export function latePark(park: string): unknown {
  const meter = (id: string) => ({ id, kind: 'electricity' as const, cadenceSeconds: 120, metrics: ['active_energy_import', 'active_power'] });
  return {
    version: 1,
    parks: [{
      id: park, name: 'Late data park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
      emissionFactors: { grid: { kgCo2ePerKwh: 0.7, source: 'test' } },
      tenants: [
        { id: 't1', name: 'Tenant one', sector: 'test', supplySource: 'grid', meters: [meter('live-a'), meter('logger')] },
        { id: 't2', name: 'Tenant two', sector: 'test', supplySource: 'grid', meters: [meter('live-b')] },
      ],
    }],
  };
}

export function lateRegistry(park: string): RegistryIndex {
  return new RegistryIndex(parseParkRegistry(latePark(park)));
}

/** What meter `m` reads at `ts`: deterministic, with some variety. */
function reading(m: number, ts: number): Array<{ metric: string; unit: string; value: number; ts: number }> {
  const k = Math.round((ts - lateStart) / CADENCE);
  return [
    { metric: 'active_power', unit: 'kW', value: 100 + m * 7 + ((k * 37 + m * 11) % 23) / 3, ts },
    { metric: 'active_energy_import', unit: 'kWh', value: 10_000 * (m + 1) + k * (3 + m) + ((k * 13) % 5) / 4, ts },
  ];
}

const meters = ['live-a', 'logger', 'live-b'] as const;

export interface Scenario {
  /** Where the logger's outage starts and how long it lasts. */
  outageStart: number;
  outageMs: number;
  /** How the buffered records come back. */
  order: 'in-order' | 'shuffled' | 'on-time';
  /** Live traffic runs until here. */
  end: number;
  /** Live 2-minute steps per bus batch (default 1). */
  stepsPerBatch?: number;
}

/** Batches of reading events in the order the bus would deliver them. */
export function traffic(park: string, s: Scenario): ReadingBatchEvent[][] {
  const tenant = (m: string) => (m === 'live-b' ? 't2' : 't1');
  const ev = (meter: string, readings: ReturnType<typeof reading>): ReadingBatchEvent => ({ v: 1, park, tenant: tenant(meter), meter, seq: 0, receivedAt: readings[0]!.ts, simulated: false, readings });
  const per = s.stepsPerBatch ?? 1;
  const batches: ReadingBatchEvent[][] = [];
  const buffered: ReadingBatchEvent[] = [];
  let live: ReadingBatchEvent[] = [];
  let liveSteps = 0;
  const outageEnd = s.outageStart + s.outageMs;
  for (let ts = lateStart; ts < s.end; ts += CADENCE) {
    meters.forEach((m, i) => {
      const e = ev(m, reading(i, ts));
      if (m === 'logger' && s.order !== 'on-time' && ts >= s.outageStart && ts < outageEnd) buffered.push(e);
      else live.push(e);
    });
    liveSteps++;
    const resend = s.order !== 'on-time' && ts + CADENCE >= outageEnd && buffered.length > 0;
    if (liveSteps >= per || resend) {
      batches.push(live);
      live = [];
      liveSteps = 0;
    }
    if (resend) {
      const back = s.order === 'shuffled' ? shuffle(buffered.splice(0)) : buffered.splice(0);
      // The logger sends its buffer in chunks of records, each chunk one bus batch.
      for (let i = 0; i < back.length; i += 500) batches.push(back.slice(i, i + 500));
    }
  }
  if (live.length > 0) batches.push(live);
  return batches;
}

function shuffle<T>(xs: T[]): T[] {
  let seed = 42;
  for (let i = xs.length - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = seed % (i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

export interface Driven {
  /** Latest revision of every window, by windowId. */
  latest: Map<string, AggregateEvent>;
  /** The partition's open meter windows and checkpoint size at the end, and what the backfills cost. */
  openWindows: number;
  checkpointBytes: number;
  metrics: AggregatorMetrics;
  /** Readings the partitions took as late (their window forgotten): each went through a backfill. */
  late: number;
}

/** The aggregator's two allowances (WindowAggregatorOptions); 2 h each by default. */
export interface Lateness {
  allowedLatenessMs: number;
  partitionLatenessMs?: number;
}

/**
 * The readings partitions and the roll-up stage over `store`, fed batch by
 * batch in the runtime's order of writes. Meters go to partitions as the bus
 * keys them; a partition without readings of a batch is idle, so the
 * watermark is the newest partition's (as the runtime's idle rule makes it).
 */
export async function drive(store: TimeSeriesStore, registry: RegistryIndex, steps: readonly ReadingBatchEvent[][], partitions = 1, lateness: Lateness = { allowedLatenessMs: 2 * H }): Promise<Driven> {
  const metrics = createAggregatorMetrics(createMetricsRegistry('late-data'));
  // Reads overlapping as the service's default has them: the fills must still come out as read one by one.
  const ctx = { store, metrics, backfillMaxAgeMs: 29 * D, backfillConcurrency: 4 };
  const aggs = Array.from({ length: partitions }, () => new WindowAggregator({ registry, ...lateness, outOfOrdernessMs: 5_000, idleSeriesMs: MIN }));
  // The roll-up stage holds its windows for the longer allowance, as the runtime configures it.
  const combiner = new RollupCombiner({ allowedLatenessMs: Math.max(lateness.allowedLatenessMs, lateness.partitionLatenessMs ?? 0), idleSourceMs: MIN });
  let late = 0;
  const latest = new Map<string, AggregateEvent>();
  const keep = async (events: readonly AggregateEvent[]): Promise<void> => {
    if (events.length === 0) return;
    await store.writeAggregates(events.map(toAggregatePoint));
    for (const e of events) {
      const held = latest.get(e.windowId);
      if (!held || e.revision >= held.revision) latest.set(e.windowId, e);
    }
  };
  let now = 0;
  for (const step of steps) {
    // Ingest writes the store before the bus.
    const points: ReadingPoint[] = step.flatMap((e) => e.readings.map((r) => ({ park: e.park, tenant: e.tenant, meter: e.meter, metric: r.metric, unit: r.unit, value: r.value, ts: r.ts })));
    await store.writeReadings(points);
    for (const e of step) late += aggs[partitionForKey(e.meter, partitions)]!.record(e).late;
    for (const e of step) for (const r of e.readings) if (r.ts > now) now = r.ts;
    const newest = Math.max(...aggs.map((a) => a.maxEventTime ?? -Infinity));
    for (const [source, agg] of aggs.entries()) {
      const filled = await fetchBackfills(agg, ctx);
      const r = Number.isFinite(newest) ? agg.flush(newest - 5_000) : { events: [], partials: [] };
      await keep([...filled, ...r.events]);
      // Through JSON and the topic's schema, as the partials travel.
      const message = partialsMessageSchema.parse(JSON.parse(JSON.stringify({ v: 1, group: 'g', source, sources: partitions, watermark: agg.flushedTo ?? null, partials: r.partials })));
      const added = combiner.add(message, now);
      await keep(await recomputeRollups(combiner, added.recompute, ctx));
    }
    await keep(combiner.flush(now));
  }
  return { latest, openWindows: aggs.reduce((n, a) => n + a.openWindows, 0), checkpointBytes: packCheckpoint({ aggregator: aggs[0]!.snapshot() }).length, metrics, late };
}

/** What a consumer compares: the content of each window, not how many revisions it took. */
export function content(e: AggregateEvent): unknown {
  return {
    windowId: e.windowId, count: e.count, sum: e.sum, min: e.min, max: e.max, mean: e.mean, last: e.last, consumption: e.consumption,
    registerEvents: e.registerEvents, completeness: e.completeness, expected: e.expected, simulated: e.simulated,
  };
}

/** The windows of the given sizes that end by `until`, by windowId (the park's id as P), as content. */
export function windowsBy(d: Driven, sizes: ReadonlyArray<AggregateEvent['window']>, until: number, park: string): Map<string, unknown> {
  const id = (e: AggregateEvent): string => e.windowId.split(`:${park}:`).join(':P:');
  return new Map([...d.latest.values()].filter((e) => sizes.includes(e.window) && e.start + windowMs[e.window] <= until).sort((a, b) => (a.windowId < b.windowId ? -1 : 1)).map((e) => [id(e), { ...(content(e) as object), windowId: id(e) }]));
}
