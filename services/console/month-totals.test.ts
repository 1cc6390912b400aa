import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coverRange, monthBounds, parkTotals } from './month-totals.ts';
import { loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
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
