/** Every rule kind, with values exactly at the limit, on an injected clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Transition } from './engine.ts';
import { agg, batch, engine, HOUR, MIN, rule, states, status, T0 } from './testing.ts';

/** Feeds one sample per step (a minute apart unless `at` says otherwise) and returns the transitions of each step. */
function feed(e: ReturnType<typeof engine>, meter: string, metric: string, values: number[], step = MIN, start = T0): string[][] {
  return values.map((v, i) => states(e.onReading(batch(meter, start + i * step, { [metric]: v }), start + i * step)));
}

describe('threshold: comparison conventions at the limit', () => {
  const cases: Array<[string, Record<string, unknown>, number, boolean]> = [
    ['above: exactly at the limit is not a breach', { op: 'above', limit: 100 }, 100, false],
    ['above: just over the limit is', { op: 'above', limit: 100 }, 100.001, true],
    ['at-or-above: exactly at the threshold is a breach', { op: 'at-or-above', limit: 100 }, 100, true],
    ['at-or-above: just under is not', { op: 'at-or-above', limit: 100 }, 99.999, false],
    ['below: exactly at the limit is not a breach', { op: 'below', limit: 0.85 }, 0.85, false],
    ['below: just under is', { op: 'below', limit: 0.85 }, 0.8499, true],
    ['at-or-below: exactly at the threshold is a breach', { op: 'at-or-below', limit: 0.85 }, 0.85, true],
    ['outside: exactly at the lower bound is inside', { op: 'outside', limit: { min: 6, max: 9 } }, 6, false],
    ['outside: exactly at the upper bound is inside', { op: 'outside', limit: { min: 6, max: 9 } }, 9, false],
    ['outside: below the range', { op: 'outside', limit: { min: 6, max: 9 } }, 5.99, true],
    ['outside: above the range', { op: 'outside', limit: { min: 6, max: 9 } }, 9.01, true],
    ['registry limit (permit COD max 100): at the limit', { limit: 'registry' }, 100, false],
    ['registry limit (permit COD max 100): over it', { limit: 'registry' }, 101, true],
    ['a warning at 80 % of the limit: exactly 80 is not', { limit: 100, levels: { warning: { factor: 0.8 } } }, 80, false],
  ];
  for (const [name, over, value, fires] of cases) {
    it(name, () => {
      const e = engine(rule(over));
      const out = e.onReading(batch('m-ww', T0, { cod: value }), T0);
      assert.equal(out.length, fires ? 1 : 0);
    });
  }

  it('escalates warning -> critical, de-escalates, and resolves, each a transition with provenance', () => {
    const e = engine(rule({ limit: 100, levels: { warning: { factor: 0.8 }, critical: {} } }));
    assert.deepEqual(feed(e, 'm-ww', 'cod', [70, 85, 120, 90, 50]), [[], ['firing:warning'], ['firing:critical'], ['firing:warning'], ['resolved:warning']]);
    const e2 = engine(rule({ limit: 100, levels: { warning: { factor: 0.8 }, critical: {} } }));
    const [fired] = e2.onReading(batch('m-ww', T0, { cod: 120 }), T0);
    assert.equal(fired?.event.provenance.threshold, 100);
    assert.deepEqual(fired?.event.provenance.values, [120]);
    assert.deepEqual(fired?.event.provenance.window, { start: T0, end: T0 });
    assert.match(fired?.event.provenance.detail ?? '', /permit COD|test regulation/);
    assert.equal(fired?.event.previousState, null);
    assert.equal(fired?.event.ruleVersion, 1);
  });

  it('on aggregates: 15-minute demand against 90 % of the contracted kW (registry)', () => {
    const e = engine(rule({ selector: { metric: 'active_power', meters: ['m-elec'] }, input: 'aggregate', window: '15m', field: 'mean', limit: 'contracted-kw', levels: { warning: { factor: 0.9 } } }));
    const at = (i: number, mean: number, extra: Partial<Parameters<typeof agg>[0]> = {}) => states(e.onAggregate(agg({ metric: 'active_power', window: '15m', start: T0 + i * 15 * MIN, meter: 'm-elec', mean, ...extra }), T0 + (i + 1) * 15 * MIN));
    assert.deepEqual(at(0, 900), []); // exactly 90 %: not a breach
    assert.deepEqual(at(1, 901), ['firing:warning']);
    assert.deepEqual(at(1, 901), []); // replayed window: ignored
    assert.deepEqual(at(1, 850, { revision: 1 }), ['resolved:warning']); // late data revised it
    assert.deepEqual(states(e.onAggregate(agg({ metric: 'active_power', window: '1h', start: T0, meter: 'm-elec', mean: 5000 }), T0)), []); // other window size
  });
});

