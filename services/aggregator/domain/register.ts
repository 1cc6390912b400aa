/**
 * Consumption from a cumulative register: the difference between consecutive
 * readings (in event-time order), with rollover, reset and meter swap detected
 * instead of summed blindly: real registers roll over, reset and get swapped.
 */
import type { AggregateEvent } from '../../../shared/contracts/events.ts';
import { satAdd, satDiv, satMul, satSub } from '../../../shared/saturating.ts';

export type RegisterEvent = AggregateEvent['registerEvents'][number];

/** The meter's rating for one metric, as in the park registry. */
export interface RegisterRating {
  maxStepPerHour?: number;
  rolloverAt?: number;
}

export interface RegisterReading {
  ts: number;
  value: number;
}

export interface RegisterStep {
  consumed: number;
  event?: RegisterEvent;
}

/**
 * Without a maxStepPerHour rating, a fall to at most this share of the previous
 * value reads as a reset ("to near zero"); a fall to anything higher is a swap.
 */
export const resetShareWithoutRating = 0.01;

/** What was consumed between two readings of one register, `prev` strictly before `cur`. */
export function registerStep(prev: RegisterReading, cur: RegisterReading, rating: RegisterRating): RegisterStep {
  // The plausible increase grows with the time between readings (a gap is not a jump).
  const maxStep = rating.maxStepPerHour === undefined ? Infinity : satDiv(satMul(rating.maxStepPerHour, cur.ts - prev.ts), 3_600_000);
  // Saturating: two finite readings 1e308 apart still give a finite step.
  const rise = satSub(cur.value, prev.value);
  if (rise >= 0) return rise <= maxStep ? { consumed: rise } : { consumed: 0, event: 'swap' };

  if (rating.rolloverAt !== undefined) {
    const wrapped = satAdd(satSub(rating.rolloverAt, prev.value), cur.value);
    // A counter that fell from its lower half cannot have wrapped: without a step rating, half the span is the bound.
    const plausible = rating.maxStepPerHour === undefined ? wrapped < rating.rolloverAt / 2 : wrapped <= maxStep;
    if (wrapped >= 0 && plausible) return { consumed: wrapped, event: 'rollover' };
  }
  // A reset starts again from zero, so the new value is what was counted since.
  const resetCeiling = rating.maxStepPerHour === undefined ? prev.value * resetShareWithoutRating : maxStep;
  if (cur.value <= resetCeiling) return { consumed: Math.max(cur.value, 0), event: 'reset' };
  return { consumed: 0, event: 'swap' };
}

const eventBits: Record<RegisterEvent, number> = { rollover: 1, reset: 2, swap: 4 };
const eventOrder: readonly RegisterEvent[] = ['rollover', 'reset', 'swap'];

/** Register events as a bit set: unions are an OR, and the snapshot stays a number. */
export function eventBit(event: RegisterEvent): number {
  return eventBits[event];
}

export function eventsFromBits(bits: number): RegisterEvent[] {
  return eventOrder.filter((e) => (bits & eventBits[e]) !== 0);
}
