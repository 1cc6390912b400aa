/**
 * A tenant's data quality over a range: the meter hours below the completeness
 * threshold (or with no record at all), and the register events of its meters
 * (when, which meter, which event), from the aggregator's stored windows.
 *
 * Hours come from the meters' 1-hour windows, one store query per metric. An
 * hour with no window between a stream's first hour in the range and the last
 * hour closed at least `missingGraceMs` ago counts as missing (completeness 0):
 * the aggregator writes a window only when records arrived, so a silent meter
 * leaves a gap rather than a zero. Register events are found in the hours and
 * then looked up in that hour's 1-minute windows, newest first, for at most
 * `minuteLookups` hours per request; beyond that an event is reported at the
 * hour (`window: "1h"`).
 */
import { isIncomplete } from '../../../shared/contracts/completeness.ts';
import { windowMs } from '../../../shared/contracts/events.ts';
import type { Park, Tenant } from '../../../shared/contracts/park-registry.ts';
import type { AggregatePoint, TimeSeriesStore } from '../../../shared/ports/time-series.ts';
import type { IncompleteHour, RegisterEventRow, TenantQuality } from './schemas.ts';
import { registerEventsOf } from './window-points.ts';

const hourMs = windowMs['1h'];
/** The aggregator closes an hour on its event-time watermark, seconds after the hour: a gap younger than this is not yet missing. */
export const missingGraceMs = 5 * 60_000;
/** Hours whose register events are looked up minute by minute, per request. */
export const minuteLookups = 24;

export interface QualityRange {
  from: number;
  to: number;
  now: number;
  minCompleteness: number;
  limit: number;
}

interface Stream {
  meter: string;
  metric: string;
  cadenceSeconds: number;
  hours: AggregatePoint[];
}

const streamKey = (meter: string, metric: string): string => `${meter}\u0000${metric}`;

/** The tenant's meter/metric streams with their hour windows in the range, oldest first. */
export function streamsOf(tenant: Tenant, hourWindows: readonly AggregatePoint[]): Stream[] {
  const streams = new Map<string, Stream>();
  for (const m of tenant.meters) for (const metric of m.metrics) streams.set(streamKey(m.id, metric), { meter: m.id, metric, cadenceSeconds: m.cadenceSeconds, hours: [] });
  for (const w of hourWindows) {
    if (w.scope !== 'meter' || w.meter === undefined) continue;
    streams.get(streamKey(w.meter, w.metric))?.hours.push(w);
  }
  for (const s of streams.values()) s.hours.sort((a, b) => a.start - b.start);
  return [...streams.values()];
}

/** The incomplete and missing hours of one stream, oldest first, and how many closed hours were judged. */
export function hoursOf(stream: Stream, range: QualityRange): { incomplete: IncompleteHour[]; judged: number } {
  const incomplete: IncompleteHour[] = [];
  const closedBy = Math.min(range.to, range.now - missingGraceMs);
  const expected = hourMs / 1000 / stream.cadenceSeconds;
  const missing = (start: number): IncompleteHour => ({ meter: stream.meter, metric: stream.metric, start, count: 0, expected, completeness: 0, missing: true });
  let judged = 0;
  let next: number | undefined;
  for (const w of stream.hours) {
    // Hours are consecutive from the first one, whatever clock they are aligned to.
    for (let h = next; h !== undefined && h < w.start; h += hourMs) { incomplete.push(missing(h)); judged += 1; }
    judged += 1;
    if (isIncomplete(w.completeness, range.minCompleteness)) {
      incomplete.push({
        meter: stream.meter, metric: stream.metric, start: w.start, count: w.count, completeness: w.completeness ?? 0, missing: false,
        ...(w.expected !== undefined && { expected: w.expected }), ...(w.revision !== undefined && { revision: w.revision }),
      });
    }
    next = w.start + hourMs;
  }
  for (let h = next; h !== undefined && h + hourMs <= closedBy; h += hourMs) { incomplete.push(missing(h)); judged += 1; }
  return { incomplete, judged };
}

/** One row per register event of a window. */
export function eventRows(w: AggregatePoint, window: '1m' | '1h'): RegisterEventRow[] {
  if (w.meter === undefined) return [];
  const meter = w.meter;
  return registerEventsOf(w).map((event) => ({
    meter, metric: w.metric, at: w.start, window, event,
    ...(w.consumption !== undefined && { consumption: w.consumption }), ...(w.revision !== undefined && { revision: w.revision }),
  }));
}

/** Newest first, then by meter and metric, so equal times list the same way every time. */
const newestFirst = <T extends { meter: string; metric: string }>(time: (x: T) => number) => (a: T, b: T): number =>
  time(b) - time(a) || a.meter.localeCompare(b.meter) || a.metric.localeCompare(b.metric);

export async function tenantQuality(store: TimeSeriesStore, park: Park, tenant: Tenant, range: QualityRange): Promise<TenantQuality> {
  const metrics = [...new Set(tenant.meters.flatMap((m) => m.metrics))].sort();
  const scope = { park: park.id, tenant: tenant.id };
  const hourWindows = (await Promise.all(metrics.map((metric) =>
    store.queryStoredAggregates({ scope, aggregateScope: 'meter', metric, window: '1h', from: range.from, to: range.to })))).flat();
  const streams = streamsOf(tenant, hourWindows);

  const incompleteHours: IncompleteHour[] = [];
  const judged = new Map<string, { hours: number; incomplete: number }>();
  for (const s of streams) {
    const h = hoursOf(s, range);
    incompleteHours.push(...h.incomplete);
    judged.set(streamKey(s.meter, s.metric), { hours: h.judged, incomplete: h.incomplete.length });
  }

  // The newest hours with events are looked up minute by minute; the rest stay at the hour.
  const eventHours = streams.flatMap((s) => s.hours.filter((w) => registerEventsOf(w).length > 0)).sort((a, b) => b.start - a.start);
  const registerEvents: RegisterEventRow[] = [];
  for (const [i, hour] of eventHours.entries()) {
    let rows: RegisterEventRow[] = [];
    if (i < minuteLookups && hour.meter !== undefined) {
      const minutes = await store.queryStoredAggregates({
        scope: { ...scope, meter: hour.meter }, aggregateScope: 'meter', metric: hour.metric, window: '1m', from: hour.start, to: hour.start + hourMs,
      });
      rows = minutes.flatMap((w) => eventRows(w, '1m'));
    }
    // No minute windows kept (or not looked up): the hour says it happened in it.
    registerEvents.push(...(rows.length > 0 ? rows : eventRows(hour, '1h')));
  }
  const eventCounts = new Map<string, number>();
  for (const e of registerEvents) eventCounts.set(streamKey(e.meter, e.metric), (eventCounts.get(streamKey(e.meter, e.metric)) ?? 0) + 1);

  incompleteHours.sort(newestFirst((h) => h.start));
  registerEvents.sort(newestFirst((e) => e.at));
  return {
    park: park.id, tenant: tenant.id, from: range.from, to: range.to, minCompleteness: range.minCompleteness,
    incompleteHours: incompleteHours.slice(0, range.limit),
    registerEvents: registerEvents.slice(0, range.limit),
    streams: streams.map((s) => {
      const key = streamKey(s.meter, s.metric);
      return { meter: s.meter, metric: s.metric, hours: judged.get(key)?.hours ?? 0, incomplete: judged.get(key)?.incomplete ?? 0, registerEvents: eventCounts.get(key) ?? 0 };
    }),
    truncated: incompleteHours.length > range.limit || registerEvents.length > range.limit,
  };
}