describe('consecutive', () => {
  it('needs N consecutive breaching samples; one good sample restarts the count', () => {
    const e = engine(rule({ kind: 'consecutive', selector: { metric: 'ph', meters: ['m-ww'] }, op: 'outside', limit: 'registry', params: { samples: 3 } }));
    assert.deepEqual(feed(e, 'm-ww', 'ph', [5, 5, 7, 5, 5, 9.5, 7]), [[], [], [], [], [], ['firing:critical'], ['resolved:critical']]);
  });
});

describe('a resent logger buffer', () => {
  it('is judged in event order whatever order the batch lists it in', () => {
    const e = engine(rule({ kind: 'consecutive', params: { samples: 3 } }));
    const b = batch('m-ww', T0, {});
    const out = e.onReading({ ...b, readings: [3, 1, 2, 4].map((i) => ({ metric: 'cod', unit: 'mg/L', value: i === 4 ? 50 : 120, ts: T0 + i * 2 * MIN })) }, T0 + 10 * MIN);
    // Samples 1, 2, 3 breach (fires), sample 4 clears: nothing is dropped as out of order.
    assert.deepEqual(states(out), ['firing:critical', 'resolved:critical']);
    assert.equal(e.counters.duplicates, 0);
  });
});

describe('sustained (event time)', () => {
  it('fires when breaching samples span the duration (at exactly the duration), not before', () => {
    const e = engine(rule({ kind: 'sustained', params: { duration: '10m' } }));
    assert.deepEqual(feed(e, 'm-ww', 'cod', [120, 130, 125, 90], 5 * MIN), [[], [], ['firing:critical'], ['resolved:critical']]);
    const [ev] = engine(rule({ kind: 'sustained', params: { duration: '10m' } })).onReading(batch('m-ww', T0, { cod: 120 }), T0);
    assert.equal(ev, undefined);
  });
});

describe('rolling mean', () => {
  it('on readings: a 60-minute mean with a minimum sample count, old buckets leave the window', () => {
    const e = engine(rule({ kind: 'rolling', params: { over: '1h', bucket: '10m', minSamples: 3 } }));
    // 2 samples: not judged yet; 3rd brings the mean to 100 (not > 100); 4th to 102.5.
    assert.deepEqual(feed(e, 'm-ww', 'cod', [150, 50, 100, 110], 10 * MIN), [[], [], [], ['firing:critical']]);
    // An hour later the 150 has left the window.
    // 70 minutes on, the 150 and the 50 have left the window: (100 + 110 + 60) / 3 = 90.
    const out = e.onReading(batch('m-ww', T0 + 70 * MIN, { cod: 60 }), T0 + 70 * MIN);
    assert.deepEqual(states(out), ['resolved:critical']);
    assert.match(out[0]?.event.provenance.detail ?? '', /1h mean 90 of 3 samples/);
    assert.deepEqual(out[0]?.event.provenance.window, { start: T0 + 20 * MIN, end: T0 + 70 * MIN });
  });

  it('on aggregates: a 3-window rolling mean weighted by sample counts; a revision replaces its window', () => {
    const e = engine(rule({ kind: 'rolling', input: 'aggregate', window: '1m', params: { over: '3m' } }));
    const at = (i: number, mean: number, count: number, revision = 0) => states(e.onAggregate(agg({ metric: 'cod', window: '1m', start: T0 + i * MIN, meter: 'm-ww', mean, count, revision }), T0));
    assert.deepEqual(at(0, 90, 1), []);
    assert.deepEqual(at(1, 120, 3), ['firing:critical']); // (90 + 360) / 4 = 112.5
    assert.deepEqual(at(1, 100, 3, 1), ['resolved:critical']); // revised: (90 + 300) / 4 = 97.5
  });

  it('sums over a year of daily windows (energy management duty, at-or-above)', () => {
    const e = engine(rule({ kind: 'rolling', selector: { metric: 'active_energy_import', scope: 'tenant' }, input: 'aggregate', window: '1d', field: 'consumption', op: 'at-or-above', limit: 46_520_000, levels: { info: {} }, params: { over: '365d', stat: 'sum' } }));
    const day = (i: number, kwh: number) => states(e.onAggregate(agg({ metric: 'active_energy_import', window: '1d', start: T0 + i * 24 * HOUR, tenant: 't1', consumption: kwh }), T0));
    assert.deepEqual(day(0, 46_000_000), []);
    assert.deepEqual(day(1, 520_000), ['firing:info']); // exactly 4,000 TOE: the duty applies
    assert.deepEqual(day(366, 1), ['resolved:info']); // the first day left the 12 months
  });
});

