import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coverRange, monthBounds, parkTotals } from './month-totals.ts';
import { loadParkRegistry, demoParkPath, parseParkRegistry } from '../../shared/contracts/park-registry.ts';
import type { AggregatePoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';

const t = (iso: string) => Date.parse(iso);

describe('coverRange', () => {
  it('covers days with day windows and the edges with hours and minutes, without gaps or overlaps', () => {
    const from = t('2026-10-31T16:00:00Z');
    const to = t('2026-11-03T10:17:30Z');
    const spans = coverRange(from, to);
    assert.deepEqual(spans.map((s) => [s.window, new Date(s.from).toISOString(), new Date(s.to).toISOString()]), [
      ['1h', '2026-10-31T16:00:00.000Z', '2026-11-01T00:00:00.000Z'],
      ['1d', '2026-11-01T00:00:00.000Z', '2026-11-03T00:00:00.000Z'],
      ['1h', '2026-11-03T00:00:00.000Z', '2026-11-03T10:00:00.000Z'],
      ['1m', '2026-11-03T10:00:00.000Z', '2026-11-03T10:17:00.000Z'],
    ]);
    for (let i = 1; i < spans.length; i++) assert.equal(spans[i]!.from, spans[i - 1]!.to);
  });

  it('in the park\'s zone: a local month is covered by its local days (Asia/Makassar, days from 16:00 UTC)', () => {
    const spans = coverRange(t('2026-10-31T16:00:00Z'), t('2026-11-03T10:17:30Z'), 'Asia/Makassar');
    assert.deepEqual(spans.map((s) => [s.window, new Date(s.from).toISOString(), new Date(s.to).toISOString()]), [
      ['1d', '2026-10-31T16:00:00.000Z', '2026-11-02T16:00:00.000Z'],
      ['1h', '2026-11-02T16:00:00.000Z', '2026-11-03T10:00:00.000Z'],
      ['1m', '2026-11-03T10:00:00.000Z', '2026-11-03T10:17:00.000Z'],
    ]);
  });

  it('gives nothing for a range shorter than a minute', () => {
    assert.deepEqual(coverRange(t('2026-11-03T10:00:10Z'), t('2026-11-03T10:00:50Z')), []);
  });
});

describe('monthBounds', () => {
  it('starts the month at local midnight in the park time zone', () => {
    // 2026-11-30T20:00Z is already December 1st in Makassar (UTC+8).
    const m = monthBounds(t('2026-11-30T20:00:00Z'), 'Asia/Makassar');
    assert.equal(m.label, '2026-12');
    assert.equal(new Date(m.from).toISOString(), '2026-11-30T16:00:00.000Z');
    assert.equal(new Date(m.to).toISOString(), '2026-12-31T16:00:00.000Z');
    const utc = monthBounds(t('2026-02-10T00:00:00Z'), 'UTC');
    assert.equal(new Date(utc.to).toISOString(), '2026-03-01T00:00:00.000Z');
  });
});

describe('parkTotals at the edge of a double', () => {
  it('keeps energy, water and CO2e totals finite when stored windows sum past the largest double', async () => {
    const park = loadParkRegistry(demoParkPath).registry.parks[0]!;
    const huge = (q: { metric: string; window: AggregatePoint['window']; from: number }): AggregatePoint => ({
      scope: 'tenant', park: park.id, metric: q.metric, unit: '-', window: q.window, start: q.from, count: 1, sum: 0, min: 0, max: 0, mean: 0, last: 0, consumption: 1e308,
    });
    // Only what parkTotals reads: every span answers with two windows of 1e308 each.
    const store = { queryStoredAggregates: async (q: { metric: string; window: AggregatePoint['window']; from: number }) => [huge(q), huge(q)] } as unknown as TimeSeriesStore;
    const totals = await parkTotals(store, park, t('2026-11-27T10:30:00Z'));
    const json = JSON.parse(JSON.stringify(totals)) as typeof totals;
    assert.equal(json.energyKwh.value, Number.MAX_VALUE);
    assert.equal(json.co2eKg.value, Number.MAX_VALUE);
    for (const tenant of json.tenants) for (const v of [tenant.energyKwh, tenant.waterM3, tenant.co2eKg]) assert.ok(v !== null && Number.isFinite(v), `${tenant.tenant}: ${v}`);
  });
});

describe('parkTotals with an emission factor revised mid-month', () => {
  // 1 kWh per minute, every minute: each stored window holds its length in minutes.
  const store = {
    queryStoredAggregates: async (q: { metric: string; window: AggregatePoint['window']; from: number; to: number }) => {
      if (q.metric !== 'active_energy_import') return [];
      const size = { '1m': 60_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 }[q.window];
      const out: AggregatePoint[] = [];
      for (let s = q.from; s + size <= q.to; s += size) out.push({ scope: 'tenant', park: 'p', metric: q.metric, unit: 'kWh', window: q.window, start: s, count: 1, sum: 0, min: 0, max: 0, mean: 0, last: 0, consumption: size / 60_000 });
      return out;
    },
  } as unknown as TimeSeriesStore;
  const parkWith = (factors: unknown) => parseParkRegistry({
    version: 1,
    parks: [{ id: 'p', name: 'P', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 1, emissionFactors: { grid: factors },
      tenants: [{ id: 't', name: 'T', sector: 's', supplySource: 'grid', meters: [{ id: 'm', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import'] }] }] }],
  }).parks[0]!;
  const now = t('2026-11-27T10:30:00+08:00');
  const monthFrom = t('2026-11-01T00:00:00+08:00');
  const minutes = (a: number, b: number) => (b - a) / 60_000;

  const cases: Array<[string, string, number]> = [
    ['a revision at local midnight (a date)', '2026-11-20', t('2026-11-20T00:00:00+08:00')],
    ['a revision at noon, inside a day window', '2026-11-15T12:00:00+08:00', t('2026-11-15T12:00:00+08:00')],
    // Off the minute: the minute holding the change takes the version in force at its start.
    ['a revision off a whole minute', '2026-11-15T12:00:30+08:00', t('2026-11-15T12:01:00+08:00')],
  ];
  for (const [name, at, cut] of cases) {
    it(`sums per-window products: ${name}`, async () => {
      const park = parkWith([{ kgCo2ePerKwh: 0.8, from: '2026-01-01', to: at, reference: 'EF 2025' }, { kgCo2ePerKwh: 0.5, from: at, reference: 'EF 2026' }]);
      const totals = await parkTotals(store, park, now);
      const tenant = totals.tenants[0]!;
      const before = minutes(monthFrom, cut);
      const after = minutes(cut, Math.floor(now / 60_000) * 60_000);
      assert.equal(tenant.energyKwh, before + after);
      assert.ok(Math.abs(tenant.co2eKg! - (before * 0.8 + after * 0.5)) < 1e-6, `${tenant.co2eKg} vs ${before * 0.8 + after * 0.5}`);
      assert.notEqual(tenant.co2eKg, (before + after) * 0.5, 'not today\'s factor for the whole month');
      assert.deepEqual(tenant.factors.map((f) => [f.reference, f.kgCo2ePerKwh, f.validFrom, f.validTo, f.from, f.to, f.energyKwh]), [
        ['EF 2025', 0.8, '2026-01-01', at, monthFrom, cut, before],
        ['EF 2026', 0.5, at, undefined, cut, now, after],
      ]);
      assert.equal(totals.co2eKg.value, tenant.co2eKg);
    });
  }

  it('a part of the month no factor version covers has no CO2e, and is not listed', async () => {
    const park = parkWith([{ kgCo2ePerKwh: 0.5, from: '2026-11-10', reference: 'EF first' }]);
    const tenant = (await parkTotals(store, park, now)).tenants[0]!;
    const covered = minutes(t('2026-11-10T00:00:00+08:00'), Math.floor(now / 60_000) * 60_000);
    assert.ok(Math.abs(tenant.co2eKg! - covered * 0.5) < 1e-6);
    assert.deepEqual(tenant.factors.map((f) => f.reference), ['EF first']);
  });
});
