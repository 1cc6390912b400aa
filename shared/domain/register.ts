/**
 * What a cumulative register's step between two consecutive readings means: the
 * one classification the aggregator books consumption with and the rules judge
 * register integrity with, so an alert and a total never disagree.
 *
 * A step (prev -> cur, prev strictly before cur in event time) is:
 * - `count`: a rise within the plausible step (any rise when the meter has no
 *   `maxStepPerHour` rating): consumed as is;
 * - `jump`: a rise beyond the rated step: nothing consumed, event `swap`;
 * - `rollover`: a fall the register's rating allows as a wrap: consumed
 *   `rolloverAt - prev + cur`, event `rollover`, no alert;
 * - `reset` / `swap`: any other fall: nothing consumed, `cur` is the new
 *   baseline, event `reset` (the new value is within what could be counted since
 *   a restart from zero) or `swap` (an unrelated value, or a negative one);
 * - `declared`: a registered swap or reset (the registry's `registerChanges`)
 *   lies between the two readings: prev -> oldFinal and newInitial -> cur are
 *   booked, each judged as above, nothing else; event `declared-swap` or
 *   `declared-reset`, or the segment's own event when a segment is implausible.
 *
 * A fall is a rollover only when all of these hold:
 * - the rating has `rolloverAt` (a register without one never wraps);
 * - 0 <= cur and prev <= rolloverAt (a negative register or one above its range
 *   is not a wrap);
 * - prev was near the top: in the register's top tenth (`nearTopShare`) and
 *   within the plausible step of the top (implied by the next rule);
 * - the wrapped amount is plausible for the elapsed time: at most the wrap rate
 *   (`wrapRatePerHour`, see registerProfile) times the elapsed time, the elapsed
 *   time counted as at least one cadence. A long gap widens the plausible
 *   amount, not what "near the top" means.
 */
import type { AggregateEvent } from '../contracts/events.ts';
import { metricCatalogue, type MetricName } from '../contracts/metric-catalogue.ts';
import type { Meter } from '../contracts/park-registry.ts';
import { satAdd, satDiv, satMul, satSub } from '../saturating.ts';

export type RegisterEvent = AggregateEvent['registerEvents'][number];

export interface RegisterReading {
  ts: number;
  value: number;
}

/** A declared change, at epoch ms. */
export interface DeclaredChange {
  at: number;
  kind: 'swap' | 'reset';
  oldFinal: number;
  newInitial: number;
  reference: string;
}

/** Where the plausible wrap rate came from. */
export type WrapRateSource = 'rating' | 'contracted-kw' | 'register-size' | 'none';

/** Everything the classification needs about one meter's register. */
export interface RegisterProfile {
  /** Rated largest increase per hour: bounds rises (jumps) and wraps. */
  maxStepPerHour?: number;
  rolloverAt?: number;
  /** Largest plausible amount per hour when judging a wrap (Infinity: no rate known, so only a rated rise is bounded). */
  wrapRatePerHour: number;
  wrapRateSource: WrapRateSource;
  /** The meter's cadence: the elapsed time of a step counts as at least this. */
  cadenceMs: number;
  /** Declared swaps and resets, in time order. */
  changes: readonly DeclaredChange[];
}

export type StepKind = 'count' | 'jump' | 'rollover' | 'reset' | 'swap' | 'declared';

export interface RegisterStep {
  consumed: number;
  kind: StepKind;
  event?: RegisterEvent;
  /** The register change not booked as consumption (jump, reset, swap); 0 otherwise. */
  refused: number;
  /** The plausible amount the step was judged against (Infinity when unbounded). */
  bound: number;
  /** The declaration crossed, for `declared` steps (and implausible segments of one). */
  change?: DeclaredChange;
}

const HOUR = 3_600_000;
/** "Near the top": the previous value lies in the register's top tenth. */
export const nearTopShare = 0.1;
/** Electricity: a supply runs above its contracted capacity only briefly; half again covers overloads and a power factor down to 0.67 for kVArh. */
export const contractedKwHeadroom = 1.5;
/** Without a rate, a register is taken to need at least this long to pass its whole range (registers are sized to wrap rarely). */
export const minHoursPerWrap = 100;
/** Without any rate, a fall to at most this share of the previous value reads as a reset ("to near zero"), higher as a swap. */
export const resetShareWithoutRate = 0.01;

/**
 * The register profile of one meter's metric, from the park registry:
 * - the wrap rate is the rating's `maxStepPerHour`; else, for an electricity
 *   meter's kWh or kVArh register with `contractedKw`, contractedKw x 1.5 per
 *   hour; else, with `rolloverAt`, rolloverAt / 100 per hour (a whole range in
 *   no less than 100 hours); else none (no rollover is possible anyway);
 * - the cadence is the meter's.
 */