describe('rate of change', () => {
  it('judges the rise per hour of a register against the meter rating, and skips gaps', () => {
    const e = engine(rule({ kind: 'rate-of-change', selector: { metric: 'active_energy_import', meters: ['m-elec'] }, limit: 'rating.maxStepPerHour', levels: { 'data-quality': {} }, params: { per: '1h', direction: 'rise', maxGap: '2h' } }));
    // +50 kWh in 6 minutes = 500 kWh/h: exactly the rating, not a breach; +60 in 6 min = 600/h is.
    assert.deepEqual(feed(e, 'm-elec', 'active_energy_import', [1000, 1050, 1110, 1120], 6 * MIN), [[], [], ['firing:data-quality'], ['resolved:data-quality']]);
    // After a 3-hour gap the next sample starts afresh instead of giving a rate.
    assert.deepEqual(states(e.onReading(batch('m-elec', T0 + 5 * HOUR, { active_energy_import: 99_999 }), T0 + 5 * HOUR)), []);
  });

  it('fall: a register going backwards', () => {
    const e = engine(rule({ kind: 'rate-of-change', selector: { metric: 'active_energy_import', meters: ['m-elec'] }, limit: undefined, levels: { 'data-quality': { threshold: 0 } }, params: { direction: 'fall' } }));
    assert.deepEqual(feed(e, 'm-elec', 'active_energy_import', [1000, 1000, 10, 20]), [[], [], ['firing:data-quality'], ['resolved:data-quality']]);
  });
});

describe('deadman', () => {
  const dm = rule({ kind: 'deadman', selector: { meters: ['m-ww'] }, limit: undefined, levels: { warning: { after: '10m' }, critical: { after: '60m' } } });

  it('silence is no samples: zero values keep it quiet; exactly 10 minutes is not yet silent', () => {
    const e = engine(dm);
    assert.deepEqual(states(e.tick(T0)), []);
    e.onReading(batch('m-ww', T0, { cod: 0, ph: 0 }), T0);
    assert.deepEqual(states(e.tick(T0 + 10 * MIN)), []);
    assert.deepEqual(states(e.tick(T0 + 10 * MIN + 1)), ['firing:warning']);
    assert.deepEqual(states(e.tick(T0 + 60 * MIN + 1)), ['firing:critical']);
    const back = e.onReading(batch('m-ww', T0 + 61 * MIN, { cod: 0 }), T0 + 61 * MIN);
    assert.deepEqual(states(back), ['resolved:critical']);
    assert.equal(back[0]?.event.meter, 'm-ww');
    assert.equal(back[0]?.event.metric, undefined);
  });

  it('a meter never heard from counts from the first tick', () => {
    const e = engine(dm);
    e.tick(T0);
    assert.deepEqual(states(e.tick(T0 + 11 * MIN)), ['firing:warning']);
  });

  it('per metric: another metric of the meter does not keep it alive', () => {
    const e = engine({ ...dm, selector: { meters: ['m-ww'], metric: 'nh3n' } });
    e.tick(T0);
    e.onReading(batch('m-ww', T0 + 5 * MIN, { cod: 50 }), T0 + 5 * MIN);
    assert.deepEqual(states(e.tick(T0 + 11 * MIN)), ['firing:warning']);
  });

  it('meter status offline raises it at once; online and data clear it', () => {
    const e = engine(dm);
    e.onReading(batch('m-ww', T0, { cod: 1 }), T0);
    assert.deepEqual(states(e.onMeterStatus(status('m-ww', 'offline', T0 + MIN), T0 + MIN)), ['firing:warning']);
    assert.deepEqual(states(e.tick(T0 + 2 * MIN)), []);
    assert.deepEqual(states(e.onMeterStatus(status('m-ww', 'online', T0 + 3 * MIN), T0 + 3 * MIN)), ['resolved:warning']);
    e.onMeterStatus(status('m-ww', 'offline', T0 + 4 * MIN), T0 + 4 * MIN);
    assert.deepEqual(states(e.onReading(batch('m-ww', T0 + 5 * MIN, { cod: 0 }), T0 + 5 * MIN)), ['resolved:warning']);
  });
});

