/** Tumbling event-time windows aligned to the Unix epoch (so to UTC midnight for 1 d). */
import { windowMs, type AggregateScope, type WindowSize } from '../../../shared/contracts/events.ts';

export function windowStart(ts: number, size: WindowSize): number {
  const ms = windowMs[size];
  return Math.floor(ts / ms) * ms;
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
