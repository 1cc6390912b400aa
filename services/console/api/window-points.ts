/** A stored window as the API shows it beside its plotted value: counts, completeness, revision, register events. */
import { isIncomplete } from '../../../shared/contracts/completeness.ts';
import { registerEventSchema } from '../../../shared/contracts/events.ts';
import type { AggregatePoint } from '../../../shared/ports/time-series.ts';
import type { WindowPoint } from './schemas.ts';

type RegisterEvent = WindowPoint['registerEvents'][number];
const known = new Set<string>(registerEventSchema.options);

/** The stored events the contract knows, in stored order; anything else a store hands back is left out, not passed on. */
export function registerEventsOf(w: AggregatePoint): RegisterEvent[] {
  return (w.registerEvents ?? []).filter((e): e is RegisterEvent => known.has(e));
}

export function windowPointOf(w: AggregatePoint, value: number, minCompleteness: number): WindowPoint {
  return {
    start: w.start, value, count: w.count,
    ...(w.expected !== undefined && { expected: w.expected }),
    ...(w.completeness !== undefined && { completeness: w.completeness, incomplete: isIncomplete(w.completeness, minCompleteness) }),
    ...(w.revision !== undefined && { revision: w.revision }),
    registerEvents: registerEventsOf(w),
  };
}
