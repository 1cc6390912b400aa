/**
 * The roll-up stage: partials from several readings partitions (sources) make
 * the same tenant and park windows as one source holding every meter; windows
 * close on the slowest active source's watermark, idle sources stop holding it
 * back, late partials revise; the state survives a checkpoint. The clock is
 * injected: every call takes `now`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isMetricName, metricCatalogue } from '../../../shared/contracts/metric-catalogue.ts';
import { parseParkRegistry, RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import type { AggregateEvent, ReadingBatchEvent } from '../../../shared/contracts/events.ts';
import { parseRollupState, RollupCombiner, type RollupPartial, type SourceReport } from './rollups.ts';
import { WindowAggregator } from './window-aggregator.ts';

const T0 = Date.UTC(2026, 10, 27);
const SEC = 1000;
const MIN = 60 * SEC;
const IDLE = 10 * SEC;

const registry = new RegistryIndex(parseParkRegistry({
  version: 1,
  parks: [{
    id: 'p1', name: 'Test park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.7, source: 'test' } },
    tenants: [
      { id: 't1', name: 'one', sector: 'test', supplySource: 'grid', meters: ['m-a', 'm-b', 'm-c'].map((id) => ({ id, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import', 'active_power'] })) },
      { id: 't2', name: 'two', sector: 'test', supplySource: 'grid', meters: [{ id: 'm-d', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import', 'active_power'] }] },
    ],
  }],
}));

type R = [metric: string, ts: number, value: number];
function batch(meter: string, readings: R[], simulated = false): ReadingBatchEvent {
  const e = registry.meter(meter)!;
  return { v: 1, park: e.park.id, tenant: e.tenant.id, meter, seq: 0, receivedAt: T0, simulated, readings: readings.map(([metric, ts, value]) => ({ metric, unit: isMetricName(metric) ? metricCatalogue[metric].unit : '?', value, ts })) };
}

/** Two hours of power and energy for four meters; m-a and m-b read at the same instants (a tie for `last`). */
const readings: ReadingBatchEvent[] = [];
for (let i = 0; i < 120; i++) {
  const t = T0 + i * MIN;
  readings.push(batch('m-a', [['active_power', t + 30 * SEC, 10 + (i % 7)], ['active_energy_import', t + 30 * SEC, 1000 + 2 * i]]));
  readings.push(batch('m-b', [['active_power', t + 30 * SEC, 20 + (i % 5)], ['active_energy_import', t + 30 * SEC, 5000 + 3 * i]]));
  if (i % 3 === 0) readings.push(batch('m-c', [['active_power', t + 10 * SEC, 5]], true));
  readings.push(batch('m-d', [['active_power', t + 50 * SEC, 100 + i], ['active_energy_import', t + 50 * SEC, 70 + i]]));
}

const L = 30 * MIN;
const roll = (): RollupCombiner => new RollupCombiner({ allowedLatenessMs: L, idleSourceMs: IDLE });

/** Runs the readings through one WindowAggregator per source (meters split as given), every source flushed to the same watermarks. */
function run(split: string[][]): Map<string, AggregateEvent> {
  const sources = split.map(() => new WindowAggregator({ registry, allowedLatenessMs: L }));
  const sourceOf = new Map(split.flatMap((meters, i) => meters.map((m) => [m, i] as const)));
  const combiner = roll();
  const latest = new Map<string, AggregateEvent>();
  for (let k = 0; k < readings.length; k++) {
    const r = readings[k]!;
    sources[sourceOf.get(r.meter)!]!.record(r);
    if (k % 40 === 39 || k === readings.length - 1) {
      const wm = r.readings[0]!.ts;
      sources.forEach((s, i) => combiner.add({ source: i, watermark: wm, partials: s.flush(wm).partials }, 0));
      for (const e of combiner.flush(0)) latest.set(e.windowId, e);
    }
  }
  return latest;
}

const values = (e: AggregateEvent) => ({ count: e.count, sum: e.sum, min: e.min, max: e.max, mean: e.mean, last: e.last, consumption: e.consumption, registerEvents: e.registerEvents, simulated: e.simulated });

