/** Clock-hour means judged with validity (minCompleteness) and O2 correction, and the completeness kind, on an injected clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AggregateEvent } from '../../../shared/contracts/events.ts';
import { demoParkPath, loadParkRegistry } from '../../../shared/contracts/park-registry.ts';
import { WindowAggregator } from '../../aggregator/domain/window-aggregator.ts';
import { RulesEngine, type Transition } from './engine.ts';
import { defaultRulePackPath, parseRulePack, type PackIssue } from './pack.ts';
import { EipError } from '../../../shared/errors.ts';
import { agg, engine, HOUR, MIN, packText, rule, states, T0 } from './testing.ts';

/** A meter window as the aggregator emits it: count, expected and completeness from a 5-minute (stack) or 2-minute (SPARING) cadence. */
function win(metric: string, meter: string, hour: number, mean: number, count: number, expected: number, revision = 0): AggregateEvent {
  return { ...agg({ metric, window: '1h', start: T0 + hour * HOUR, meter, mean, count, revision }), expected, completeness: count / expected };
}

const so2Hour = rule({ id: 'so2-1h', selector: { metric: 'so2', meters: ['m-stack'] }, input: 'aggregate', window: '1h', limit: 'registry', o2Correction: true });

describe('validity: an hour below minCompleteness is reported incomplete, not judged', () => {
  const cases: Array<[string, number, Record<string, unknown>, string[], number]> = [
    ['8 of 12 five-minute values (66.7 %): incomplete, not judged', 8, {}, [], 1],
    ['9 of 12 (exactly 75 %, "at least 75 %"): valid and judged', 9, {}, ['firing:critical'], 0],
    ['9 of 12 with minCompleteness 0.8: incomplete', 9, { minCompleteness: 0.8 }, [], 1],
    ['12 of 12: judged', 12, {}, ['firing:critical'], 0],
  ];
  for (const [name, count, over, expected, incomplete] of cases) {
    it(name, () => {
      const e = engine(rule({ selector: { metric: 'so2', meters: ['m-stack'] }, input: 'aggregate', window: '1h', limit: 550, ...over }));
      assert.deepEqual(states(e.onAggregate(win('so2', 'm-stack', 0, 900, count, 12), T0 + HOUR)), expected);
      assert.equal(e.counters.incomplete, incomplete);
    });
  }

  it('an incomplete hour is neither a breach nor a clear; its revision with the resent records is judged', () => {
    const e = engine(rule({ selector: { metric: 'so2', meters: ['m-stack'] }, input: 'aggregate', window: '1h', limit: 550 }));
    assert.deepEqual(states(e.onAggregate(win('so2', 'm-stack', 0, 900, 12, 12), T0 + HOUR)), ['firing:critical']);
    assert.deepEqual(states(e.onAggregate(win('so2', 'm-stack', 1, 100, 3, 12), T0 + 2 * HOUR)), [], 'an incomplete low hour does not clear it');
    const st = e.snapshot().states[0];
    assert.deepEqual(st?.iw, [T0 + HOUR, 0.25], 'the state names the incomplete hour');
    assert.equal(st?.a?.s, 'firing');
    const out = e.onAggregate(win('so2', 'm-stack', 1, 120, 12, 12, 1), T0 + 3 * HOUR);
    assert.deepEqual(states(out), ['resolved:critical'], 'late data completed the hour: judged, clear');
    assert.match(out[0]?.event.provenance.detail ?? '', /1h mean 120, 100\.0 % complete/);
    assert.equal(e.snapshot().states[0]?.iw, undefined);
  });

  it('a 24-hour mean (window: 1d, the park\'s local day) is judged the same way', () => {
    const e = engine(rule({ selector: { metric: 'cod', meters: ['m-ww'] }, input: 'aggregate', window: '1d', limit: 'registry' }));
    const day = (i: number, mean: number, count: number, revision = 0) => ({ ...agg({ metric: 'cod', window: '1d', start: T0 + i * 24 * HOUR, meter: 'm-ww', mean, count, revision }), expected: 720, completeness: count / 720 });
    assert.deepEqual(states(e.onAggregate(day(0, 120, 500), T0)), [], '69 % of the day: incomplete');
    assert.deepEqual(states(e.onAggregate(day(0, 120, 700, 1), T0)), ['firing:critical'], 'the resent records complete it: judged');
    assert.deepEqual(states(e.onAggregate(day(1, 90, 720), T0)), ['resolved:critical']);
  });

  it('windows without completeness (tenant and park roll-ups) are judged as they are', () => {
    const e = engine(rule({ selector: { metric: 'active_power', scope: 'tenant' }, input: 'aggregate', window: '15m', limit: 10 }));
    assert.deepEqual(states(e.onAggregate(agg({ metric: 'active_power', window: '15m', start: T0, tenant: 't1', mean: 11, count: 1 }), T0)), ['firing:critical']);
  });
});

