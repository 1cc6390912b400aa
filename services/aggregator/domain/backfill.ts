/**
 * What the window aggregator asks of the time-series store when readings
 * arrive for windows it already forgot, and what it takes back. Plain data:
 * the runtime does the reading (aggregator.ts), the aggregator the arithmetic.
 */
import type { AggregateEvent, WindowSize } from '../../../shared/contracts/events.ts';
import { contentHash } from './revisions.ts';

export interface BackfillReading {
  ts: number;
  value: number;
  simulated: boolean;
}

/** One series' span to recompute: [from, to), aligned to the largest window size. */
export interface BackfillRequest {
  /** The series: `<meter>/<metric>`. */
  key: string;
  park: string;
  tenant: string;
  meter: string;
  metric: string;
  /** A register: the runtime adds the baseline before `from` and extends `to` to the next stored reading's largest window. */
  cumulative: boolean;
  from: number;
  to: number;
  /** What the series forgot: `to` never goes past it. */
  limit: number;
  /** The late readings themselves (already in the store; merged in case a read does not see them yet). */
  readings: BackfillReading[];
  /** The window sizes to read stored aggregates of. */
  sizes: WindowSize[];
  /** The park's time zone, which aligns its hours and days (windows.ts). */
  zone: string;
}

/** A stored meter window: its revision and content fingerprint (contentHash). */
export interface StoredWindow {
  window: WindowSize;
  start: number;
  revision: number;
  hash: number;
}

export interface BackfillData {
  key: string;
  from: number;
  /** Possibly extended by the runtime (registers), never past the request's limit. */
  to: number;
  /** The store's readings of the series in [from, to), any order. */
  readings: readonly BackfillReading[];
  /** The request's late readings. */
  late: readonly BackfillReading[];
  /** Registers: the last stored reading before `from`, if any within the store's retention. */
  before: { ts: number; value: number } | undefined;
  /** The stored meter windows of the series in [from, to), every size. */
  stored: readonly StoredWindow[];
}

type Stored = Pick<AggregateEvent, 'window' | 'start' | 'count' | 'sum' | 'min' | 'max' | 'last'> & {
  consumption?: number | undefined;
  completeness?: number | undefined;
  simulated?: boolean | undefined;
  revision?: number | undefined;
  registerEvents?: readonly string[] | undefined;
};

/** A stored aggregate point as the aggregator compares it with a recomputation. */
export function storedWindowOf(p: Stored): StoredWindow {
  const hash = contentHash({ ...p, registerEvents: p.registerEvents ?? [], simulated: p.simulated === true });
  return { window: p.window, start: p.start, revision: p.revision ?? 0, hash };
}