describe('budget', () => {
  const scope2 = rule({
    id: 'scope2', kind: 'budget', selector: { metric: 'active_energy_import', scope: 'tenant' }, input: 'aggregate', window: '1h', field: 'consumption',
    limit: 'budget.monthlyKgCo2e', levels: { warning: {} }, params: { period: 'month', proRata: true, multiplier: 'emission-factor' },
  });
  // January in Asia/Makassar starts 2025-12-31T16:00Z; the budget is 31,000 kg CO2e: 1,000 per day pro rata.
  const monthStart = Date.UTC(2025, 11, 31, 16);
  const hour = (e: ReturnType<typeof engine>, i: number, kwh: number, revision = 0): Transition[] =>
    e.onAggregate(agg({ metric: 'active_energy_import', window: '1h', start: monthStart + i * HOUR, tenant: 't1', consumption: kwh, revision }), monthStart + (i + 1) * HOUR);

  it('month to date x the supply source emission factor against the pro-rata budget (exactly pro rata is not a breach)', () => {
    const e = engine(scope2);
    // Half way through January (372 of 744 hours) the pro-rata budget is 15,500 kg = 31,000 kWh at 0.5 kg/kWh.
    assert.deepEqual(states(hour(e, 371, 31_000)), []);
    const over = hour(e, 372, 100);
    assert.deepEqual(states(over), ['firing:warning']);
    const p = over[0]!.event.provenance;
    assert.equal(p.values[0], 15_550);
    assert.ok(Math.abs((p.threshold ?? 0) - (31_000 * 373) / 744) < 1e-6);
    assert.deepEqual(p.window, { start: monthStart, end: monthStart + 373 * HOUR });
    assert.equal(over[0]!.event.tenant, 't1');
  });

  it('a revised window replaces its share; a replay changes nothing; a new month starts afresh', () => {
    const e = engine(scope2);
    assert.deepEqual(states(hour(e, 0, 100)), ['firing:warning']); // 50 kg after 1 h vs 41.7 pro rata
    assert.deepEqual(states(hour(e, 0, 100)), []); // replay
    assert.deepEqual(states(hour(e, 0, 40, 1)), ['resolved:warning']); // revised down to 20 kg
    assert.equal(e.counters.duplicates, 1);
    const feb = Date.UTC(2026, 0, 31, 16);
    const out = e.onAggregate(agg({ metric: 'active_energy_import', window: '1h', start: feb, tenant: 't1', consumption: 10 }), feb + HOUR);
    assert.deepEqual(states(out), []);
  });

  it('daily total without pro rata: the discharge cap from the registry (69.1 m3 per used ha)', () => {
    const e = engine(rule({ kind: 'budget', selector: { metric: 'water_discharge', meters: ['m-dis'] }, input: 'aggregate', window: '1h', field: 'consumption', limit: 'registry', levels: { warning: {} }, params: { period: 'day', proRata: false } }));
    const dayStart = Date.UTC(2026, 0, 14, 16);
    const h = (i: number, m3: number) => states(e.onAggregate(agg({ metric: 'water_discharge', window: '1h', start: dayStart + i * HOUR, meter: 'm-dis', consumption: m3 }), 0));
    assert.deepEqual(h(0, 600), []);
    assert.deepEqual(h(1, 91), []); // 691 = 69.1 x 10 ha: at the cap
    assert.deepEqual(h(2, 0.5), ['firing:warning']);
    assert.deepEqual(h(24, 1), ['resolved:warning']); // next local day
  });

  it('period mean (monthly power factor below 0.85), weighted by samples', () => {
    const e = engine(rule({ kind: 'budget', selector: { metric: 'power_factor', meters: ['m-elec'] }, input: 'aggregate', window: '1h', field: 'mean', op: 'below', limit: 0.85, levels: { warning: {} }, params: { period: 'month', stat: 'mean' } }));
    const h = (i: number, mean: number, count: number) => states(e.onAggregate(agg({ metric: 'power_factor', window: '1h', start: T0 + i * HOUR, meter: 'm-elec', mean, count }), 0));
    assert.deepEqual(h(0, 0.9, 60), []);
    assert.deepEqual(h(1, 0.8, 60), []); // mean exactly 0.85
    assert.deepEqual(h(2, 0.8, 1), ['firing:warning']);
  });
});

