/** A meter's month as the aggregator books it when its register rolls over, falls mid-range, or is swapped by declaration. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AggregateEvent } from '../../../shared/contracts/events.ts';
import { parseParkRegistry, RegistryIndex, type Meter } from '../../../shared/contracts/park-registry.ts';
import { RollupCombiner, WindowAggregator } from './window-aggregator.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 2);

const registryWith = (meter: Partial<Meter>): RegistryIndex =>
  new RegistryIndex(parseParkRegistry({
    version: 1,
    parks: [{
      id: 'p1', name: 'Test park', country: 'ID', timezone: 'UTC', usedAreaHa: 10,
      emissionFactors: { grid: { kgCo2ePerKwh: 0.87, source: 'test' } },
      tenants: [{
        id: 't1', name: 'Tenant one', sector: 'test', supplySource: 'grid',
        meters: [{ id: 'm1', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import'], ...meter }],
      }],
    }],
  }));

/** The readings, a minute apart from T0, through the aggregator and the roll-up stage: every meter and tenant window. */
function book(registry: RegistryIndex, values: number[], at: (i: number) => number = (i) => T0 + i * MIN): AggregateEvent[] {
  const agg = new WindowAggregator({ registry, allowedLatenessMs: DAY });
  values.forEach((value, i) => agg.record({ v: 1, park: 'p1', tenant: 't1', meter: 'm1', seq: i, receivedAt: at(i), simulated: false, readings: [{ metric: 'active_energy_import', unit: 'kWh', value, ts: at(i) }] }));
  const watermark = T0 + 40 * DAY;
  const { events, partials } = agg.flush(watermark);
  const combiner = new RollupCombiner({ allowedLatenessMs: DAY, idleSourceMs: 1000 });
  combiner.add({ source: 0, sources: 1, watermark, partials }, watermark);
  return [...events, ...combiner.flush(watermark)];
}

/** The month to date: the sum of the tenant's day windows, as the console and the budget rules add them. */
function month(events: AggregateEvent[]): { kWh: number; events: string[] } {
  const days = events.filter((e) => e.scope === 'tenant' && e.window === '1d');
  return { kWh: days.reduce((s, e) => s + (e.consumption ?? 0), 0), events: [...new Set(days.flatMap((e) => e.registerEvents))] };
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);

describe('register booking: the month of a meter whose register misbehaves', () => {
  it('a rollover at rolloverAt 1e6 books 0.7 kWh and marks the window', () => {
    const m = month(book(registryWith({ ratings: { active_energy_import: { rolloverAt: 1_000_000 } } }), [999_999.7, 0.4]));
    close(m.kWh, 0.7);
    assert.deepEqual(m.events, ['rollover']);
  });
  it('a fall to zero mid-range books nothing for that step: 523410, 523411, 0.0, 0.5 is 1.5 kWh, not 476,591.5', () => {
    for (const meter of [{ ratings: { active_energy_import: { rolloverAt: 1_000_000 } } }, { contractedKw: 6000, ratings: { active_energy_import: { rolloverAt: 1_000_000 } } }, {}]) {
      const events = book(registryWith(meter), [523_410, 523_411, 0.0, 0.5]);
      const m = month(events);
      close(m.kWh, 1.5);
      assert.deepEqual(m.events, ['reset'], JSON.stringify(meter));
      const fall = events.find((e) => e.scope === 'meter' && e.window === '1m' && e.start === T0 + 2 * MIN);
      assert.deepEqual([fall?.consumption, fall?.registerEvents], [0, ['reset']], 'the fall\'s minute');
    }
  });
  it('the same fall after the meter was off for three days is still a reset', () => {
    const at = (i: number) => T0 + (i < 2 ? i * MIN : 3 * DAY + i * MIN);
    const m = month(book(registryWith({ contractedKw: 6000, ratings: { active_energy_import: { rolloverAt: 1_000_000 } } }), [523_410, 523_411, 0.0, 0.5], at));
    close(m.kWh, 1.5);
    assert.deepEqual(m.events, ['reset']);
  });
  it('a declared swap is booked exactly across it: prev -> oldFinal and newInitial -> next', () => {
    const swap = { at: new Date(T0 + 90_000).toISOString(), metric: 'active_energy_import' as const, kind: 'swap' as const, oldFinal: 523_411.6, newInitial: 0.2, reference: 'WO-2026-114' };
    const events = book(registryWith({ registerChanges: [swap] }), [523_410, 523_411, 0.5, 1.5]);
    const m = month(events);
    // 1 + (523411.6 - 523411) + (0.5 - 0.2) + 1
    close(m.kWh, 2.9);
    assert.deepEqual(m.events, ['declared-swap']);
  });
  it('a declared reset is booked exactly, and a later undeclared fall is still a reset', () => {
    const reset = { at: new Date(T0 + 2 * MIN).toISOString(), metric: 'active_energy_import' as const, kind: 'reset' as const, oldFinal: 5001, newInitial: 0, reference: 'protocol 7' };
    const m = month(book(registryWith({ registerChanges: [reset] }), [5000, 5001, 3, 4, 0, 2]));
    close(m.kWh, 1 + 0 + 3 + 1 + 0 + 2);
    assert.deepEqual(m.events.sort(), ['declared-reset', 'reset']);
  });
});
