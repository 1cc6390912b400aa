/**
 * Register events as a bit set, the form a window's summary and checkpoint keep
 * them in. What a register step is (and which event it raises) is decided in
 * shared/domain/register.ts, shared with the rules.
 */
import type { RegisterEvent } from '../../../shared/domain/register.ts';

const eventBits: Record<RegisterEvent, number> = { rollover: 1, reset: 2, swap: 4, 'declared-swap': 8, 'declared-reset': 16 };
const eventOrder: readonly RegisterEvent[] = ['rollover', 'reset', 'swap', 'declared-swap', 'declared-reset'];

/** Register events as a bit set: unions are an OR, and the snapshot stays a number. */
export function eventBit(event: RegisterEvent): number {
  return eventBits[event];
}

export function eventsFromBits(bits: number): RegisterEvent[] {
  return eventOrder.filter((e) => (bits & eventBits[e]) !== 0);
}