describe('clock-hour SO2 means with O2 correction against the permit (SO2 550 mg/Nm3 at 7 % O2)', () => {
  const cases: Array<[string, number, number, string[], number]> = [
    // name, SO2 hour mean, O2 hour mean, transitions, corrected value
    ['500 at 9 % O2 breaches only after correction: 500 x 14 / 12 = 583.3', 500, 9, ['firing:critical'], 500 * 14 / 12],
    ['600 at 3 % O2 is within the permit after correction: 600 x 14 / 18 = 466.7', 600, 3, [], 600 * 14 / 18],
    ['exactly 550 after correction is not a breach (above is strict)', 550 * 12 / 14, 9, [], 550],
  ];
  for (const [name, so2, o2, expected, corrected] of cases) {
    it(name, () => {
      for (const o2First of [false, true]) {
        const e = engine(so2Hour);
        const first = o2First ? win('o2', 'm-stack', 0, o2, 12, 12) : win('so2', 'm-stack', 0, so2, 12, 12);
        const second = o2First ? win('so2', 'm-stack', 0, so2, 12, 12) : win('o2', 'm-stack', 0, o2, 12, 12);
        assert.deepEqual(states(e.onAggregate(first, T0 + HOUR)), [], 'waits for the same hour of the other stream');
        const out = e.onAggregate(second, T0 + HOUR);
        assert.deepEqual(states(out), expected, `${o2First ? 'O2' : 'SO2'} first`);
        if (out[0]) {
          assert.ok(Math.abs((out[0].event.provenance.values[0] ?? 0) - corrected) < 1e-9);
          assert.deepEqual(out[0].event.provenance.window, { start: T0, end: T0 + HOUR });
          assert.match(out[0].event.provenance.detail ?? '', /O2-corrected to 7 % \(O2 9 %\), the same window's mean/);
          assert.match(out[0].event.provenance.detail ?? '', /permit SO2/);
        }
      }
    });
  }

  it('pairs by window: another hour\'s O2 is not used; a revised O2 hour judges the hour again', () => {
    const e = engine(so2Hour);
    assert.deepEqual(states(e.onAggregate(win('o2', 'm-stack', 1, 9, 12, 12), T0)), []);
    assert.deepEqual(states(e.onAggregate(win('so2', 'm-stack', 0, 500, 12, 12), T0)), [], 'hour 0 has no O2 yet');
    assert.deepEqual(states(e.onAggregate(win('o2', 'm-stack', 0, 7, 12, 12), T0)), [], '500 at 7 %: at reference, within');
    assert.deepEqual(states(e.onAggregate(win('o2', 'm-stack', 0, 9, 12, 12, 1), T0)), ['firing:critical'], 'the O2 hour revised to 9 %: 583.3');
    assert.deepEqual(states(e.onAggregate(win('o2', 'm-stack', 0, 9, 12, 12, 1), T0)), [], 'a replay changes nothing');
    assert.equal(e.counters.duplicates, 1);
  });

  it('keeps a bounded pairing state when the O2 stream never comes (6 windows for a threshold, 48 for an exceedance share)', () => {
    const e = engine(so2Hour, rule({ id: 'share', kind: 'exceedance-share', selector: { metric: 'so2', meters: ['m-stack'] }, input: 'aggregate', window: '1h', limit: 'registry', levels: { critical: { threshold: 0.05 } }, params: { over: '90d' }, o2Correction: true }));
    for (let i = 0; i < 100; i++) assert.deepEqual(states(e.onAggregate(win('so2', 'm-stack', i, 900, 12, 12), T0)), []);
    const sizes = Object.fromEntries(e.snapshot().states.map((r) => [r.rule, r.o2w?.length]));
    assert.deepEqual(sizes, { 'so2-1h': 6 * 8, share: 48 * 8 });
    assert.deepEqual(states(e.onAggregate(win('o2', 'm-stack', 99, 9, 12, 12), T0)), ['firing:critical'], 'the newest hour is still paired when its O2 comes');
    assert.deepEqual(states(e.onAggregate(win('o2', 'm-stack', 10, 9, 12, 12), T0)), [], 'an hour older than the windows kept is not judged');
  });

  it('an O2 hour below minCompleteness makes the corrected hour incomplete', () => {
    const e = engine(so2Hour);
    e.onAggregate(win('so2', 'm-stack', 0, 900, 12, 12), T0);
    assert.deepEqual(states(e.onAggregate(win('o2', 'm-stack', 0, 9, 6, 12), T0)), []);
    assert.equal(e.counters.incomplete, 1);
  });

  it('an unusable O2 (21 % or more) is not judged', () => {
    const e = engine(so2Hour);
    e.onAggregate(win('so2', 'm-stack', 0, 900, 12, 12), T0);
    assert.deepEqual(states(e.onAggregate(win('o2', 'm-stack', 0, 21, 12, 12), T0)), []);
    assert.equal(e.counters.noO2, 1);
  });

  it('exceedance share counts the corrected valid hours; an incomplete hour is not an operating hour', () => {
    const e = engine(rule({ kind: 'exceedance-share', selector: { metric: 'so2', meters: ['m-stack'] }, input: 'aggregate', window: '1h', limit: 'registry', levels: { critical: { threshold: 0.3 } }, params: { over: '10h', minOperatingHours: 3 }, o2Correction: true }));
    const hour = (i: number, so2: number, count = 12): Transition[] => [...e.onAggregate(win('so2', 'm-stack', i, so2, count, 12), T0), ...e.onAggregate(win('o2', 'm-stack', i, 9, 12, 12), T0)];
    assert.deepEqual(states(hour(0, 500)), []); // 583.3: exceeding, 1 of 1 (fewer than 3 operating hours: not judged)
    assert.deepEqual(states(hour(1, 400)), []); // 466.7
    assert.deepEqual(states(hour(2, 500, 8)), []); // incomplete: neither
    assert.equal(e.counters.incomplete, 1);
    const out = hour(3, 400);
    assert.deepEqual(states(out), ['firing:critical']); // 1 of 3 operating hours (33 %)
    assert.deepEqual(out[0]?.event.provenance.values, [1 / 3, 1, 3]);
  });
});

describe('the completeness kind', () => {
  const ww = rule({ id: 'ww-ph-completeness', kind: 'completeness', selector: { metric: 'ph', meters: ['m-ww'] }, input: 'aggregate', window: '1h', limit: undefined, levels: { 'data-quality': {} } });

  it('fires when a SPARING hour falls below 75 % of its 30 records and clears when the revised hour is complete', () => {
    const e = engine(ww);
    assert.deepEqual(states(e.onAggregate(win('ph', 'm-ww', -1, 7, 5, 30), T0)), [], 'the first hour seen of a stream that started mid-hour sets the baseline');
    assert.deepEqual(states(e.onAggregate(win('ph', 'm-ww', 0, 7, 23, 30), T0 + HOUR)), [], '23 of 30 = 76.7 %');
    const fired = e.onAggregate(win('ph', 'm-ww', 1, 7, 20, 30), T0 + 2 * HOUR);
    assert.deepEqual(states(fired), ['firing:data-quality']);
    const p = fired[0]?.event.provenance;
    assert.deepEqual(p?.values, [20 / 30, 20, 30]);
    assert.equal(p?.threshold, 0.75);
    assert.match(p?.detail ?? '', /1h completeness 66\.7 % \(20 of 30 expected records\); below 75\.0 %/);
    assert.deepEqual(states(e.onAggregate(win('ph', 'm-ww', 1, 7, 20, 30), T0 + 2 * HOUR)), [], 'a replay');
    assert.deepEqual(states(e.onAggregate(win('ph', 'm-ww', 1, 7, 30, 30, 1), T0 + 3 * HOUR)), ['resolved:data-quality'], 'the logger resent its buffer');
  });

  it('an hour the stream skipped counts as empty when the next one arrives', () => {
    const e = engine(ww);
    e.onAggregate(win('ph', 'm-ww', 0, 7, 30, 30), T0 + HOUR);
    const out = e.onAggregate(win('ph', 'm-ww', 3, 7, 30, 30), T0 + 4 * HOUR);
    assert.deepEqual(states(out), ['firing:data-quality', 'resolved:data-quality']);
    assert.deepEqual(out[0]?.event.provenance.window, { start: T0 + HOUR, end: T0 + 3 * HOUR });
    assert.match(out[0]?.event.provenance.detail ?? '', /no ph record for 2h/);
    const quiet = engine({ ...ww, params: { gaps: false } });
    quiet.onAggregate(win('ph', 'm-ww', 0, 7, 30, 30), T0 + HOUR);
    assert.deepEqual(states(quiet.onAggregate(win('ph', 'm-ww', 3, 7, 30, 30), T0 + 4 * HOUR)), []);
  });

  it('judges a stack\'s local day too, with its own threshold', () => {
    const e = engine({ ...ww, id: 'stack-day', selector: { metric: 'so2', meters: ['m-stack'] }, window: '1d', minCompleteness: 0.9, params: { gaps: false } });
    const day = (i: number, count: number) => ({ ...agg({ metric: 'so2', window: '1d', start: T0 + i * 24 * HOUR, meter: 'm-stack', mean: 1, count }), expected: 288, completeness: count / 288 });
    assert.deepEqual(states(e.onAggregate(day(0, 270), T0)), [], '93.8 %');
    assert.deepEqual(states(e.onAggregate(day(1, 250), T0)), ['firing:data-quality'], '86.8 % < 90 %');
  });

  it('refuses what it cannot judge', () => {
    const refused = (over: Record<string, unknown>, pattern: RegExp) => {
      try {
        parseRulePack(packText({ ...ww, ...over }));
      } catch (err) {
        assert.ok(err instanceof EipError);
        const issues = (err.details?.issues as PackIssue[] | undefined) ?? [];
        assert.ok(issues.some((i) => pattern.test(`${i.field}: ${i.message}`)), issues.map((i) => `${i.field}: ${i.message}`).join('; '));
        return;
      }
      assert.fail('expected the pack to be refused');
    };
    refused({ input: 'reading', window: undefined }, /input: kind completeness works on aggregates only/);
    refused({ limit: 0.5 }, /limit: kind completeness judges against minCompleteness/);
    refused({ selector: { metric: 'ph', scope: 'tenant' } }, /selector.scope: completeness is a meter stream/);
    refused({ kind: 'rolling', minCompleteness: 0.5, params: { over: '3h' }, limit: 1 }, /minCompleteness: applies to kinds threshold, exceedance-share, completeness on aggregates/);
    refused({ minCompleteness: 1.5 }, /minCompleteness/);
  });
});

describe('the default pack on the aggregator\'s clock hours (demo park, Asia/Makassar)', () => {
  const demo = loadParkRegistry(demoParkPath);
  const pack = parseRulePack(readFileSync(defaultRulePackPath, 'utf8'), defaultRulePackPath);
  // 10:00 to 11:00 local (UTC+8) on a stack of the smelter: SO2 500 mg/Nm3 at 9 % O2, every 5 minutes,
  // after the demo park's permit revision of 2026-11-15 (550 mg/Nm3).
  const hourStart = Date.UTC(2026, 10, 20, 2);
  const stackReadings = (from: number, n: number, so2: number, o2: number) => ({
    v: 1 as const, park: 'nusantara-eip', tenant: 'sulawesi-nickel', meter: 'snk-stack-rkef1', seq: 0, receivedAt: from, simulated: false,
    readings: Array.from({ length: n }, (_, i) => [{ metric: 'so2', unit: 'mg/Nm3', value: so2, ts: from + i * 5 * MIN }, { metric: 'o2', unit: '%', value: o2, ts: from + i * 5 * MIN }]).flat(),
  });
  /** The hour before, complete and within the permit, then the hour under test. */
  const run = (n: number, so2: number, o2: number) => {
    const aggregator = new WindowAggregator({ registry: demo, windows: ['1m', '1h'], allowedLatenessMs: 0 });
    const rules = new RulesEngine(pack, demo);
    aggregator.record(stackReadings(hourStart - HOUR, 12, 300, 7));
    const before = aggregator.flush(hourStart).events.filter((e) => e.window === '1h' && e.scope === 'meter');
    assert.deepEqual(before.flatMap((w) => rules.onAggregate(w, hourStart)), []);
    aggregator.record(stackReadings(hourStart, n, so2, o2));
    const windows = aggregator.flush(hourStart + HOUR).events.filter((e) => e.window === '1h' && e.scope === 'meter');
    const out = windows.flatMap((w) => rules.onAggregate(w, hourStart + HOUR));
    return { windows, out, rules };
  };

  it('an hour of twelve 5-minute values above the permit after correction fires stack-so2-1h, judged on the local clock hour', () => {
    const { windows, out } = run(12, 500, 9);
    const so2 = windows.find((w) => w.metric === 'so2');
    assert.deepEqual([so2?.start, so2?.end, so2?.expected, so2?.completeness], [hourStart, hourStart + HOUR, 12, 1]);
    const fired = out.filter((t) => t.event.ruleId === 'stack-so2-1h');
    assert.deepEqual(states(fired), ['firing:critical']);
    assert.ok(Math.abs((fired[0]?.event.provenance.values[0] ?? 0) - 500 * 14 / 12) < 1e-9);
    assert.equal(fired[0]?.event.provenance.threshold, 550);
    assert.deepEqual(out.filter((t) => t.event.ruleId.endsWith('-completeness')), []);
  });

  it('8 of 12 values: the hour is incomplete, not judged, and the completeness rules raise data-quality alerts', () => {
    const { out, rules } = run(8, 900, 9);
    assert.deepEqual(out.filter((t) => t.event.ruleId === 'stack-so2-1h'), []);
    assert.ok(rules.counters.incomplete >= 1);
    assert.deepEqual(out.filter((t) => t.event.ruleId === 'stack-so2-completeness' || t.event.ruleId === 'stack-o2-completeness').map((t) => `${t.event.ruleId}:${t.event.state}:${t.event.severity}`).sort(),
      ['stack-o2-completeness:firing:data-quality', 'stack-so2-completeness:firing:data-quality']);
  });

  it('an O2 analyser reading ambient air: the corrected hour is not judged, and stack-o2-unusable raises a data-quality alert instead of silence', () => {
    const { out, rules } = run(12, 900, 21);
    assert.deepEqual(out.filter((t) => t.event.ruleId === 'stack-so2-1h'), [], 'SO2 900 cannot be corrected at 21 % O2');
    assert.ok(rules.counters.noO2 >= 1);
    const fired = rules.onReading(stackReadings(hourStart + HOUR, 3, 900, 21), hourStart + HOUR + 15 * MIN).filter((t) => t.event.ruleId === 'stack-o2-unusable');
    assert.deepEqual(states(fired), ['firing:data-quality']);
    const fresh = new RulesEngine(pack, demo);
    assert.deepEqual(fresh.onReading(stackReadings(hourStart, 12, 900, 20.5), hourStart + HOUR).filter((t) => t.event.ruleId === 'stack-o2-unusable'), [], 'a usable O2 raises nothing');
  });
});
