/**
 * SPARING records from the wastewater outlet's readings: one record per
 * 2-minute slot, `{datetime, pH, cod, tss, nh3n, debit}`, values with 2
 * decimals (debit 4). A slot the logger sent nothing for has no record; a
 * parameter it did not send in a slot is null. Nothing is filled in.
 */
import type { Reading } from '../../../shared/contracts/events.ts';
import { roundTo } from './rounding.ts';
import type { SparingPayload, SparingRecord } from './bodies.ts';

export const slotMs = 120_000;
export const hourMs = 3_600_000;
/** Slots in an hour: what an hour's completeness is counted against. */
export const slotsPerHour = hourMs / slotMs;

export type SparingField = 'pH' | 'cod' | 'tss' | 'nh3n' | 'debit';
export const sparingFields: readonly SparingField[] = ['pH', 'cod', 'tss', 'nh3n', 'debit'];

/** The catalogue metric behind each field (canonical units: pH, mg/L, m3/h). */
export const fieldOfMetric: Readonly<Record<string, SparingField>> = { ph: 'pH', cod: 'cod', tss: 'tss', nh3n: 'nh3n', water_flow: 'debit' };

/** debit in the unit the receiver expects, from the canonical m3/h. */
export const debitUnits = { 'm3/h': 1, 'm3/min': 1 / 60, 'm3/s': 1 / 3600, 'L/s': 1000 / 3600 } as const;
export type DebitUnit = keyof typeof debitUnits;

/** The slot a reading belongs to, epoch seconds (a multiple of 120). */
export function slotOf(tsMs: number): number {
  return Math.floor(tsMs / slotMs) * (slotMs / 1000);
}

export function hourOf(tsMs: number): number {
  return Math.floor(tsMs / hourMs) * hourMs;
}

export function roundField(field: SparingField, value: number): number {
  return roundTo(value, field === 'debit' ? 4 : 2);
}

/** One slot as it is built: each field's value with the event time it came from (the newest wins). */
export interface SlotState {
  datetime: number;
  values: Partial<Record<SparingField, { value: number; ts: number }>>;
}

/** The slots of one period (an hour, or a single 2-minute slot), by datetime. */
export type SlotMap = Map<number, SlotState>;

/**
 * Adds readings to the period's slots; returns whether any record changed.
 * A replayed reading (same slot, same time, same value) changes nothing, so a
 * redelivered batch never makes a revision.
 */
export function addReadings(slots: SlotMap, readings: readonly Reading[], debitUnit: DebitUnit): boolean {
  let changed = false;
  for (const r of readings) {
    const field = fieldOfMetric[r.metric];
    if (field === undefined) continue;
    const datetime = slotOf(r.ts);
    const value = roundField(field, field === 'debit' ? r.value * debitUnits[debitUnit] : r.value);
    let slot = slots.get(datetime);
    if (!slot) {
      slot = { datetime, values: {} };
      slots.set(datetime, slot);
    }
    const prev = slot.values[field];
    if (prev !== undefined && (prev.ts > r.ts || (prev.ts === r.ts && prev.value === value))) continue;
    if (prev === undefined || prev.value !== value) changed = true;
    slot.values[field] = { value, ts: r.ts };
  }
  return changed;
}

export function recordOf(slot: SlotState): SparingRecord {
  const v = (f: SparingField): number | null => slot.values[f]?.value ?? null;
  return { datetime: slot.datetime, pH: v('pH'), cod: v('cod'), tss: v('tss'), nh3n: v('nh3n'), debit: v('debit') };
}

/** The records of a period, in time order: only the slots that exist. */
export function recordsOf(slots: SlotMap): SparingRecord[] {
  return [...slots.values()].sort((a, b) => a.datetime - b.datetime).map(recordOf);
}

/** Slots back from a stored body (a restart): each value as if read at its slot's start. */
export function slotsFromRecords(records: readonly SparingRecord[]): SlotMap {
  const slots: SlotMap = new Map();
  for (const r of records) {
    const values: SlotState['values'] = {};
    for (const f of sparingFields) {
      const value = r[f];
      if (value !== null) values[f] = { value, ts: r.datetime * 1000 };
    }
    slots.set(r.datetime, { datetime: r.datetime, values });
  }
  return slots;
}

export function sparingPayload(uid: string, slots: SlotMap, period: { start: number; end: number; revision: number }): SparingPayload {
  // The period in epoch seconds, like the records.
  return { uid, data: recordsOf(slots), period: { ...period, expected: Math.max(1, Math.round(((period.end - period.start) * 1000) / slotMs)) } };
}