describe('RollupCombiner: partials of any split make the same roll-ups', () => {
  const one = run([['m-a', 'm-b', 'm-c', 'm-d']]);
  it('the reference run has tenant and park windows of every size', () => {
    for (const id of [`tenant:t1:active_power:1h:${T0}`, `park:p1:active_energy_import:1h:${T0}`, `tenant:t2:active_power:15m:${T0 + 45 * MIN}`, `park:p1:active_power:1m:${T0}`]) assert.ok(one.has(id), id);
    assert.ok(![...one.values()].some((e) => e.scope === 'meter'));
  });
  it('the tenant hour: every sample of its meters, consumption summed, last is the greater meter id on a tie', () => {
    const e = one.get(`tenant:t1:active_power:1h:${T0}`)!;
    assert.deepEqual([e.count, e.last, e.simulated], [60 + 60 + 20, 20 + (59 % 5), false]);
    assert.equal(one.get(`tenant:t1:active_energy_import:1h:${T0}`)!.consumption, 2 * 59 + 3 * 59);
  });
  const splits: Array<[string, string[][]]> = [
    ['each meter its own source', [['m-a'], ['m-b'], ['m-c'], ['m-d']]],
    ['tenant one across two sources, tied meters apart', [['m-b', 'm-d'], ['m-a', 'm-c']]],
    ['the tied meters together, in the higher source', [['m-c'], ['m-d'], ['m-a', 'm-b']]],
  ];
  for (const [name, split] of splits) {
    it(`${name}: the same windows with the same values`, () => {
      const many = run(split);
      assert.deepEqual([...many.keys()].sort(), [...one.keys()].sort());
      for (const [id, e] of one) assert.deepEqual(values(many.get(id)!), values(e), id);
    });
  }
});

/** A partial of tenant t1's 1-minute power window at `start` with one sample. */
function partial(start: number, value: number, meter = 'm-a', ts = start + SEC): RollupPartial {
  return { id: `tenant:t1:active_power:1m:${start}`, scope: 'tenant', park: 'p1', tenant: 't1', metric: 'active_power', unit: 'kW', cumulative: false, window: '1m', start, s: [1, value, value, value, ts, value, 1, 0, 0], lm: meter };
}
const report = (source: number, watermark: number | null, ...partials: RollupPartial[]): SourceReport => ({ source, sources: 2, watermark, partials });
/** The only source there is. */
const alone = (watermark: number, ...partials: RollupPartial[]): SourceReport => ({ source: 0, sources: 1, watermark, partials });
const brief = (out: AggregateEvent[]) => out.map((e) => `${(e.start - T0) / MIN}:r${e.revision}:n${e.count}:s${e.sum}`);

