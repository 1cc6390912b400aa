/**
 * The `register` rule kind: each reading of a cumulative register is judged
 * against the previous one with the classification the aggregator books
 * consumption with (shared/domain/register.ts) and the meter's register profile
 * (rating, default wrap rate, declared changes). A rollover the rating allows and
 * a declared swap or reset never breach; a step in `params.flag` (a jump beyond
 * the rating, a fall that is no plausible rollover) does. The judged value is the
 * register change the aggregator did not book: 0 for any other step, so the
 * alert clears on the next ordinary reading.
 */
import { classifyStep, type RegisterProfile, type RegisterStep } from '../../../../shared/domain/register.ts';
import type { Binding } from '../compile.ts';
import { formatDuration } from '../duration.ts';
import { fmt } from '../evaluate.ts';
import type { BufferOf } from '../state.ts';

export interface RegisterObservation {
  value: number;
  /** The previous reading: value and event time. */
  prev: number;
  since: number;
  detail: string;
}

/** The judged value of one reading, or undefined for the first one (it only sets the baseline). */
export function registerObservation(b: Binding, ts: number, v: number): RegisterObservation | undefined {
  const spec = b.rule.spec;
  const profile = b.register;
  if (spec.kind !== 'register' || !profile) return undefined;
  const prev = b.st.b as BufferOf<'register'> | undefined;
  if (prev && ts <= prev.t) return undefined;
  b.st.b = { t: ts, v };
  if (!prev) return undefined;
  const step = classifyStep({ ts: prev.t, value: prev.v }, { ts, value: v }, profile);
  const flagged = (spec.params.flag as readonly string[]).includes(step.kind);
  return { value: flagged ? step.refused : 0, prev: prev.v, since: prev.t, detail: describe(step, prev.v, v, ts - prev.t, profile) };
}

const rateNote = (p: RegisterProfile): string => (p.wrapRateSource === 'none' ? 'no rate known' : `${fmt(p.wrapRatePerHour)} per hour from ${p.wrapRateSource}`);

function describe(step: RegisterStep, from: number, to: number, elapsedMs: number, p: RegisterProfile): string {
  const move = `${fmt(from)} -> ${fmt(to)} in ${formatDuration(Math.max(1, elapsedMs))}`;
  const across = step.change ? ` across the declared ${step.change.kind} (${step.change.reference})` : '';
  switch (step.kind) {
    case 'count':
      return `register ${move}: ${fmt(step.consumed)} booked`;
    case 'rollover':
      return `rollover at ${fmt(p.rolloverAt ?? 0)}: ${move}, ${fmt(step.consumed)} booked`;
    case 'declared':
      return `declared ${step.change?.kind ?? 'change'} (${step.change?.reference ?? '?'}): ${move}, ${fmt(step.consumed)} booked`;
    case 'jump':
      return `jump${across}: ${move}, rise ${fmt(step.refused)} beyond the rated ${fmt(step.bound)}; not booked`;
    case 'reset':
    case 'swap': {
      const why = p.rolloverAt === undefined ? 'the register has no rolloverAt' : `a rollover needs the previous value in the top tenth of ${fmt(p.rolloverAt)} and a wrap within ${fmt(step.bound)} (${rateNote(p)})`;
      return `${step.kind}${across}: ${move}, not a rollover (${why}); fall of ${fmt(step.refused)} not booked, ${fmt(to)} is the new baseline`;
    }
  }
}
