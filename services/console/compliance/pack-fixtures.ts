/** Test fixtures of the pack: a one-tenant park with a stack and an outlet, windows and alerts built by hand. */
import { parseParkRegistry, type Park } from '../../../shared/contracts/park-registry.ts';
import type { AlertEvent } from '../../../shared/contracts/events.ts';
import type { AggregatePoint } from '../../../shared/ports/time-series.ts';

export const fixturePark: Park = parseParkRegistry({
  version: 1,
  parks: [{
    id: 'park-x', name: 'Park X', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.8, source: 'test' } },
    tenants: [
      {
        id: 'smelter', name: 'Smelter', sector: 'metals', supplySource: 'grid',
        meters: [
          { id: 'stack-1', kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2', 'o2'], o2ReferencePercent: 7, limits: { so2: { max: 550, source: 'permit S-1' } } },
          { id: 'outlet-1', kind: 'wastewater-quality', cadenceSeconds: 120, metrics: ['ph'], limits: { ph: { min: 6, max: 9, source: 'permit W-1' } } },
        ],
      },
      { id: 'mill', name: 'Mill', sector: 'textile', supplySource: 'grid', meters: [{ id: 'mill-elec', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power'] }] },
    ],
  }],
}).parks[0]!;

export function hourWindow(meter: string, metric: string, start: number, mean: number, count: number, expected: number, tenant = 'smelter'): AggregatePoint {
  return {
    scope: 'meter', park: 'park-x', tenant, meter, metric, unit: metric === 'ph' ? 'pH' : metric === 'o2' ? '%' : 'mg/Nm3', window: '1h', start,
    count, sum: mean * count, min: mean, max: mean, mean, last: mean, completeness: count / expected, expected, revision: 0,
  };
}

export function transition(fingerprint: string, n: number, state: AlertEvent['state'], at: number, over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    v: 1, fingerprint, transition: n, state, previousState: null, severity: 'critical', ruleId: 'stack-so2', ruleVersion: 1,
    park: 'park-x', tenant: 'smelter', meter: 'stack-1', metric: 'so2', summary: 'SO2 above 550', provenance: { values: [600], threshold: 550 },
    at, simulated: false, ...over,
  };
}
