/**
 * Running statistics over a span of one series (or of several, for roll-ups).
 * Summaries merge without their samples, which is what lets a 1-day window keep
 * a few numbers instead of a day of readings.
 */
import { eventBit } from './register.ts';
import { classifyStep, type RegisterProfile, type RegisterReading } from '../../../shared/domain/register.ts';
import { satAdd } from '../../../shared/saturating.ts';
import type { SampleRun } from './samples.ts';

export interface Summary {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Event time of `last`. */
  lastTs: number;
  last: number;
  /** Samples not simulated: a window is simulated when this is 0. */
  real: number;
  /** Cumulative metrics: register consumption attributed to the span. */
  consumption: number;
  /** Register events seen in the span, as bits (see register.ts). */
  events: number;
}

export interface Sample {
  value: number;
  simulated: boolean;
}

export function emptySummary(): Summary {
  return { count: 0, sum: 0, min: Infinity, max: -Infinity, lastTs: -Infinity, last: 0, real: 0, consumption: 0, events: 0 };
}

/**
 * Folds `next` into `acc`. Callers fold in a fixed order (start time, then meter
 * id) so floating-point sums come out the same on a replay; on equal `lastTs`
 * the later-folded span wins, which is the deterministic tie-break.
 */
export function mergeInto(acc: Summary, next: Summary): Summary {
  if (next.count === 0) return acc;
  acc.count += next.count;
  acc.sum = satAdd(acc.sum, next.sum);
  if (next.min < acc.min) acc.min = next.min;
  if (next.max > acc.max) acc.max = next.max;
  if (next.lastTs >= acc.lastTs) {
    acc.lastTs = next.lastTs;
    acc.last = next.last;
  }
  acc.real += next.real;
  acc.consumption = satAdd(acc.consumption, next.consumption);
  acc.events |= next.events;
  return acc;
}

/**
 * Summarises one window's samples (held in event-time order, whatever order
 * they arrived in). For a register, `prev` is the last reading before the window (or
 * undefined when none is known, so the first reading only sets the baseline);
 * the result's `lastReading` is the `prev` of the next window.
 */
export function summariseSamples(
  samples: SampleRun,
  register: { prev: RegisterReading | undefined; rating: RegisterProfile } | undefined,
): { summary: Summary; lastReading: RegisterReading | undefined } {
  const s = emptySummary();
  let prev = register?.prev;
  for (let i = 0; i < samples.size; i++) {
    const ts = samples.timeAt(i);
    const v = samples.valueAt(i);
    s.count += 1;
    s.sum = satAdd(s.sum, v);
    if (v < s.min) s.min = v;
    if (v > s.max) s.max = v;
    s.lastTs = ts;
    s.last = v;
    if (!samples.simulatedAt(i)) s.real += 1;
    if (register) {
      const cur = { ts, value: v };
      if (prev) {
        const step = classifyStep(prev, cur, register.rating);
        s.consumption = satAdd(s.consumption, step.consumed);
        if (step.event) s.events |= eventBit(step.event);
      }
      prev = cur;
    }
  }
  return { summary: s, lastReading: prev };
}

/** [count, sum, min, max, lastTs, last, real, consumption, events]: compact in a checkpoint. */
export type SummaryState = [number, number, number, number, number, number, number, number, number];

export function encodeSummary(s: Summary): SummaryState {
  return [s.count, s.sum, s.min, s.max, s.lastTs, s.last, s.real, s.consumption, s.events];
}

export function decodeSummary(t: SummaryState): Summary {
  const [count, sum, min, max, lastTs, last, real, consumption, events] = t;
  return { count, sum, min, max, lastTs, last, real, consumption, events };
}
