/**
 * The rollover fault: a register with a smaller range than the simulated one,
 * as a 6-digit register wraps at 1000000. Reading the register modulo the range
 * from some time on would show a drop there that no meter makes; instead the
 * register has the range for the whole run, and its start value is chosen so
 * that it wraps at the entry's time. The start value comes from a replay of the
 * same meter (same seed, so the same increments) up to that tick.
 */
import { createMeterState, nextReadings, type MeterState } from './meter-state.ts';

export interface RolloverPlan {
  metric: string;
  modulus: number;
  /** The entry's time, relative to the run's start; the wrap falls on the first tick at or after it. */
  atMs: number;
}

/** Sets the register's range and start value so that it wraps halfway through the increase of the wrap tick. */
export function placeRollover(state: MeterState, seed: number, startMs: number, plan: RolloverPlan): void {
  const cadenceMs = state.entry.meter.cadenceSeconds * 1000;
  const wrapTick = startMs + Math.max(0, Math.ceil(plan.atMs / cadenceMs)) * cadenceMs;
  const replay = createMeterState(state.entry, seed);
  replay.wrapAt.delete(plan.metric);
  const registerOf = (s: MeterState): number => s.registers.get(plan.metric) ?? 0;
  const start = registerOf(replay);
  for (let t = startMs; t < wrapTick; t += cadenceMs) nextReadings(replay, t);
  const before = registerOf(replay);
  nextReadings(replay, wrapTick);
  const step = registerOf(replay) - before;
  // Counted from the start value, the register reads modulus - step/2 just before the wrap tick.
  const target = plan.modulus - step / 2 - (before - start);
  state.registers.set(plan.metric, ((target % plan.modulus) + plan.modulus) % plan.modulus);
  state.wrapAt.set(plan.metric, plan.modulus);
}
