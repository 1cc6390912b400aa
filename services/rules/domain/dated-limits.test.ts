/** Dated permits and factors: each input judged by the version in force at its event time, never today's. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseParkRegistry, RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import type { AggregateEvent, WindowSize } from '../../../shared/contracts/events.ts';
import { windowMs } from '../../../shared/contracts/events.ts';
import { compile } from './compile.ts';
import { RulesEngine, type Transition } from './engine.ts';
import { parseRulePack } from './pack.ts';
import { packText, rule, states, HOUR, MIN } from './testing.ts';
import { toAlertmanager } from '../alertmanager.ts';

const t = (iso: string) => Date.parse(iso);
// Asia/Makassar is UTC+8: a date in the registry is local midnight, 16:00Z the day before.
const REVISION = t('2026-01-15T12:00:00+08:00');

const registry = new RegistryIndex(parseParkRegistry({
  version: 1,
  parks: [{
    id: 'p1', name: 'Dated park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
    emissionFactors: {
      grid: [
        { kgCo2ePerKwh: 0.8, from: '2025-01-01', to: '2026-01-15T12:00:00+08:00', reference: 'EF 2024' },
        { kgCo2ePerKwh: 0.5, from: '2026-01-15T12:00:00+08:00', reference: 'EF 2026' },
      ],
    },
    tenants: [{
      id: 't1', name: 'Tenant', sector: 'test', supplySource: 'grid', budgets: { monthlyKgCo2e: 1_000_000 },
      meters: [
        // Tightened at noon on the 15th: 800 -> 550.
        { id: 'm-tight', kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2'],
          limits: { so2: [
            { max: 800, from: '2025-06-01', to: '2026-01-15T12:00:00+08:00', reference: 'PTek 1/2025' },
            { max: 550, from: '2026-01-15T12:00:00+08:00', reference: 'PTek 1/2025 rev. 1', source: 'revised permit' },
          ] } },
        // Loosened at the same instant: 500 -> 700.
        { id: 'm-loose', kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2'],
          limits: { so2: [
            { max: 500, from: '2025-06-01', to: '2026-01-15T12:00:00+08:00', reference: 'PTek 2/2025' },
            { max: 700, from: '2026-01-15T12:00:00+08:00', reference: 'PTek 2/2025 rev. 1' },
          ] } },
        // A permit with a gap: none in force between the two versions.
        { id: 'm-gap', kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2'],
          limits: { so2: [
            { max: 500, from: '2026-01-01', to: '2026-01-10', reference: 'temporary' },
            { max: 500, from: '2026-01-20', reference: 'final' },
          ] } },
        { id: 'm-elec', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import'] },
      ],
    }],
  }],
}));

const hourly = rule({ id: 'so2-1h', kind: 'threshold', input: 'aggregate', window: '1h', field: 'mean', selector: { metric: 'so2', meterKinds: ['stack-cems'] }, op: 'above', limit: 'registry', levels: { critical: {} } });
const engineOf = (...rules: Array<Record<string, unknown>>) => new RulesEngine(parseRulePack(packText(...rules)), registry);

function window(meter: string, metric: string, size: WindowSize, start: number, v: { mean?: number; consumption?: number }): AggregateEvent {
  const mean = v.mean ?? 0;
  const ev: AggregateEvent = {
    v: 1, windowId: `meter:${meter}:${metric}:${size}:${start}`, revision: 0, scope: 'meter', park: 'p1', tenant: 't1', meter,
    metric, unit: '-', window: size, start, end: start + windowMs[size], count: 12, sum: mean * 12, min: mean, max: mean, mean, last: mean, registerEvents: [], simulated: false,
  };
  if (v.consumption !== undefined) ev.consumption = v.consumption;
  return ev;
}

describe('a permit revised mid-month: each hour by its own version', () => {
  // Hours ending at the revision and starting at it: [11:00, 12:00) and [12:00, 13:00) local.
  const before = REVISION - HOUR;
  const after = REVISION;
  const cases: Array<[string, string, number, number, string[]]> = [
    ['tightened: an hour before within the old limit (700 <= 800) is compliant', 'm-tight', before, 700, []],
    ['tightened: the same mean an hour after is above the new limit (700 > 550)', 'm-tight', after, 700, ['firing:critical']],
    ['loosened: an hour before above the old limit (600 > 500) fires', 'm-loose', before, 600, ['firing:critical']],
    ['loosened: the same mean an hour after is within the new limit (600 <= 700)', 'm-loose', after, 600, []],
  ];
  for (const [name, meter, start, mean, want] of cases) {
    it(name, () => {
      const e = engineOf(hourly);
      // Judged late (a day after) on purpose: today's version must not be the one used.
      assert.deepEqual(states(e.onAggregate(window(meter, 'so2', '1h', start, { mean }), REVISION + 24 * HOUR)), want);
    });
  }

  it('names the version that applied in the provenance, and a revision of the permit does not rewrite a judged hour', () => {
    const e = engineOf(hourly);
    const early = e.onAggregate(window('m-loose', 'so2', '1h', before, { mean: 600 }), REVISION);
    assert.deepEqual(early[0]!.event.provenance.limit, { reference: 'PTek 2/2025', from: '2025-06-01', to: '2026-01-15T12:00:00+08:00' });
    assert.equal(early[0]!.event.provenance.threshold, 500);
    assert.match(early[0]!.event.provenance.detail ?? '', /above 500 \(PTek 2\/2025 from 2025-06-01 to 2026-01-15T12:00:00\+08:00\)$/);
    const late = e.onAggregate(window('m-loose', 'so2', '1h', after, { mean: 600 }), REVISION + HOUR);
    assert.deepEqual(states(late), ['resolved:critical']);
    assert.deepEqual(late[0]!.event.provenance.limit, { reference: 'PTek 2/2025 rev. 1', from: '2026-01-15T12:00:00+08:00' });
    assert.equal(late[0]!.event.provenance.threshold, 700);
    // Webhooks name it too.
    assert.equal(toAlertmanager(early[0]!.event, REVISION).commonAnnotations.limit_version, 'PTek 2/2025 (from 2025-06-01 to 2026-01-15T12:00:00+08:00)');
  });

  it('judges a whole month of hours, each by its own version (tightened permit)', () => {
    const e = engineOf(hourly);
    const monthStart = t('2026-01-01T00:00:00+08:00');
    const fired: number[] = [];
    // 650 every hour: compliant under 800, above 550.
    for (let h = 0; h < 31 * 24; h++) {
      const start = monthStart + h * HOUR;
      for (const tr of e.onAggregate(window('m-tight', 'so2', '1h', start, { mean: 650 }), start + HOUR)) if (tr.event.state === 'firing') fired.push(start);
    }
    assert.deepEqual(fired, [REVISION]);
  });

  it('a day window across the revision is judged by the version in force at its start', () => {
    const daily = { ...hourly, id: 'so2-1d', window: '1d' };
    const e = engineOf(daily);
    const dayStart = t('2026-01-15T00:00:00+08:00'); // the revision is at noon of this day
    assert.deepEqual(states(e.onAggregate(window('m-tight', 'so2', '1d', dayStart, { mean: 700 }), dayStart + 24 * HOUR)), []);
    assert.deepEqual(states(e.onAggregate(window('m-tight', 'so2', '1d', dayStart + 24 * HOUR, { mean: 700 }), dayStart + 48 * HOUR)), ['firing:critical']);
  });

  it('samples: each by the version in force at its own time', () => {
    const e = engineOf(rule({ id: 'so2-sample', selector: { metric: 'so2', meters: ['m-tight'] }, limit: 'registry' }));
    const reading = (ts: number, v: number) => e.onReading({ v: 1, park: 'p1', tenant: 't1', meter: 'm-tight', seq: 0, receivedAt: ts, simulated: false, readings: [{ metric: 'so2', unit: '-', value: v, ts }] }, ts);
    assert.deepEqual(states(reading(REVISION - MIN, 700)), []);
    const fired = reading(REVISION, 700);
    assert.deepEqual(states(fired), ['firing:critical']);
    assert.match(fired[0]!.event.provenance.detail ?? '', /above 550 \(revised permit, PTek 1\/2025 rev\. 1 from 2026-01-15T12:00:00\+08:00\)$/);
  });

  it('an exceedance share counts each hour against that hour\'s permit version', () => {
    const share = rule({ id: 'so2-share', kind: 'exceedance-share', input: 'aggregate', window: '1h', field: 'mean', selector: { metric: 'so2', meters: ['m-tight'] }, op: 'above', limit: 'registry', levels: { critical: { threshold: 0.4 } }, params: { over: '1d', minOperatingHours: 1 } });
    const e = engineOf(share);
    const all: Transition[] = [];
    // 700 every hour, 5 hours each side of the revision: compliant before (<= 800), exceeding after (> 550).
    for (let h = -5; h < 5; h++) all.push(...e.onAggregate(window('m-tight', 'so2', '1h', REVISION + h * HOUR, { mean: 700 }), REVISION + (h + 1) * HOUR));
    // Above 0.4 at the 4th exceeding hour: 4 of 9 (judged by today's 550, it would have fired at the first).
    assert.deepEqual(states(all), ['firing:critical']);
    assert.deepEqual(all[0]!.event.provenance.values, [4 / 9, 4, 9]);
    assert.equal(all[0]!.event.provenance.window?.end, REVISION + 4 * HOUR);
    assert.match(all[0]!.event.provenance.detail ?? '', /4 of 9 operating hours above 550/);
  });

  it('a period no version covers is not judged, and says so', () => {
    const e = engineOf(hourly);
    assert.deepEqual(states(e.onAggregate(window('m-gap', 'so2', '1h', t('2026-01-12T00:00:00Z'), { mean: 9999 }), 0)), []);
    assert.deepEqual(states(e.onAggregate(window('m-gap', 'so2', '1h', t('2026-01-21T00:00:00Z'), { mean: 9999 }), 0)), ['firing:critical']);
  });

  it('the pack default fills the periods no registry version covers', () => {
    const c = compile(parseRulePack(packText({ ...hourly, limit: { from: 'registry', default: 100 } })), registry);
    const gap = c.bindings.find((b) => b.scope.meter === 'm-gap')!;
    assert.deepEqual(gap.limits.map((l) => [l.levels[0]!.t, l.version?.reference ?? 'default']), [[100, 'default'], [500, 'temporary'], [100, 'default'], [500, 'final']]);
    assert.match(gap.limits[0]!.source, /\(default: /);
  });
});

describe('emission factor revised mid-month: the budget sums per-window products', () => {
  const scope2 = rule({
    id: 'scope2', kind: 'budget', selector: { metric: 'active_energy_import', scope: 'tenant' }, input: 'aggregate', window: '1h', field: 'consumption',
    limit: 'budget.monthlyKgCo2e', levels: { warning: {} }, params: { period: 'month', proRata: false, multiplier: 'emission-factor' },
  });
  const tenantHour = (start: number, kwh: number): AggregateEvent => ({ ...window('m-elec', 'active_energy_import', '1h', start, { consumption: kwh }), scope: 'tenant', windowId: `tenant:t1:${start}` });

  it('kWh before the revision x 0.8, after it x 0.5', () => {
    const e = engineOf(scope2);
    let last: Transition[] = [];
    // 10 hours before noon on the 15th and 10 after, 1,000 kWh each.
    for (let h = -10; h < 10; h++) last = e.onAggregate(tenantHour(REVISION + h * HOUR, 1000), REVISION + (h + 1) * HOUR);
    assert.deepEqual(last, []); // far under the budget
    // A last window after the revision pushes it over: 8,000 + 5,000 + 988,000 kg > 1,000,000 (at 0.8 it would be far more).
    const over = e.onAggregate(tenantHour(REVISION + 10 * HOUR, 1_976_000), REVISION + 11 * HOUR);
    assert.deepEqual(states(over), ['firing:warning']);
    const total = 10 * 1000 * 0.8 + 10 * 1000 * 0.5 + 1_976_000 * 0.5;
    assert.equal(over[0]!.event.provenance.values[0], total);
    assert.match(over[0]!.event.provenance.detail ?? '', /x 0\.5 kg CO2e\/kWh, EF 2026 from 2026-01-15T12:00:00\+08:00/);
  });

  it('a factor version is in the binding once, each with its validity', () => {
    const c = compile(parseRulePack(packText(scope2)), registry);
    assert.deepEqual(c.bindings[0]!.factors.map((f) => [f.kgCo2ePerKwh, f.version.reference]), [[0.8, 'EF 2024'], [0.5, 'EF 2026']]);
  });
});
