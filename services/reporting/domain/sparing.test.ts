import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '../../../shared/contracts/events.ts';
import { roundTo } from './rounding.ts';
import { addReadings, hourOf, recordsOf, slotOf, slotsFromRecords, sparingPayload, type SlotMap } from './sparing.ts';
import { sparingPayloadSchema } from './bodies.ts';

const hour = Date.UTC(2026, 10, 27, 2);
const r = (metric: string, value: number, ts: number, unit = 'mg/L'): Reading => ({ metric, unit, value, ts });

it('aligns event times to 2-minute slots (epoch seconds) and clock hours', () => {
  assert.equal(slotOf(hour), hour / 1000);
  assert.equal(slotOf(hour + 119_999), hour / 1000);
  assert.equal(slotOf(hour + 120_000), hour / 1000 + 120);
  assert.equal(hourOf(hour + 3_599_999), hour);
  assert.equal(hourOf(hour + 3_600_000), hour + 3_600_000);
});

it('rounds half up on the decimal value, not its binary neighbour', () => {
  assert.equal(roundTo(1.005, 2), 1.01);
  assert.equal(roundTo(40.005, 2), 40.01);
  assert.equal(roundTo(12.345678, 4), 12.3457);
  assert.equal(roundTo(-0.001, 2), 0);
  assert.equal(roundTo(1e-7, 2), 0);
  assert.equal(roundTo(2e20, 2), 2e20);
});

it('builds one record per slot with what arrived, nulls for what did not, and never fills a missing slot', () => {
  const slots: SlotMap = new Map();
  const t0 = hour + 10_000;
  assert.equal(addReadings(slots, [r('ph', 7.123, t0, 'pH'), r('cod', 40.004, t0), r('tss', 20, t0), r('nh3n', 1.2, t0), r('water_flow', 36, t0, 'm3/h')], 'm3/s'), true);
  // Slot 1 missing entirely; slot 2 without COD.
  assert.equal(addReadings(slots, [r('ph', 7, hour + 240_000, 'pH'), r('tss', 21, hour + 240_000), r('unknown', 1, hour + 240_000)], 'm3/h'), true);
  const records = recordsOf(slots);
  assert.deepEqual(records, [
    { datetime: hour / 1000, pH: 7.12, cod: 40, tss: 20, nh3n: 1.2, debit: 0.01 },
    { datetime: hour / 1000 + 240, pH: 7, cod: null, tss: 21, nh3n: null, debit: null },
  ]);
  const payload = sparingPayload('S-1', slots, { start: hour / 1000, end: hour / 1000 + 3600, revision: 0 });
  assert.equal(sparingPayloadSchema.safeParse(payload).success, true);
  assert.equal(payload.period?.expected, 30);
});

it('keeps the newest value of a slot, and a replay changes nothing', () => {
  const slots: SlotMap = new Map();
  addReadings(slots, [r('cod', 40, hour + 10_000)], 'm3/h');
  assert.equal(addReadings(slots, [r('cod', 40, hour + 10_000)], 'm3/h'), false, 'replayed');
  assert.equal(addReadings(slots, [r('cod', 99, hour + 5_000)], 'm3/h'), false, 'older than what is held');
  assert.equal(addReadings(slots, [r('cod', 41, hour + 60_000)], 'm3/h'), true, 'newer in the same slot');
  assert.equal(recordsOf(slots)[0]!.cod, 41);
});

it('reads a stored batch back to the same records', () => {
  const slots: SlotMap = new Map();
  for (let i = 0; i < 30; i++) addReadings(slots, [r('ph', 7 + i / 100, hour + i * 120_000, 'pH'), r('cod', 30, hour + i * 120_000)], 'm3/h');
  const records = recordsOf(slots);
  assert.equal(records.length, 30);
  assert.deepEqual(recordsOf(slotsFromRecords(records)), records);
});

it('the batch schema refuses more than 30 records, unaligned or unordered ones', () => {
  const rec = (datetime: number) => ({ datetime, pH: 7, cod: 1, tss: 1, nh3n: 1, debit: 1 });
  assert.equal(sparingPayloadSchema.safeParse({ uid: 'S', data: Array.from({ length: 31 }, (_, i) => rec(i * 120)) }).success, false);
  assert.equal(sparingPayloadSchema.safeParse({ uid: 'S', data: [rec(121)] }).success, false);
  assert.equal(sparingPayloadSchema.safeParse({ uid: 'S', data: [rec(240), rec(120)] }).success, false);
  assert.equal(sparingPayloadSchema.safeParse({ uid: 'S', data: [] }).success, false);
});
