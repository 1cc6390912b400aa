import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Meter } from '../contracts/park-registry.ts';
import { classifyStep, profileOf, registerProfile, type DeclaredChange, type RegisterProfile, type RegisterStep, type StepKind } from './register.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX = Number.MAX_VALUE;

const meter = (over: Partial<Meter>): Meter => ({ id: 'm', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import'], ...over });

/** 6000 per hour (100 per minute), wraps at 100,000. */
const rated = profileOf({ maxStepPerHour: 6000, rolloverAt: 100_000 });
/** The issue's meter: rolloverAt 1e6, contractedKw 6000, no maxStepPerHour: wraps judged at 9000 kWh/h, 150 per minute. */
const issueMeter = registerProfile(meter({ contractedKw: 6000, ratings: { active_energy_import: { rolloverAt: 1_000_000 } } }), 'active_energy_import');
/** rolloverAt only: a whole range in no less than 100 hours, 1000 per hour. */
const rolloverOnly = profileOf({ rolloverAt: 100_000 });
const unrated = profileOf({});

type Expect = [consumed: number, kind: StepKind, event?: RegisterStep['event']];
type Case = [name: string, profile: RegisterProfile, prev: [number, number], cur: [number, number], expected: Expect];

function check([, profile, [t0, v0], [t1, v1], [consumed, kind, event]]: Case): void {
  const step = classifyStep({ ts: t0, value: v0 }, { ts: t1, value: v1 }, profile);
  assert.ok(Math.abs(step.consumed - consumed) <= 1e-9 * Math.max(1, Math.abs(consumed)), `consumed ${step.consumed}, expected ${consumed}`);
  assert.equal(step.kind, kind);
  assert.equal(step.event, event);
  assert.ok(Number.isFinite(step.consumed) && Number.isFinite(step.refused), 'finite');
  // Only implausible steps refuse a change, and they book nothing.
  if (kind === 'jump' || kind === 'reset' || kind === 'swap') assert.ok(step.refused > 0 && step.consumed === 0, `refused ${step.refused}`);
  else assert.equal(step.refused, 0);
}

describe('register classification: what a step between two readings is', () => {
  const cases: Case[] = [
    // rises
    ['a rise within the rating is consumption', rated, [0, 5000], [MIN, 5060], [60, 'count']],
    ['no change is zero', rated, [0, 5000], [MIN, 5000], [0, 'count']],
    ['a rise beyond the rating over one minute is a jump, excluded', rated, [0, 5000], [MIN, 5150], [0, 'jump', 'swap']],
    ['the same rise over two minutes is plausible (the rating scales with time)', rated, [0, 5000], [2 * MIN, 5150], [150, 'count']],
    ['readings closer than the cadence are judged over one cadence', rated, [0, 5000], [10_000, 5090], [90, 'count']],
    ['unrated: any rise counts (nothing to judge it by)', unrated, [0, 5000], [MIN, 900_000], [895_000, 'count']],
    ['the issue meter without maxStepPerHour: a rise is not bounded by the wrap rate', issueMeter, [0, 523_410], [MIN, 900_000], [376_590, 'count']],
    // rollovers: near the top and plausible for the elapsed time
    ['a fall near the top wraps: rolloverAt - prev + value', rated, [0, 99_990], [MIN, 40], [50, 'rollover', 'rollover']],
    ['the issue: 999999.7 -> 0.4 at rolloverAt 1e6 is a 0.7 kWh rollover', issueMeter, [0, 999_999.7], [MIN, 0.4], [0.7, 'rollover', 'rollover']],
    ['rolloverAt only: a wrap within range / 100 h', rolloverOnly, [0, 99_990], [MIN, 5], [15, 'rollover', 'rollover']],
    ['a wrap beyond the plausible step is no rollover: reset, nothing booked', rated, [0, 99_950], [MIN, 90], [0, 'reset', 'reset']],
    ['a fall to the bottom exactly from the top exactly wraps nothing away', rated, [0, 100_000], [MIN, 0], [0, 'rollover', 'rollover']],
    // falls mid-range: zero consumption, the new value is the baseline
    ['the issue: 523411 -> 0.0 mid-range is a reset with zero consumption', issueMeter, [0, 523_411], [MIN, 0], [0, 'reset', 'reset']],
    ['a fall mid-range to near zero is a reset, not the new value as consumption', rated, [0, 5000], [MIN, 20], [0, 'reset', 'reset']],
    ['a fall to an unrelated non-zero value is a swap', rated, [0, 5000], [MIN, 3000], [0, 'swap', 'swap']],
    ['rolloverAt only: a fall from the lower half is a reset', rolloverOnly, [0, 40_000], [MIN, 5], [0, 'reset', 'reset']],
    ['unrated: a fall to 1 % of the previous value is a reset', unrated, [0, 5000], [MIN, 40], [0, 'reset', 'reset']],
    ['unrated: a fall to zero is a reset', unrated, [0, 5000], [MIN, 0], [0, 'reset', 'reset']],
    ['unrated: a fall to 60 % is a swap', unrated, [0, 5000], [MIN, 3000], [0, 'swap', 'swap']],
    // long gaps widen the plausible amount, not "near the top"
    ['three days offline, then a small wrap near the top: rollover', rated, [0, 99_990], [3 * DAY, 40], [50, 'rollover', 'rollover']],
    ['one day offline near the top, a large wrap the rate allows: rollover', rated, [0, 95_000], [DAY, 30_000], [35_000, 'rollover', 'rollover']],
    ['thirty days offline, a fall from mid-range: still a reset, nothing invented', rated, [0, 50_000], [30 * DAY, 10], [0, 'reset', 'reset']],
    ['the issue meter thirty days offline: 523411 -> 0 is still a reset', issueMeter, [0, 523_411], [30 * DAY, 0], [0, 'reset', 'reset']],
    // hostile values
    ['a fall to a negative value is no wrap and no reset: a swap', rated, [0, 99_990], [MIN, -5], [0, 'swap', 'swap']],
    ['a register above its rated range does not wrap', rated, [0, 120_000], [MIN, 10], [0, 'reset', 'reset']],
    ['values 2e308 apart saturate: a finite step', unrated, [0, -1e308], [MIN, 1e308], [MAX, 'count']],
    ['a fall of 2e308 stays finite and books nothing', profileOf({ rolloverAt: MAX }), [0, 1e308], [MIN, -1e308], [0, 'swap', 'swap']],
    ['a rise of 1e308 beyond a rating is a jump, finite', rated, [0, 0], [MIN, 1e308], [0, 'jump', 'swap']],
  ];
  for (const c of cases) it(c[0], () => check(c));
});

describe('register classification across declared swaps and resets', () => {
  const change = (at: number, kind: DeclaredChange['kind'], oldFinal: number, newInitial: number): DeclaredChange => ({ at, kind, oldFinal, newInitial, reference: 'WO-1' });
  const swapAt30s = profileOf({ maxStepPerHour: 6000, rolloverAt: 100_000 }, { changes: [change(30_000, 'swap', 5030, 10)] });
  const resetAt30s = profileOf({ maxStepPerHour: 6000 }, { changes: [change(30_000, 'reset', 5030, 0)] });
  const twoChanges = profileOf({}, { changes: [change(20_000, 'swap', 5010, 100), change(40_000, 'reset', 150, 0)] });
  const atCur = profileOf({ maxStepPerHour: 6000 }, { changes: [change(MIN, 'swap', 5050, 10)] });
  const cases: Case[] = [
    ['a declared swap: prev -> oldFinal and newInitial -> cur, exactly', swapAt30s, [0, 5000], [MIN, 40], [60, 'declared', 'declared-swap']],
    ['a declared reset: the old register\'s last part and the count since zero', resetAt30s, [0, 5000], [MIN, 25], [55, 'declared', 'declared-reset']],
    ['two declarations between two readings are walked in order', twoChanges, [0, 5000], [MIN, 7], [10 + 50 + 7, 'declared', 'declared-reset']],
    ['a declaration at the reading\'s time: that reading is the new register\'s', atCur, [0, 5000], [MIN, 12], [52, 'declared', 'declared-swap']],
    ['a declaration before the previous reading is already behind: a plain step', swapAt30s, [40_000, 10], [100_000, 50], [40, 'count']],
    ['a declaration after the reading does not apply yet: the fall is judged plainly', swapAt30s, [-MIN, 5000], [0, 40], [0, 'reset', 'reset']],
  ];
  for (const c of cases) it(c[0], () => check(c));

  it('a declaration the readings contradict books only what is plausible and reports the segment', () => {
    // The old register read 5000 and is declared to have ended at 4000: that fall is no consumption.
    const p = profileOf({ maxStepPerHour: 6000 }, { changes: [change(30_000, 'swap', 4000, 10)] });
    const step = classifyStep({ ts: 0, value: 5000 }, { ts: MIN, value: 40 }, p);
    assert.deepEqual([step.consumed, step.kind, step.event, step.refused, step.change?.reference], [30, 'swap', 'swap', 1000, 'WO-1']);
  });
});

describe('registerProfile: the plausible wrap rate and its source', () => {
  const cases: Array<[string, Meter, string, number, string]> = [
    ['the rating when there is one', meter({ contractedKw: 6000, ratings: { active_energy_import: { maxStepPerHour: 500, rolloverAt: 1e6 } } }), 'active_energy_import', 500, 'rating'],
    ['electricity: contractedKw x 1.5', meter({ contractedKw: 6000 }), 'active_energy_import', 9000, 'contracted-kw'],
    ['electricity reactive energy: contractedKw x 1.5', meter({ contractedKw: 2000, metrics: ['reactive_energy'] }), 'reactive_energy', 3000, 'contracted-kw'],
    ['another kind with rolloverAt: the range over 100 hours', meter({ kind: 'water', metrics: ['water_intake'], ratings: { water_intake: { rolloverAt: 100_000 } } }), 'water_intake', 1000, 'register-size'],
    ['nothing known: no rate (and no rollover possible)', meter({ kind: 'gas', metrics: ['gas_volume'] }), 'gas_volume', Infinity, 'none'],
  ];
  for (const [name, m, metric, rate, source] of cases) {
    it(name, () => {
      const p = registerProfile(m, metric as 'active_energy_import');
      assert.deepEqual([p.wrapRatePerHour, p.wrapRateSource], [rate, source]);
    });
  }
  it('takes the cadence and the metric\'s declarations, in time order, at epoch ms', () => {
    const m = meter({
      cadenceSeconds: 300,
      metrics: ['active_energy_import', 'reactive_energy'],
      registerChanges: [
        { at: '2026-11-27T10:00:00+08:00', metric: 'active_energy_import', kind: 'swap', oldFinal: 5, newInitial: 0, reference: 'WO-2' },
        { at: '2026-11-01T00:00:00Z', metric: 'reactive_energy', kind: 'reset', oldFinal: 9, newInitial: 0, reference: 'WO-1' },
      ],
    });
    const p = registerProfile(m, 'active_energy_import');
    assert.equal(p.cadenceMs, 300_000);
    assert.deepEqual(p.changes, [{ at: Date.UTC(2026, 10, 27, 2), kind: 'swap', oldFinal: 5, newInitial: 0, reference: 'WO-2' }]);
  });
});