describe('ratio (intensity)', () => {
  it('kg CO2e per tonne of product, month to date', () => {
    const e = engine(rule({ kind: 'ratio', selector: { metric: 'co2e', scope: 'tenant' }, input: 'aggregate', window: '1h', field: 'consumption', limit: 2, levels: { warning: {} }, params: { denominator: 'production', period: 'month', minDenominator: 1 } }));
    const h = (metric: string, i: number, v: number) => states(e.onAggregate(agg({ metric, window: '1h', start: T0 + i * HOUR, tenant: 't1', consumption: v }), 0));
    assert.deepEqual(h('co2e', 0, 30), []); // no production yet: not judged
    assert.deepEqual(h('production', 0, 0.5), []); // below minDenominator
    assert.deepEqual(h('production', 1, 14.5), []); // 30 / 15 = 2: at the limit
    assert.deepEqual(h('co2e', 1, 1), ['firing:warning']);
    assert.deepEqual(h('production', 2, 5), ['resolved:warning']);
  });
});

describe('exceedance share over a long window', () => {
  const share = (over: Record<string, unknown> = {}) => rule({ kind: 'exceedance-share', selector: { metric: 'so2', meters: ['m-stack'] }, input: 'aggregate', window: '1h', limit: 'registry', levels: { critical: { threshold: 0.05 } }, params: { over: '100h', minOperatingHours: 20 }, ...over });

  it('fires when exceeding hours are more than 5 % of operating hours; idle hours do not count', () => {
    const e = engine(share());
    const h = (i: number, mean: number, count = 12) => states(e.onAggregate(agg({ metric: 'so2', window: '1h', start: T0 + i * HOUR, meter: 'm-stack', mean, count }), 0));
    for (let i = 0; i < 19; i++) assert.deepEqual(h(i, 300), []);
    assert.deepEqual(h(19, 600), []); // 1 of 20 = 5 %: not above
    assert.deepEqual(h(20, 0, 0), []); // not operating
    assert.deepEqual(h(21, 551), ['firing:critical']); // 2 of 21
  });

  it('a revised hour overwrites its bits', () => {
    const e = engine(share({ params: { over: '30h', minOperatingHours: 5 } }));
    const h = (i: number, mean: number, revision = 0) => e.onAggregate(agg({ metric: 'so2', window: '1h', start: T0 + i * HOUR, meter: 'm-stack', mean, count: 12, revision }), 0);
    for (let i = 0; i < 4; i++) assert.deepEqual(states(h(i, i === 0 ? 600 : 100)), []); // fewer than 5 operating hours: not judged
    assert.deepEqual(states(h(4, 100)), ['firing:critical']); // 1 of 5
    const out = h(0, 100, 1);
    assert.deepEqual(states(out), ['resolved:critical']);
    assert.deepEqual(out[0]?.event.provenance.values, [0, 0, 5]);
    assert.deepEqual(states(h(2, 700, 1)), ['firing:critical']);
    assert.deepEqual(states(h(2, 700, 1)), []); // replayed revision: same bits
  });

  it('hours leave the window', () => {
    const e = engine(share({ params: { over: '10h', minOperatingHours: 1 } }));
    const h = (i: number, mean: number) => states(e.onAggregate(agg({ metric: 'so2', window: '1h', start: T0 + i * HOUR, meter: 'm-stack', mean, count: 12 }), 0));
    assert.deepEqual(h(0, 600), ['firing:critical']);
    for (let i = 1; i < 10; i++) assert.deepEqual(h(i, 100), []); // 1 of 10 = 10 %
    assert.deepEqual(h(10, 100), ['resolved:critical']); // hour 0 left the 10-hour window
  });

  it('on readings: hourly means of 5-minute values, closed by the first sample of the next hour', () => {
    const e = engine(share({ input: 'reading', window: undefined, params: { over: '100h', minOperatingHours: 2 }, o2Correction: undefined }));
    const r = (min: number, so2: number) => states(e.onReading(batch('m-stack', T0 + min * MIN, { so2 }), T0 + min * MIN));
    for (let m = 0; m < 60; m += 5) r(m, 600); // hour 0 mean 600
    for (let m = 60; m < 120; m += 5) assert.deepEqual(r(m, 100), []);
    assert.deepEqual(r(120, 100), ['firing:critical']); // hour 1 closed: 1 of 2 hours exceeded
  });
});