export function registerProfile(meter: Meter, metric: MetricName): RegisterProfile {
  const rating = meter.ratings?.[metric] ?? {};
  const unit: string = metricCatalogue[metric].unit;
  let wrapRatePerHour = Infinity;
  let wrapRateSource: WrapRateSource = 'none';
  if (rating.maxStepPerHour !== undefined) [wrapRatePerHour, wrapRateSource] = [rating.maxStepPerHour, 'rating'];
  else if (meter.kind === 'electricity' && meter.contractedKw !== undefined && (unit === 'kWh' || unit === 'kVArh')) [wrapRatePerHour, wrapRateSource] = [meter.contractedKw * contractedKwHeadroom, 'contracted-kw'];
  else if (rating.rolloverAt !== undefined) [wrapRatePerHour, wrapRateSource] = [rating.rolloverAt / minHoursPerWrap, 'register-size'];
  const changes = (meter.registerChanges ?? [])
    .filter((c) => c.metric === metric)
    .map((c) => ({ at: Date.parse(c.at), kind: c.kind, oldFinal: c.oldFinal, newInitial: c.newInitial, reference: c.reference }))
    .sort((a, b) => a.at - b.at);
  const profile: RegisterProfile = { wrapRatePerHour, wrapRateSource, cadenceMs: meter.cadenceSeconds * 1000, changes };
  if (rating.maxStepPerHour !== undefined) profile.maxStepPerHour = rating.maxStepPerHour;
  if (rating.rolloverAt !== undefined) profile.rolloverAt = rating.rolloverAt;
  return profile;
}

/** A profile from a rating alone (tests, tools): no declarations, a 1-minute cadence unless given. */
export function profileOf(rating: { maxStepPerHour?: number; rolloverAt?: number }, over: Partial<RegisterProfile> = {}): RegisterProfile {
  const rated = rating.maxStepPerHour;
  const wrap = rated !== undefined ? { wrapRatePerHour: rated, wrapRateSource: 'rating' as const }
    : rating.rolloverAt !== undefined ? { wrapRatePerHour: rating.rolloverAt / minHoursPerWrap, wrapRateSource: 'register-size' as const }
      : { wrapRatePerHour: Infinity, wrapRateSource: 'none' as const };
  return { ...rating, ...wrap, cadenceMs: 60_000, changes: [], ...over };
}

const perElapsed = (ratePerHour: number, elapsedMs: number): number => (ratePerHour === Infinity ? Infinity : satDiv(satMul(ratePerHour, elapsedMs), HOUR));

/** One step without declarations. */
function plainStep(prev: RegisterReading, cur: RegisterReading, p: RegisterProfile): RegisterStep {
  const elapsed = Math.max(cur.ts - prev.ts, p.cadenceMs);
  // Saturating: two finite readings 1e308 apart still give a finite step.
  const rise = satSub(cur.value, prev.value);
  if (rise >= 0) {
    const maxRise = p.maxStepPerHour === undefined ? Infinity : perElapsed(p.maxStepPerHour, elapsed);
    return rise <= maxRise ? { consumed: rise, kind: 'count', refused: 0, bound: maxRise } : { consumed: 0, kind: 'jump', event: 'swap', refused: rise, bound: maxRise };
  }
  const wrapStep = perElapsed(p.wrapRatePerHour, elapsed);
  const top = p.rolloverAt;
  if (top !== undefined && cur.value >= 0 && prev.value <= top && prev.value >= top * (1 - nearTopShare)) {
    const wrapped = satAdd(satSub(top, prev.value), cur.value);
    if (wrapped <= wrapStep) return { consumed: wrapped, kind: 'rollover', event: 'rollover', refused: 0, bound: wrapStep };
  }
  const fell = satSub(prev.value, cur.value);
  // A reset restarts from zero, so the new value is at most what could be counted since; with no rate, "near zero".
  const resetCeiling = Number.isFinite(wrapStep) ? wrapStep : satMul(Math.abs(prev.value), resetShareWithoutRate);
  const kind = cur.value >= 0 && cur.value <= resetCeiling ? 'reset' : 'swap';
  return { consumed: 0, kind, event: kind, refused: fell, bound: wrapStep };
}

/** What was consumed between two readings of one register, and what the step was. */
export function classifyStep(prev: RegisterReading, cur: RegisterReading, p: RegisterProfile): RegisterStep {
  let first = 0;
  while (first < p.changes.length && p.changes[first]!.at <= prev.ts) first++;
  if (first >= p.changes.length || p.changes[first]!.at > cur.ts) return plainStep(prev, cur, p);
  // A reading at or after `at` is the new register's: prev -> oldFinal, newInitial -> ... -> cur.
  const points: Array<[RegisterReading, RegisterReading, DeclaredChange]> = [];
  let from = prev;
  let last = p.changes[first]!;
  for (let i = first; i < p.changes.length && p.changes[i]!.at <= cur.ts; i++) {
    last = p.changes[i]!;
    points.push([from, { ts: last.at, value: last.oldFinal }, last]);
    from = { ts: last.at, value: last.newInitial };
  }
  points.push([from, cur, last]);
  let consumed = 0;
  let implausible: RegisterStep | undefined;
  for (const [a, b, change] of points) {
    const s = plainStep(a, b, p);
    consumed = satAdd(consumed, s.consumed);
    if (!implausible && s.kind !== 'count' && s.kind !== 'rollover') implausible = { ...s, change };
  }
  if (implausible) return { ...implausible, consumed };
  return { consumed, kind: 'declared', event: last.kind === 'swap' ? 'declared-swap' : 'declared-reset', refused: 0, bound: Infinity, change: last };
}