describe('RollupCombiner: when a roll-up window closes', () => {
  type Step = { at: number; add?: SourceReport; expect: string[] };
  const table: Array<[string, Step[]]> = [
    ['waits for the slowest active source, then emits once', [
      { at: 0, add: report(0, T0 + 5 * MIN, partial(T0, 1)), expect: [] },
      { at: 1, add: report(1, T0 + 30 * SEC), expect: [] },
      { at: 2, add: report(1, T0 + 2 * MIN, partial(T0, 2, 'm-b')), expect: ['0:r0:n2:s3'] },
      { at: 3, expect: [] },
    ]],
    ['a source silent for the idle period stops holding it back; its later partial revises', [
      { at: 0, add: report(0, T0 + 5 * MIN, partial(T0, 1)), expect: [] },
      { at: 0, add: report(1, T0 + 30 * SEC), expect: [] },
      { at: IDLE, expect: [] },
      { at: IDLE + 1, add: report(0, T0 + 6 * MIN), expect: ['0:r0:n1:s1'] },
      { at: IDLE + 2, add: report(1, T0 + 2 * MIN, partial(T0, 2, 'm-b')), expect: ['0:r1:n2:s3'] },
    ]],
    ['a redelivered report changes nothing', [
      { at: 0, add: alone(T0 + 2 * MIN, partial(T0, 1)), expect: ['0:r0:n1:s1'] },
      { at: 1, add: alone(T0 + 2 * MIN, partial(T0, 1)), expect: [] },
    ]],
    ['a newer partial of the same source replaces its older one', [
      { at: 0, add: alone(T0 + 2 * MIN, partial(T0, 1)), expect: ['0:r0:n1:s1'] },
      { at: 1, add: alone(T0 + 2 * MIN, partial(T0, 4)), expect: ['0:r1:n1:s4'] },
    ]],
    ['a partial past the allowed lateness is dropped', [
      { at: 0, add: report(0, T0 + MIN + L, partial(T0 + L, 1)), expect: [] },
      { at: 0, add: report(1, T0 + MIN + L), expect: ['30:r0:n1:s1'] },
      { at: 1, add: report(0, T0 + MIN + L, partial(T0, 9)), expect: [] },
      { at: 2, add: report(0, T0 + 2 * MIN + L, partial(T0 + L, 1)), expect: [] },
    ]],
    ['a source not heard from yet holds the roll-ups back for one idle period', [
      { at: 0, add: report(0, T0 + 5 * MIN, partial(T0, 1)), expect: [] },
      { at: IDLE, expect: [] },
      { at: IDLE + 1, expect: ['0:r0:n1:s1'] },
    ]],
    ['nothing closes before any source reports a watermark', [
      { at: 0, add: report(0, null, partial(T0, 1)), expect: [] },
      { at: 2 * IDLE, expect: [] },
    ]],
  ];
  for (const [name, steps] of table) {
    it(name, () => {
      const c = roll();
      steps.forEach((s, i) => {
        if (s.add) c.add(s.add, s.at);
        assert.deepEqual(brief(c.flush(s.at)), s.expect, `step ${i}`);
      });
    });
  }

  it('counts the late partials', () => {
    const c = roll();
    c.add({ source: 0, watermark: T0 + MIN + L, partials: [] }, 0);
    c.flush(0);
    const r = c.add(report(0, null, partial(T0, 1), partial(T0 + MIN, 1)), 1);
    assert.deepEqual([r.accepted, r.late], [1, 1]);
    // Not dropped: the whole forgotten window is to be recomputed from the stored meter windows.
    assert.deepEqual(r.recompute.map((q) => [q.partial.start, q.source]), [[T0, undefined]]);
    assert.equal(c.lateCount, 1);
  });
});

describe('RollupCombiner: checkpoint', () => {
  const steps: Array<[at: number, r: SourceReport]> = [
    [0, report(0, T0 + 2 * MIN, partial(T0, 1), partial(T0 + MIN, 2))],
    [1, report(1, T0 + 30 * SEC, partial(T0, 3, 'm-b'))],
    [2, report(1, T0 + 3 * MIN, partial(T0 + 2 * MIN, 5, 'm-b'))],
    [3, report(0, T0 + 3 * MIN, partial(T0, 7))],
    [IDLE + 10, report(0, T0 + 4 * MIN, partial(T0 + 3 * MIN, 1))],
    [IDLE + 11, report(1, T0 + 40 * MIN)],
    [IDLE + 12, report(0, T0 + 40 * MIN)],
  ];
  const apply = (c: RollupCombiner, [at, r]: [number, SourceReport]) => {
    c.add(r, at);
    return brief(c.flush(at));
  };
  const straight = roll();
  const expected = steps.map((s) => apply(straight, s));

  it('the scenario emits, revises and forgets', () => {
    assert.ok(expected.flat().some((x) => x.includes(':r1:')), expected.flat().join(' '));
    assert.equal(straight.openWindows, 0, 'every window past the allowance forgotten');
  });

  it('restoring from a JSON checkpoint after any step gives the same subsequent output', () => {
    for (let k = 0; k <= steps.length; k++) {
      const before = roll();
      for (const s of steps.slice(0, k)) apply(before, s);
      const at = k === 0 ? 0 : steps[k - 1]![0];
      const after = RollupCombiner.restore(parseRollupState(JSON.parse(JSON.stringify(before.snapshot()))), { allowedLatenessMs: L, idleSourceMs: IDLE }, at);
      assert.deepEqual(after.snapshot(), before.snapshot(), `round trip after step ${k}`);
      assert.deepEqual(steps.slice(k).map((s) => apply(after, s)), expected.slice(k), `output after a restart at step ${k}`);
    }
  });
});
