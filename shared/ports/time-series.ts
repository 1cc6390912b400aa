import type { AggregateScope, WindowSize } from '../contracts/events.ts';

/**
 * The time-series port: raw readings, downsampled aggregates and alert history,
 * written in batches and queried by meter, tenant or park. InfluxDB in production,
 * SQLite in the embedded mode.
 */

export interface ReadingPoint {
  park: string;
  tenant: string;
  meter: string;
  metric: string;
  unit: string;
  value: number;
  /** Epoch ms; stored with millisecond precision. */
  ts: number;
  simulated?: boolean;
}

export interface AggregatePoint {
  scope: AggregateScope;
  park: string;
  tenant?: string | undefined;
  meter?: string | undefined;
  metric: string;
  unit: string;
  window: WindowSize;
  /** Window start, epoch ms: the point's time. */
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  last: number;
  consumption?: number | undefined;
  completeness?: number | undefined;
  /** Samples expected from the meter's cadence (meter windows). */
  expected?: number | undefined;
  /** Event time of `last`, epoch ms. */
  lastAt?: number | undefined;
  /** The window's revision (0 first, +1 per revision by late data): a store keeps the latest. */
  revision?: number | undefined;
  /** Register events in the window (rollover, reset, swap), when any. */
  registerEvents?: string[] | undefined;
  simulated?: boolean;
}

export interface AlertEventPoint {
  fingerprint: string;
  ruleId: string;
  state: string;
  severity: string;
  park: string;
  tenant?: string | undefined;
  meter?: string | undefined;
  metric?: string | undefined;
  summary: string;
  /** The value that caused the transition, if any. */
  value?: number | undefined;
  at: number;
  simulated?: boolean;
  /** The transition's number per fingerprint (a replay carries the same one). */
  transition?: number | undefined;
  /** Who acknowledged or resolved it by hand (the operator's name); absent for the rules' own transitions. An empty string is stored as absent. */
  by?: string | undefined;
  /** Provenance: the threshold judged against, the window judged, and the rule's note. */
  threshold?: number | undefined;
  windowStart?: number | undefined;
  windowEnd?: number | undefined;
  detail?: string | undefined;
}

/** Which series: a park, one tenant of it, or one meter of a tenant. */
export interface SeriesScope {
  park: string;
  tenant?: string;
  meter?: string;
}

export interface RangeQuery {
  scope: SeriesScope;
  metric?: string;
  /** Inclusive start, epoch ms. */
  from: number;
  /** Exclusive end, epoch ms. */
  to: number;
  limit?: number;
}

export type AggregateFn = 'count' | 'sum' | 'mean' | 'min' | 'max' | 'last';

export interface AggregateQuery {
  scope: SeriesScope;
  metric: string;
  from: number;
  to: number;
  fn: AggregateFn;
  /** Bucket width in ms; buckets are aligned to the epoch. Absent: one value for the whole range. */
  everyMs?: number;
}

export interface AggregateBucket {
  /** Bucket start, epoch ms. */
  ts: number;
  value: number;
}

export interface StoredAggregateQuery {
  scope: SeriesScope;
  aggregateScope: AggregateScope;
  metric: string;
  window: WindowSize;
  from: number;
  to: number;
}

export interface TimeSeriesStore {
  /**
   * Resolves only once the points are stored (InfluxDB answered 2xx, SQLite
   * committed); rejects with an EipError saying whether a retry can help.
   * Writing the same point twice (same series and time) keeps one point.
   */
  writeReadings(points: readonly ReadingPoint[]): Promise<void>;
  writeAggregates(points: readonly AggregatePoint[]): Promise<void>;
  writeAlertEvents(events: readonly AlertEventPoint[]): Promise<void>;
  /** Raw readings in [from, to), oldest first. */
  queryReadings(query: RangeQuery): Promise<ReadingPoint[]>;
  /** An aggregate of raw readings over a range, optionally in buckets, oldest first. */
  queryAggregate(query: AggregateQuery): Promise<AggregateBucket[]>;
  /** Stored window aggregates, oldest first. */
  queryStoredAggregates(query: StoredAggregateQuery): Promise<AggregatePoint[]>;
  queryAlertEvents(query: RangeQuery): Promise<AlertEventPoint[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