describe('O2 correction', () => {
  const so2 = rule({ selector: { metric: 'so2', meters: ['m-stack'] }, limit: 'registry', o2Correction: { maxAge: '15m' } });

  it('corrects to the meter reference O2 with the O2 of the same message: C * (21 - 7) / (21 - O2)', () => {
    const e = engine(so2);
    assert.deepEqual(states(e.onReading(batch('m-stack', T0, { so2: 500, o2: 7 }), T0)), []); // 500 at reference
    const out = e.onReading(batch('m-stack', T0 + 5 * MIN, { so2: 500, o2: 9 }), T0 + 5 * MIN); // 500 * 14 / 12 = 583.3
    assert.deepEqual(states(out), ['firing:critical']);
    assert.ok(Math.abs((out[0]?.event.provenance.values[0] ?? 0) - 583.333) < 0.001);
    assert.match(out[0]?.event.provenance.detail ?? '', /O2-corrected to 7 % \(O2 9 %\)/);
    // At 550 exactly after correction: 471.428... * 14 / 12 = 550 is not a breach.
    assert.deepEqual(states(e.onReading(batch('m-stack', T0 + 10 * MIN, { so2: 550 * 12 / 14, o2: 9 }), T0 + 10 * MIN)), ['resolved:critical']);
  });

  it('uses the latest O2 within maxAge; without one (or O2 >= 21 %) the value is not judged', () => {
    const e = engine(so2);
    assert.deepEqual(states(e.onReading(batch('m-stack', T0, { so2: 5000 }), T0)), []);
    assert.equal(e.counters.noO2, 1);
    e.onReading(batch('m-stack', T0 + MIN, { o2: 21 }), T0 + MIN);
    assert.deepEqual(states(e.onReading(batch('m-stack', T0 + 2 * MIN, { so2: 5000 }), T0 + 2 * MIN)), []);
    e.onReading(batch('m-stack', T0 + 3 * MIN, { o2: 11 }), T0 + 3 * MIN);
    assert.deepEqual(states(e.onReading(batch('m-stack', T0 + 10 * MIN, { so2: 400 }), T0 + 10 * MIN)), ['firing:critical']); // 400 * 14 / 10 = 560
    assert.deepEqual(states(e.onReading(batch('m-stack', T0 + 30 * MIN, { so2: 5000 }), T0 + 30 * MIN)), []); // O2 27 min old
    assert.equal(e.counters.noO2, 3);
  });
});

describe('hysteresis', () => {
  const cases: Array<[string, Record<string, unknown>, number[], string[][]]> = [
    ['clearFraction 0.9: 95 holds, exactly 90 clears', { hysteresis: { clearFraction: 0.9 } }, [101, 95, 90], [['firing:critical'], [], ['resolved:critical']]],
    ['clearDelta 5: exactly 95 clears', { hysteresis: { clearDelta: 5 } }, [101, 96, 95], [['firing:critical'], [], ['resolved:critical']]],
    ['an explicit clear level per level', { levels: { critical: { clear: 50 } } }, [101, 60, 50], [['firing:critical'], [], ['resolved:critical']]],
    ['none: at the limit clears', {}, [101, 100], [['firing:critical'], ['resolved:critical']]],
    ['warning and critical each hold at their own clear level', { levels: { warning: { factor: 0.8 }, critical: {} }, hysteresis: { clearFraction: 0.9 } }, [101, 91, 90, 73, 72],
      [['firing:critical'], [], ['firing:warning'], [], ['resolved:warning']]],
    ['outside with clearDelta: 6.05 holds, 6.1 clears', { op: 'outside', limit: { min: 6, max: 9 }, hysteresis: { clearDelta: 0.1 } }, [5.9, 6.05, 6.1], [['firing:critical'], [], ['resolved:critical']]],
  ];
  for (const [name, over, values, expected] of cases) {
    it(name, () => assert.deepEqual(feed(engine(rule(over)), 'm-ww', 'cod', values), expected));
  }
});
