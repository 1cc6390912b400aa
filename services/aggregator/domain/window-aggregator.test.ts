import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateEventSchema, windowMs, type AggregateEvent, type ReadingBatchEvent, type WindowSize } from '../../../shared/contracts/events.ts';
import { isMetricName, metricCatalogue } from '../../../shared/contracts/metric-catalogue.ts';
import { demoParkPath, loadParkRegistry, parseParkRegistry, RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import { parseAggregatorState, parseRollupState, RollupCombiner, watermarkFrom, WindowAggregator, windowIdOf, type AggregatorState, type WindowAggregatorOptions } from './window-aggregator.ts';
import { byWindow } from './rollups.ts';

const T0 = Date.UTC(2026, 10, 27); // a UTC midnight: every window size starts here (the test park keeps UTC)
const SEC = 1000;
const MIN = 60 * SEC;
const H = 60 * MIN;
const D = 24 * H;

/**
 * t1: m-a (rated register: 100 kWh per minute, wraps at 100 000) and m-b
 * (unrated); t2: m-c (5-minute cadence, unrated).
 */
const registry = new RegistryIndex(
  parseParkRegistry({
    version: 1,
    parks: [
      {
        id: 'p1', name: 'Test park', country: 'ID', timezone: 'UTC', usedAreaHa: 10,
        emissionFactors: { grid: { kgCo2ePerKwh: 0.7, source: 'test' } },
        tenants: [
          {
            id: 't1', name: 'Tenant one', sector: 'test', supplySource: 'grid',
            meters: [
              { id: 'm-a', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import', 'active_power'], ratings: { active_energy_import: { maxStepPerHour: 6000, rolloverAt: 100_000 } } },
              { id: 'm-b', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import', 'active_power'] },
            ],
          },
          {
            id: 't2', name: 'Tenant two', sector: 'test', supplySource: 'grid',
            meters: [{ id: 'm-c', kind: 'electricity', cadenceSeconds: 300, metrics: ['active_energy_import', 'active_power'] }],
          },
        ],
      },
    ],
  }),
);

type R = [metric: string, ts: number, value: number];

function batch(meter: string, readings: R[], simulated = false, index = registry): ReadingBatchEvent {
  const e = index.meter(meter);
  assert.ok(e, `test meter ${meter}`);
  return {
    v: 1, park: e.park.id, tenant: e.tenant.id, meter, seq: 0, receivedAt: T0, simulated,
    readings: readings.map(([metric, ts, value]) => ({ metric, unit: isMetricName(metric) ? metricCatalogue[metric].unit : '?', value, ts })),
  };
}

/**
 * One readings partition's aggregator feeding the roll-up stage, as one
 * aggregator instance holding every partition runs them: flush() gives the
 * meter windows and the roll-ups they close. (The roll-up stage with several
 * sources has its own tests in rollups.test.ts.)
 */
class Pipeline {
  readonly agg: WindowAggregator;
  readonly rollups: RollupCombiner;
  constructor(agg: WindowAggregator, rollups: RollupCombiner) {
    this.agg = agg;
    this.rollups = rollups;
  }
  static of(o: WindowAggregatorOptions): Pipeline {
    return new Pipeline(new WindowAggregator(o), new RollupCombiner({ allowedLatenessMs: o.allowedLatenessMs, idleSourceMs: MIN }));
  }
  record(e: ReadingBatchEvent): ReturnType<WindowAggregator['record']> {
    return this.agg.record(e);
  }
  flush(watermark: number): AggregateEvent[] {
    const r = this.agg.flush(watermark);
    this.rollups.add({ source: 0, watermark: this.agg.watermark ?? null, partials: r.partials }, 0);
    return [...r.events, ...this.rollups.flush(0)].sort(byWindow);
  }
  get openWindows(): number { return this.agg.openWindows; }
  get lateCount(): number { return this.agg.lateCount; }
  get maxEventTime(): number | undefined { return this.agg.maxEventTime; }
  get watermark(): number | undefined { return this.agg.watermark; }
  snapshot(): AggregatorState { return this.agg.snapshot(); }
  checkpoint(): string { return JSON.stringify({ agg: this.agg.snapshot(), rollups: this.rollups.snapshot() }); }
  static restore(json: string, o: WindowAggregatorOptions): Pipeline {
    const c = JSON.parse(json) as { agg: unknown; rollups: unknown };
    return new Pipeline(WindowAggregator.restore(parseAggregatorState(c.agg), o), RollupCombiner.restore(parseRollupState(c.rollups), { allowedLatenessMs: o.allowedLatenessMs, idleSourceMs: MIN }, 0));
  }
}

const make = (o: Partial<WindowAggregatorOptions> = {}): Pipeline => Pipeline.of({ registry, allowedLatenessMs: 0, ...o });
const byId = (events: AggregateEvent[], id: string): AggregateEvent | undefined => events.find((e) => e.windowId === id);
function one(events: AggregateEvent[], id: string): AggregateEvent {
  const e = byId(events, id);
  assert.ok(e, `expected ${id} among ${events.map((x) => x.windowId).join(', ')}`);
  return e;
}
const meterId = (meter: string, metric: string, size: WindowSize, start: number): string => windowIdOf('meter', meter, metric, size, start);
const meterEvents = (events: AggregateEvent[]): AggregateEvent[] => events.filter((e) => e.scope === 'meter');

describe('WindowAggregator: statistics per window', () => {
  // Recorded out of order; last must still be the latest by event time.
  const readings: R[] = [
    ['active_power', T0 + 20 * MIN, 9],
    ['active_power', T0 + 10 * SEC, 5],
    ['active_power', T0 + 2 * H, 4],
    ['active_power', T0 + 70 * SEC, 1],
    ['active_power', T0 + D + 5 * SEC, 100],
    ['active_power', T0 + 30 * MIN, 7],
  ];
  const agg = make();
  for (const r of readings) agg.record(batch('m-a', [r]));
  const out = agg.flush(T0 + 2 * D);

  const table: Array<[WindowSize, number, { count: number; sum: number; min: number; max: number; mean: number; last: number }]> = [
    ['1m', T0, { count: 1, sum: 5, min: 5, max: 5, mean: 5, last: 5 }],
    ['1m', T0 + MIN, { count: 1, sum: 1, min: 1, max: 1, mean: 1, last: 1 }],
    ['1m', T0 + 20 * MIN, { count: 1, sum: 9, min: 9, max: 9, mean: 9, last: 9 }],
    ['15m', T0, { count: 2, sum: 6, min: 1, max: 5, mean: 3, last: 1 }],
    ['15m', T0 + 15 * MIN, { count: 1, sum: 9, min: 9, max: 9, mean: 9, last: 9 }],
    ['15m', T0 + 30 * MIN, { count: 1, sum: 7, min: 7, max: 7, mean: 7, last: 7 }],
    ['1h', T0, { count: 4, sum: 22, min: 1, max: 9, mean: 5.5, last: 7 }],
    ['1h', T0 + 2 * H, { count: 1, sum: 4, min: 4, max: 4, mean: 4, last: 4 }],
    ['1d', T0, { count: 5, sum: 26, min: 1, max: 9, mean: 5.2, last: 4 }],
    ['1d', T0 + D, { count: 1, sum: 100, min: 100, max: 100, mean: 100, last: 100 }],
  ];
  for (const [size, start, expected] of table) {
    it(`${size} window at +${(start - T0) / MIN} min: count ${expected.count}, sum ${expected.sum}, min, max, mean, last`, () => {
      const e = one(out, meterId('m-a', 'active_power', size, start));
      const { count, sum, min, max, mean, last } = e;
      assert.deepEqual({ count, sum, min, max, mean, last }, expected);
      assert.equal(e.end, start + windowMs[size]);
      assert.equal(e.unit, 'kW');
      assert.equal(e.consumption, undefined, 'instantaneous metrics have no consumption');
      assert.deepEqual(e.registerEvents, []);
      assert.equal(e.completeness, expected.count / (windowMs[size] / MIN));
      assert.equal(e.revision, 0);
    });
  }
  it('emits one event per window with data, each valid against the contract', () => {
    // 6 + 5 + 3 + 2 windows with data, for the meter, its tenant and its park.
    assert.equal(meterEvents(out).length, 16);
    assert.equal(out.length, 48);
    for (const e of out) assert.deepEqual(aggregateEventSchema.parse(e), e);
  });
  it('orders the output by window end, size, scope and id', () => {
    for (let i = 1; i < out.length; i++) assert.ok(out[i - 1]!.end <= out[i]!.end);
    assert.equal(out[0]!.windowId, meterId('m-a', 'active_power', '1m', T0));
    assert.deepEqual(out.slice(0, 3).map((e) => e.scope), ['meter', 'tenant', 'park']);
  });
});

describe('WindowAggregator: window boundaries', () => {
  const table: Array<[string, number, WindowSize, number]> = [
    ['a reading at the start is in', T0, '1m', T0],
    ['a reading a millisecond before the end is in', T0 + MIN - 1, '1m', T0],
    ['a reading at the end is in the next window', T0 + MIN, '1m', T0 + MIN],
    ['15m: at the end of the first quarter hour', T0 + 15 * MIN, '15m', T0 + 15 * MIN],
    ['1h: a millisecond before the hour', T0 + H - 1, '1h', T0],
    ['1h: at the hour', T0 + H, '1h', T0 + H],
    ['1d: a millisecond before UTC midnight', T0 + D - 1, '1d', T0],
    ['1d: at UTC midnight', T0 + D, '1d', T0 + D],
  ];
  for (const [name, ts, size, start] of table) {
    it(`${name} (${size})`, () => {
      const agg = make({ windows: [size] });
      agg.record(batch('m-a', [['active_power', ts, 1]]));
      const out = meterEvents(agg.flush(ts + 2 * D));
      assert.deepEqual(out.map((e) => [e.start, e.end]), [[start, start + windowMs[size]]]);
    });
  }
  it('a window is emitted when the watermark reaches its end, not before', () => {
    const agg = make({ windows: ['1m'] });
    agg.record(batch('m-a', [['active_power', T0 + 30 * SEC, 1]]));
    assert.deepEqual(agg.flush(T0 + MIN - 1), []);
    assert.equal(meterEvents(agg.flush(T0 + MIN)).length, 1);
  });
});

describe('WindowAggregator: late data', () => {
  const L = 5 * MIN;
  it('revises an emitted window within the allowance, then drops and counts beyond it', () => {
    const agg = make({ windows: ['1m', '15m'], allowedLatenessMs: L });
    const rec = (ts: number, v: number) => agg.record(batch('m-a', [['active_power', ts, v]]));
    const w1m = meterId('m-a', 'active_power', '1m', T0);

    assert.deepEqual(rec(T0 + 10 * SEC, 2), { accepted: 1, late: 0, duplicates: 0, ignored: 0 });
    let out = agg.flush(T0 + MIN);
    assert.deepEqual([one(out, w1m).revision, one(out, w1m).count], [0, 1]);

    assert.deepEqual(rec(T0 + 30 * SEC, 4), { accepted: 1, late: 0, duplicates: 0, ignored: 0 });
    out = agg.flush(T0 + MIN); // same watermark: the revision still goes out
    assert.deepEqual([one(out, w1m).revision, one(out, w1m).count, one(out, w1m).sum], [1, 2, 6]);
    assert.deepEqual(agg.flush(T0 + MIN), [], 'nothing changed, nothing emitted');

    agg.flush(T0 + MIN + L - 1);
    assert.equal(rec(T0 + 40 * SEC, 1).accepted, 1, 'one millisecond inside the allowance');
    out = agg.flush(T0 + MIN + L - 1);
    assert.deepEqual([one(out, w1m).revision, one(out, w1m).count], [2, 3]);

    assert.deepEqual(agg.flush(T0 + MIN + L), [], 'the window is forgotten at end + allowance');
    assert.deepEqual(rec(T0 + 50 * SEC, 100), { accepted: 0, late: 1, duplicates: 0, ignored: 0 });
    assert.equal(agg.lateCount, 1);
    assert.deepEqual(agg.flush(T0 + MIN + L), []);

    // Lateness is judged on the smallest window: the dropped reading is in no size.
    out = agg.flush(T0 + 15 * MIN);
    const q = one(out, meterId('m-a', 'active_power', '15m', T0));
    assert.deepEqual([q.revision, q.count, q.sum], [0, 3, 7]);
  });

  it('ignores a smaller watermark: windows stay closed and forgotten', () => {
    const agg = make({ windows: ['1m'], allowedLatenessMs: L });
    agg.record(batch('m-a', [['active_power', T0 + 10 * SEC, 1]]));
    agg.flush(T0 + H);
    assert.deepEqual(agg.flush(T0), []);
    assert.equal(agg.watermark, T0 + H);
    assert.equal(agg.record(batch('m-a', [['active_power', T0 + 20 * SEC, 1]])).late, 1);
    assert.equal(agg.lateCount, 1);
  });

  const edge: Array<[string, number, number]> = [
    ['accepted one millisecond before end + allowance', -1, 0],
    ['late exactly at end + allowance', 0, 1],
    ['late after end + allowance', 1, 1],
  ];
  for (const [name, offset, late] of edge) {
    it(name, () => {
      const agg = make({ windows: ['1m'], allowedLatenessMs: L });
      agg.flush(T0 + MIN + L + offset);
      assert.equal(agg.record(batch('m-a', [['active_power', T0 + 59 * SEC, 1]])).late, late);
    });
  }
});

describe('WindowAggregator: register consumption', () => {
  type Scenario = [name: string, meter: string, readings: Array<[sec: number, value: number]>, perMinute: Record<number, [number, string[]]>, quarter: [number, string[]]];
  const scenarios: Scenario[] = [
    ['across windows: the first reading sets the baseline', 'm-a', [[0, 1000], [60, 1050], [120, 1110]], { 0: [0, []], 1: [50, []], 2: [60, []] }, [110, []]],
    ['within a window without an earlier reading: last minus first', 'm-a', [[0, 1000], [30, 1020], [60, 1040], [90, 1070]], { 0: [20, []], 1: [50, []] }, [70, []]],
    ['rollover at the rated rolloverAt', 'm-a', [[0, 99_950], [60, 99_990], [120, 40]], { 0: [0, []], 1: [40, []], 2: [50, ['rollover']] }, [90, ['rollover']]],
    ['reset to near zero: zero for that step, then the increase after it', 'm-a', [[0, 5000], [60, 5060], [120, 20], [180, 70]], { 1: [60, []], 2: [0, ['reset']], 3: [50, []] }, [110, ['reset']]],
    ['swap: a fall to an unrelated value is excluded', 'm-a', [[0, 5000], [60, 5060], [120, 3000], [180, 3040]], { 1: [60, []], 2: [0, ['swap']], 3: [40, []] }, [100, ['swap']]],
    ['implausible jump beyond the rating is excluded', 'm-a', [[0, 5000], [60, 5060], [120, 9000], [180, 9050]], { 1: [60, []], 2: [0, ['swap']], 3: [50, []] }, [110, ['swap']]],
    ['a gap scales the rating: 250 over 3 minutes is plausible', 'm-a', [[0, 5000], [180, 5250]], { 0: [0, []], 3: [250, []] }, [250, []]],
    ['unrated: fall to near zero is a reset, zero for that step', 'm-b', [[0, 5000], [60, 5100], [120, 40], [180, 100]], { 1: [100, []], 2: [0, ['reset']], 3: [60, []] }, [160, ['reset']]],
    ['unrated: fall to 60 % is a swap', 'm-b', [[0, 5000], [60, 3000], [120, 3100]], { 1: [0, ['swap']], 2: [100, []] }, [100, ['swap']]],
    ['several events in one quarter hour are all listed', 'm-a', [[0, 99_990], [60, 40], [120, 5], [180, 3000]], { 1: [50, ['rollover']], 2: [0, ['reset']], 3: [0, ['swap']] }, [50, ['rollover', 'reset', 'swap']]],
  ];
  const run = (meter: string, readings: Array<[number, number]>): AggregateEvent[] => {
    const agg = make({ windows: ['1m', '15m'], allowedLatenessMs: H });
    for (const [sec, value] of readings) agg.record(batch(meter, [['active_energy_import', T0 + sec * SEC, value]]));
    return meterEvents(agg.flush(T0 + 15 * MIN));
  };
  for (const [name, meter, readings, perMinute, [qc, qe]] of scenarios) {
    it(name, () => {
      const out = run(meter, readings);
      for (const [minute, [c, ev]] of Object.entries(perMinute)) {
        const e = one(out, meterId(meter, 'active_energy_import', '1m', T0 + Number(minute) * MIN));
        assert.deepEqual([e.consumption, e.registerEvents], [c, ev], `minute ${minute}`);
      }
      const q = one(out, meterId(meter, 'active_energy_import', '15m', T0));
      assert.deepEqual([q.consumption, q.registerEvents, q.unit], [qc, qe, 'kWh']);
    });
    it(`${name}: the same when the readings arrive in reverse order`, () => {
      assert.deepEqual(run(meter, [...readings].reverse()), run(meter, readings));
    });
  }

  it('a late register reading revises its own window and the next one', () => {
    const agg = make({ windows: ['1m'], allowedLatenessMs: 10 * MIN });
    agg.record(batch('m-a', [['active_energy_import', T0, 1000], ['active_energy_import', T0 + 2 * MIN, 1100]]));
    let out = agg.flush(T0 + 3 * MIN);
    assert.equal(one(out, meterId('m-a', 'active_energy_import', '1m', T0 + 2 * MIN)).consumption, 100);

    agg.record(batch('m-a', [['active_energy_import', T0 + MIN, 1040]]));
    out = agg.flush(T0 + 3 * MIN);
    assert.deepEqual(
      meterEvents(out).map((e) => [e.start - T0, e.revision, e.consumption]),
      [[MIN, 0, 40], [2 * MIN, 1, 60]],
      'the first window is unchanged and not re-emitted',
    );
    assert.deepEqual(out.filter((e) => e.scope === 'tenant').map((e) => [e.start - T0, e.revision, e.consumption]), [[MIN, 0, 40], [2 * MIN, 1, 60]]);
  });

  it('carries the last register value across forgotten windows', () => {
    const agg = make({ windows: ['1m'], allowedLatenessMs: 0 });
    agg.record(batch('m-a', [['active_energy_import', T0, 1000]]));
    agg.flush(T0 + MIN);
    assert.equal(agg.openWindows, 0);
    assert.deepEqual(agg.snapshot().series.map((s) => s.carry), [[T0, 1000]]);
    agg.record(batch('m-a', [['active_energy_import', T0 + MIN + 10 * SEC, 1030]]));
    assert.equal(one(agg.flush(T0 + 2 * MIN), meterId('m-a', 'active_energy_import', '1m', T0 + MIN)).consumption, 30);
  });

  it('a 1-day window sums its minutes, including minutes already forgotten', () => {
    const agg = make({ windows: ['1m', '1d'], allowedLatenessMs: 2 * MIN });
    let v = 10_000;
    const perMinute: number[] = [];
    for (let m = 0; m < 24 * 60; m += 7) {
      const step = (m * 13) % 90; // under the 100 kWh per minute rating
      v += step;
      agg.record(batch('m-a', [['active_energy_import', T0 + m * MIN, v]]));
      perMinute.push(...meterEvents(agg.flush(T0 + m * MIN)).map((e) => e.consumption ?? NaN));
    }
    const out = agg.flush(T0 + D);
    perMinute.push(...meterEvents(out).filter((e) => e.window === '1m').map((e) => e.consumption ?? NaN));
    const day = one(out, meterId('m-a', 'active_energy_import', '1d', T0));
    assert.equal(day.consumption, v - 10_000);
    assert.equal(perMinute.reduce((a, b) => a + b, 0), v - 10_000);
    assert.ok(agg.openWindows <= 4, `open windows ${agg.openWindows}`);
  });
});

describe('WindowAggregator: completeness', () => {
  const demo = loadParkRegistry(demoParkPath);
  it('SPARING at a 2-minute cadence: 25 of 30 records in an hour is 0.8333', () => {
    const agg = Pipeline.of({ registry: demo, allowedLatenessMs: 0 });
    const missing = new Set([3, 7, 11, 19, 23]);
    const readings: R[] = [];
    for (let slot = 0; slot < 30; slot++) if (!missing.has(slot)) readings.push(['ph', T0 + slot * 2 * MIN, 7 + slot / 100]);
    const sparing = batch('wwtp-sparing-outlet', readings, false, demo);
    agg.record(sparing);
    agg.record(sparing); // a resend counts once
    const out = agg.flush(T0 + D);
    const at = (size: WindowSize, start: number) => one(out, meterId('wwtp-sparing-outlet', 'ph', size, start)).completeness ?? NaN;
    assert.equal(at('1h', T0).toFixed(4), '0.8333');
    assert.equal(at('1h', T0), 25 / 30);
    assert.equal(at('15m', T0), 6 / 7.5, 'slots 0..7 minus 3 and 7');
    assert.equal(at('1m', T0), 1, 'a window shorter than the cadence expects one reading');
    assert.equal(at('1d', T0 - 8 * H), 25 / 720, 'the demo park keeps Asia/Makassar time: its day starts at 16:00 UTC');
    assert.equal(byId(out, 'tenant:park-wwtp:ph:1h:' + T0)?.completeness, undefined, 'no completeness for roll-ups');
  });
  it('can exceed 1 when a meter reports faster than its cadence', () => {
    const agg = make({ windows: ['15m'] });
    const readings: R[] = [];
    for (let m = 0; m < 15; m++) readings.push(['active_power', T0 + m * MIN, 1]);
    agg.record(batch('m-c', readings)); // 5-minute cadence: 3 expected
    assert.equal(one(agg.flush(T0 + 15 * MIN), meterId('m-c', 'active_power', '15m', T0)).completeness, 5);
  });
});

describe('WindowAggregator: tenant and park roll-ups', () => {
  const agg = make({ windows: ['15m'], allowedLatenessMs: 15 * MIN });
  agg.record(batch('m-a', [['active_power', T0 + MIN, 10], ['active_power', T0 + 5 * MIN, 30], ['active_energy_import', T0, 1000], ['active_energy_import', T0 + 10 * MIN, 1060]]));
  agg.record(batch('m-b', [['active_power', T0 + 2 * MIN, 20], ['active_power', T0 + 5 * MIN, 50], ['active_energy_import', T0 + MIN, 500], ['active_energy_import', T0 + 11 * MIN, 650]]));
  agg.record(batch('m-c', [['active_power', T0 + 3 * MIN, 100], ['active_energy_import', T0 + 2 * MIN, 10], ['active_energy_import', T0 + 12 * MIN, 5]], true));
  const out = agg.flush(T0 + 15 * MIN);
  const pick = (e: AggregateEvent) => ({ count: e.count, sum: e.sum, min: e.min, max: e.max, mean: e.mean, last: e.last, consumption: e.consumption, registerEvents: e.registerEvents, simulated: e.simulated });

  const table: Array<[string, string, ReturnType<typeof pick>]> = [
    ['tenant t1 power: samples of m-a and m-b; last on a tie goes to the greater meter id', `tenant:t1:active_power:15m:${T0}`,
      { count: 4, sum: 110, min: 10, max: 50, mean: 27.5, last: 50, consumption: undefined, registerEvents: [], simulated: false }],
    ['tenant t2 power: only m-c, simulated', `tenant:t2:active_power:15m:${T0}`,
      { count: 1, sum: 100, min: 100, max: 100, mean: 100, last: 100, consumption: undefined, registerEvents: [], simulated: true }],
    ['park power: every sample', `park:p1:active_power:15m:${T0}`,
      { count: 5, sum: 210, min: 10, max: 100, mean: 42, last: 50, consumption: undefined, registerEvents: [], simulated: false }],
    ['tenant t1 energy: the sum of the meters\' consumption', `tenant:t1:active_energy_import:15m:${T0}`,
      { count: 4, sum: 3210, min: 500, max: 1060, mean: 802.5, last: 650, consumption: 210, registerEvents: [], simulated: false }],
    ['tenant t2 energy: the swap is excluded and listed', `tenant:t2:active_energy_import:15m:${T0}`,
      { count: 2, sum: 15, min: 5, max: 10, mean: 7.5, last: 5, consumption: 0, registerEvents: ['swap'], simulated: true }],
    ['park energy: all tenants, events of any member', `park:p1:active_energy_import:15m:${T0}`,
      { count: 6, sum: 3225, min: 5, max: 1060, mean: 537.5, last: 5, consumption: 210, registerEvents: ['swap'], simulated: false }],
  ];
  for (const [name, id, expected] of table) it(name, () => assert.deepEqual(pick(one(out, id)), expected));

  it('roll-ups carry no meter and no completeness; tenant only for the tenant scope; unit from the catalogue', () => {
    const t = one(out, `tenant:t1:active_energy_import:15m:${T0}`);
    const p = one(out, `park:p1:active_energy_import:15m:${T0}`);
    assert.deepEqual([t.scope, t.park, t.tenant, t.meter, t.completeness, t.unit], ['tenant', 'p1', 't1', undefined, undefined, 'kWh']);
    assert.deepEqual([p.scope, p.park, p.tenant, p.meter, p.completeness], ['park', 'p1', undefined, undefined, undefined]);
    assert.equal(out.length, 12, '3 meters x 2 metrics, 2 tenants x 2, 1 park x 2');
  });

  it('a late reading of one meter revises that meter, its tenant and the park only', () => {
    agg.record(batch('m-b', [['active_power', T0 + 7 * MIN, 5]]));
    const again = agg.flush(T0 + 15 * MIN);
    assert.deepEqual(again.map((e) => [e.windowId, e.revision, e.count]), [
      [`meter:m-b:active_power:15m:${T0}`, 1, 3],
      [`tenant:t1:active_power:15m:${T0}`, 1, 5],
      [`park:p1:active_power:15m:${T0}`, 1, 6],
    ]);
  });
});

describe('WindowAggregator: idempotence and determinism', () => {
  const batches = [
    batch('m-a', [['active_power', T0 + 5 * SEC, 3], ['active_energy_import', T0 + 5 * SEC, 100]]),
    batch('m-b', [['active_power', T0 + 65 * SEC, 4], ['active_energy_import', T0 + 65 * SEC, 200]]),
    batch('m-a', [['active_power', T0 + 65 * SEC, 6], ['active_energy_import', T0 + 65 * SEC, 150]]),
    batch('m-c', [['active_power', T0 + 20 * MIN, 8]], true),
  ];
  const fresh = () => make({ allowedLatenessMs: 10 * MIN });

  it('recording every batch twice gives the same output as once', () => {
    const once = fresh();
    for (const b of batches) once.record(b);
    const twice = fresh();
    const results = batches.flatMap((b) => [twice.record(b), twice.record(b)]);
    assert.deepEqual(twice.flush(T0 + D), once.flush(T0 + D));
    assert.deepEqual(results.filter((_, i) => i % 2 === 1).map((r) => r.duplicates), [2, 2, 2, 1]);
  });

  it('a redelivery after the flush emits nothing', () => {
    const agg = fresh();
    for (const b of batches) agg.record(b);
    assert.ok(agg.flush(T0 + 2 * MIN).length > 0);
    for (const b of batches) assert.deepEqual(agg.record(b), { accepted: 0, late: 0, duplicates: b.readings.length, ignored: 0 });
    assert.deepEqual(agg.flush(T0 + 2 * MIN), []);
  });

  it('the same (meter, metric, ts) with a new value keeps the later value and revises', () => {
    const agg = fresh();
    agg.record(batch('m-a', [['active_power', T0 + 5 * SEC, 5]]));
    agg.flush(T0 + MIN);
    assert.equal(agg.record(batch('m-a', [['active_power', T0 + 5 * SEC, 7]])).accepted, 1);
    const e = one(agg.flush(T0 + MIN), meterId('m-a', 'active_power', '1m', T0));
    assert.deepEqual([e.revision, e.count, e.sum, e.last], [1, 1, 7, 7]);
  });

  it('a window is simulated only when all its readings were', () => {
    const agg = fresh();
    agg.record(batch('m-a', [['active_power', T0 + 5 * SEC, 5]], true));
    agg.record(batch('m-a', [['active_power', T0 + 65 * SEC, 5]], true));
    agg.record(batch('m-a', [['active_power', T0 + 70 * SEC, 5]], false));
    const out = agg.flush(T0 + 15 * MIN);
    assert.equal(one(out, meterId('m-a', 'active_power', '1m', T0)).simulated, true);
    assert.equal(one(out, meterId('m-a', 'active_power', '1m', T0 + MIN)).simulated, false);
    assert.equal(one(out, meterId('m-a', 'active_power', '15m', T0)).simulated, false);
  });

  it('ignores readings of meters or metrics it cannot place', () => {
    const agg = fresh();
    const foreign: ReadingBatchEvent = { ...batch('m-a', [['active_power', T0, 1]]), meter: 'ghost' };
    assert.deepEqual(agg.record(foreign), { accepted: 0, late: 0, duplicates: 0, ignored: 1 });
    assert.deepEqual(agg.record(batch('m-a', [['warp_drive', T0, 1], ['active_power', T0, 1]])), { accepted: 1, late: 0, duplicates: 0, ignored: 1 });
  });

  it('window ids are deterministic: the same input gives the same ids in two instances', () => {
    const run = () => {
      const agg = fresh();
      for (const b of batches) agg.record(b);
      return agg.flush(T0 + D).map((e) => e.windowId);
    };
    const ids = run();
    assert.deepEqual(run(), ids);
    assert.ok(ids.includes(`meter:m-a:active_power:1m:${T0}`));
    assert.ok(ids.includes(`tenant:t1:active_energy_import:15m:${T0}`));
    assert.ok(ids.includes(`park:p1:active_power:1d:${T0}`));
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('WindowAggregator: snapshot and restore', () => {
  type Step = { kind: 'record'; event: ReadingBatchEvent } | { kind: 'flush'; wm: number };
  const L = 20 * MIN;
  const options: WindowAggregatorOptions = { registry, allowedLatenessMs: L };

  // Four hours across UTC midnight: in-order and late readings, a reading too late,
  // redeliveries, a rollover and a simulated meter, flushed every 15 minutes.
  const steps: Step[] = [];
  let energy = 99_000;
  const sent: ReadingBatchEvent[] = [];
  for (let i = 0; i < 48; i++) {
    const t = T0 - 2 * H + i * 5 * MIN;
    energy = (energy + 150 + (i % 4) * 20) % 100_000;
    const e = batch('m-a', [['active_energy_import', t, energy], ['active_power', t + 30 * SEC, 40 + (i % 7)]]);
    steps.push({ kind: 'record', event: e });
    sent.push(e);
    steps.push({ kind: 'record', event: batch('m-c', [['active_power', t + 2 * MIN, 10 + (i % 3)], ['active_energy_import', t + 2 * MIN, 500 + i * 7]], true) });
    if (i % 5 === 2) {
      steps.push({ kind: 'record', event: batch('m-b', [['active_power', t - 12 * MIN, i], ['active_energy_import', t - 12 * MIN, 300 + i * 40]]) });
      steps.push({ kind: 'record', event: batch('m-a', [['active_power', t - 10 * MIN + 10 * SEC, 99]]) });
    }
    if (i % 9 === 4) steps.push({ kind: 'record', event: batch('m-b', [['active_power', t - 90 * MIN, 1]]) });
    if (i % 6 === 5) steps.push({ kind: 'record', event: sent[i - 3]! });
    if (i % 3 === 2) steps.push({ kind: 'flush', wm: watermarkFrom(t, 2 * MIN) });
  }
  steps.push({ kind: 'flush', wm: T0 + 3 * H });

  const apply = (agg: Pipeline, step: Step): unknown => (step.kind === 'record' ? agg.record(step.event) : agg.flush(step.wm));
  const straight = Pipeline.of(options);
  const expected = steps.map((s) => apply(straight, s));

  it('the scenario exercises revisions, late drops, rollovers and day windows', () => {
    const events = expected.flat().filter((x): x is AggregateEvent => typeof x === 'object' && x !== null && 'windowId' in x);
    assert.ok(events.some((e) => e.revision > 0), 'revisions');
    assert.ok(straight.lateCount > 0, 'late drops');
    assert.ok(events.some((e) => e.registerEvents.includes('rollover')), 'rollover');
    assert.ok(events.some((e) => e.window === '1d' && e.start === T0 - D), 'the day before midnight closed');
  });

  it('restoring from a JSON checkpoint after any step gives the same subsequent output', () => {
    for (let k = 0; k <= steps.length; k++) {
      const before = Pipeline.of(options);
      for (const s of steps.slice(0, k)) apply(before, s);
      const after = Pipeline.restore(before.checkpoint(), options);
      assert.deepEqual(after.snapshot(), before.snapshot(), `snapshot round trip after step ${k}`);
      const rest = steps.slice(k).map((s) => apply(after, s));
      assert.deepEqual(rest, expected.slice(k), `output after a restart at step ${k}`);
      assert.equal(after.lateCount, straight.lateCount);
    }
  });

  it('the JSON checkpoint, its windows encoded once and kept until they change, equals a fresh full snapshot after every step', () => {
    const agg = new WindowAggregator(options);
    let restored: WindowAggregator | undefined;
    steps.forEach((step, k) => {
      for (const a of [agg, restored]) if (a) void (step.kind === 'record' ? a.record(step.event) : a.flush(step.wm));
      const json = agg.snapshotJson();
      assert.deepEqual(JSON.parse(json), agg.snapshot(), `after step ${k}`);
      if (restored) assert.deepEqual(JSON.parse(restored.snapshotJson()), restored.snapshot(), `restored, after step ${k}`);
      if (k === Math.floor(steps.length / 2)) restored = WindowAggregator.restore(parseAggregatorState(JSON.parse(json)), options);
    });
    assert.deepEqual(agg.snapshot(), straight.snapshot());
  });

  it('keeps the checkpoint small: only open windows, and registers\' last values once everything closed', () => {
    const agg = WindowAggregator.restore(straight.snapshot(), options);
    agg.flush(T0 + 3 * D);
    const snap = agg.snapshot();
    assert.equal(agg.openWindows, 0);
    assert.deepEqual(snap.series.map((s) => [s.meter, s.metric, s.fine.length, s.coarse.length, s.carry !== undefined]), [
      ['m-a', 'active_energy_import', 0, 0, true],
      ['m-c', 'active_energy_import', 0, 0, true],
      ['m-b', 'active_energy_import', 0, 0, true],
    ]);
    assert.deepEqual(snap.rollups, []);
    assert.ok(JSON.stringify(straight.snapshot()).length < 20_000, `checkpoint of ${JSON.stringify(straight.snapshot()).length} characters`);
  });

  it('refuses a checkpoint made with other window sizes, and a malformed one', () => {
    assert.throws(() => WindowAggregator.restore(straight.snapshot(), { ...options, windows: ['15m', '1h'] }), /windows 1m, 15m, 1h, 1d but 15m, 1h are configured/);
    assert.throws(() => parseAggregatorState({ v: 1, windows: [] }), /aggregator checkpoint is invalid/);
    assert.throws(() => parseAggregatorState({ ...straight.snapshot(), late: -1 }), /late/);
    const snap = straight.snapshot();
    const shifted = { ...snap, series: snap.series.map((s) => ({ ...s, coarse: s.coarse.map((c) => ({ ...c, s: c.s + 1 })) })) };
    assert.throws(() => WindowAggregator.restore(shifted, options), /not on a 1d boundary/);
  });

  it('drops series of meters no longer in the registry', () => {
    const snap = straight.snapshot();
    const ghost = { ...snap, series: [...snap.series, { meter: 'ghost', metric: 'active_power', fine: [{ s: T0, x: [[0, 1] as [number, number]] }], coarse: [] }] };
    assert.deepEqual(WindowAggregator.restore(ghost, options).snapshot(), snap);
  });
});

describe('watermarkFrom and configuration', () => {
  const table: Array<[number, number, number]> = [
    [T0 + 10 * MIN, 2 * MIN, T0 + 8 * MIN],
    [T0, 0, T0],
    [-Infinity, MIN, -Infinity],
  ];
  for (const [max, delay, wm] of table) it(`watermarkFrom(${max}, ${delay}) = ${wm}`, () => assert.equal(watermarkFrom(max, delay), wm));
  it('refuses a negative or non-finite out-of-orderness', () => {
    assert.throws(() => watermarkFrom(T0, -1), RangeError);
    assert.throws(() => watermarkFrom(T0, NaN), RangeError);
  });
  it('a bounded out-of-orderness keeps a reading that late in an open window', () => {
    const agg = make({ windows: ['1m'] });
    agg.record(batch('m-a', [['active_power', T0 + 10 * MIN, 1]]));
    agg.flush(watermarkFrom(agg.maxEventTime!, 2 * MIN));
    assert.equal(agg.record(batch('m-a', [['active_power', T0 + 8 * MIN, 1]])).late, 0);
    assert.equal(agg.record(batch('m-a', [['active_power', T0 + 8 * MIN - 1, 1]])).late, 1);
  });
  it('refuses bad options with the setting named', () => {
    assert.throws(() => make({ windows: [] }), /windows must name at least one/);
    assert.throws(() => make({ allowedLatenessMs: -1 }), /allowedLatenessMs/);
    assert.throws(() => make({ windows: ['5m' as WindowSize] }), /unknown window size "5m"/);
  });
});
