/** The registry's register ratings and declared register changes: what is accepted and what is refused, by name. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseParkRegistry } from './park-registry.ts';

const registryWith = (meter: Record<string, unknown>): unknown => ({
  version: 1,
  parks: [{
    id: 'p1', name: 'Test park', country: 'ID', timezone: 'UTC', usedAreaHa: 10,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.87, source: 'test' } },
    tenants: [{ id: 't1', name: 'Tenant one', sector: 'test', supplySource: 'grid', meters: [{ id: 'm1', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import', 'reactive_energy', 'active_power'], ...meter }] }],
  }],
});

const change = (over: Record<string, unknown> = {}) => ({ at: '2026-11-20T09:30:00+08:00', metric: 'active_energy_import', kind: 'swap', oldFinal: 523411.6, newInitial: 0.2, reference: 'WO-1', ...over });

describe('park registry: ratings and registerChanges', () => {
  it('accepts declarations in time order per metric', () => {
    const reg = parseParkRegistry(registryWith({
      ratings: { active_energy_import: { rolloverAt: 1_000_000 } },
      registerChanges: [change(), change({ metric: 'reactive_energy', at: '2026-11-01T00:00:00Z', kind: 'reset', newInitial: 0 }), change({ at: '2026-11-21T00:00:00Z' })],
    }));
    assert.equal(reg.parks[0]!.tenants[0]!.meters[0]!.registerChanges?.length, 3);
  });

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a declaration earlier than the one before it for the same metric', { registerChanges: [change(), change({ at: '2026-11-19T00:00:00Z' })] }, /registerChanges\.1\.at: must be later than the previous active_energy_import change/],
    ['two declarations at the same instant, written in two zones', { registerChanges: [change(), change({ at: '2026-11-20T01:30:00Z' })] }, /registerChanges\.1\.at: must be later/],
    ['a time without a zone', { registerChanges: [change({ at: '2026-11-20T09:30:00' })] }, /registerChanges\.0\.at: must be an ISO 8601 date and time with a zone/],
    ['a date that does not exist', { registerChanges: [change({ at: '2026-02-30T00:00:00Z' })] }, /registerChanges\.0\.at: is not a valid date and time/],
    ['an instantaneous metric', { registerChanges: [change({ metric: 'active_power' })] }, /registerChanges\.0\.metric: must be a cumulative \(register\) metric/],
    ['an unknown metric', { registerChanges: [change({ metric: 'flux' })] }, /registerChanges\.0\.metric: unknown metric/],
    ['a metric the meter does not measure', { registerChanges: [change({ metric: 'gas_volume' })] }, /registerChanges\.0\.metric: "gas_volume" is not one of the meter's metrics/],
    ['a reading that is not finite', { registerChanges: [change({ oldFinal: Infinity })] }, /registerChanges\.0\.oldFinal/],
    ['a reading that is not a number', { registerChanges: [change({ newInitial: '0.2' })] }, /registerChanges\.0\.newInitial/],
    ['a kind other than swap or reset', { registerChanges: [change({ kind: 'rollover' })] }, /registerChanges\.0\.kind/],
    ['a declaration without its reference', { registerChanges: [change({ reference: '' })] }, /registerChanges\.0\.reference/],
    ['a rolloverAt that is not positive', { ratings: { active_energy_import: { rolloverAt: 0 } } }, /ratings\.active_energy_import\.rolloverAt/],
    ['a maxStepPerHour that is not finite', { ratings: { active_energy_import: { maxStepPerHour: Infinity } } }, /ratings\.active_energy_import\.maxStepPerHour/],
  ];
  for (const [name, meter, message] of refused) {
    it(`refuses ${name}`, () => assert.throws(() => parseParkRegistry(registryWith(meter)), message));
  }
});
