/**
 * Tumbling event-time windows. 1 min and 15 min windows are aligned to the Unix
 * epoch; 1 h and 1 d windows to the park's local clock (its clock hour and its
 * day), since permits and SISPEK judge those. Every zone offset in use is a
 * multiple of 15 minutes, so the local windows are whole 15-minute windows and
 * the sizes nest. A DST day lasts 23 or 25 hours, and the hour a clock falls
 * back repeats: each repeated hour is a window of its own.
 */
import { windowMs, type AggregateScope, type WindowSize } from '../../../shared/contracts/events.ts';
import { zoneOffsetMs } from '../../../shared/time-zones.ts';

const QUARTER = windowMs['15m'];

export interface WindowBounds {
  start: number;
  end: number;
}

const floorTo = (t: number, ms: number): number => Math.floor(t / ms) * ms;
const ceilTo = (t: number, ms: number): number => Math.ceil(t / ms) * ms;
const isUtc = (zone: string): boolean => zone === 'UTC' || zone === 'Etc/UTC';

/**
 * The exact local window containing t: a day is the instants of one local date;
 * an hour the instants of one local date and hour under one offset. Offset
 * changes are found by bisection (an offset is whole seconds, so 1 s precision).
 */
function localBounds(t: number, size: '1h' | '1d', zone: string): WindowBounds {
  const S = windowMs[size];
  const off = zoneOffsetMs(zone, t);
  const k = Math.floor((t + off) / S);
  /** The first instant in (a, b] whose offset is `want`, given a's is not. */
  const change = (a: number, b: number, want: number): number => {
    let lo = a;
    let hi = b;
    while (hi - lo > 1000) {
      const mid = floorTo(lo + (hi - lo) / 2, 1000);
      if (mid <= lo) break;
      if (zoneOffsetMs(zone, mid) === want) hi = mid;
      else lo = mid;
    }
    return hi;
  };
  let start = k * S - off;
  const offStart = zoneOffsetMs(zone, start);
  if (offStart !== off) {
    const tau = change(start, t, off);
    const before = zoneOffsetMs(zone, tau - 1000);
    // A day runs on across an offset change; an hour starts at it.
    start = size === '1d' && Math.floor((tau - 1000 + before) / S) === k ? k * S - before : tau;
  }
  let end = (k + 1) * S - off;
  const offEnd = zoneOffsetMs(zone, end - 1000);
  if (offEnd !== off) {
    // The offset changes inside (t, end): the window ends there, or (a day) where the new offset says.
    const tau = change(t, end - 1000, offEnd);
    end = size === '1d' && Math.floor((tau + offEnd) / S) === k ? (k + 1) * S - offEnd : tau;
  }
  return { start, end };
}

/** The last window per size and zone, and every quarter hour of the windows computed (offsets cost tens of microseconds). */
const last = new Map<string, WindowBounds>();
const byQuarter = new Map<string, WindowBounds>();
const MAX_QUARTERS = 20_000;

/**
 * [start, end) of the window of this size containing t, in the park's zone.
 * Deterministic: every t of a window gives the same bounds. The local bounds
 * are rounded up to the 15-minute grid (a no-op for every zone since 1972), so
 * a 1 h or 1 d window is always a whole number of 1 and 15 minute windows.
 * Throws a RangeError for a zone the runtime does not know.
 */
export function windowBounds(t: number, size: WindowSize, zone: string): WindowBounds {
  if (size === '1m' || size === '15m' || isUtc(zone)) {
    const ms = windowMs[size];
    const start = floorTo(t, ms);
    return { start, end: start + ms };
  }
  const key = `${size}|${zone}`;
  const hit = last.get(key);
  if (hit && t >= hit.start && t < hit.end) return hit;
  const q = floorTo(t, QUARTER);
  let b = byQuarter.get(`${key}|${q}`);
  if (!b) {
    const exact = localBounds(q, size, zone);
    // Event times start at the epoch: the first local day of a zone east of UTC is cut there.
    b = { start: Math.max(0, ceilTo(exact.start, QUARTER)), end: ceilTo(exact.end, QUARTER) };
    if (byQuarter.size > MAX_QUARTERS) byQuarter.clear();
    for (let x = b.start; x < b.end; x += QUARTER) byQuarter.set(`${key}|${x}`, b);
  }
  last.set(key, b);
  return b;
}

export function windowStart(ts: number, size: WindowSize, zone = 'UTC'): number {
  return windowBounds(ts, size, zone).start;
}

/** A RangeError naming the zone when the runtime cannot compute its offsets. */
export function assertZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new RangeError(`time zone "${zone}" is not one the runtime knows (an IANA name such as Asia/Jakarta)`);
  }
}

/** The same window always gets the same id, so a replay's re-emissions dedupe downstream. */
export function windowIdOf(scope: AggregateScope, scopeId: string, metric: string, size: WindowSize, start: number): string {
  return `${scope}:${scopeId}:${metric}:${size}:${start}`;
}

/**
 * Bounded out-of-orderness: a reading up to `outOfOrdernessMs` behind the newest
 * one still lands in an open window (a window closes when end <= watermark).
 */
export function watermarkFrom(maxEventTime: number, outOfOrdernessMs: number): number {
  if (!(outOfOrdernessMs >= 0) || !Number.isFinite(outOfOrdernessMs)) {
    throw new RangeError(`outOfOrdernessMs must be a finite number >= 0, got ${outOfOrdernessMs}`);
  }
  return maxEventTime - outOfOrdernessMs;
}
