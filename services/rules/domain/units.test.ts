import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, formatDuration } from './duration.ts';
import { levelOf, resolveLevels } from './levels.ts';
import { correctToReferenceO2 } from '../../../shared/domain/o2.ts';
import { periodBounds } from '../../../shared/time-zones.ts';

describe('durations', () => {
  const cases: Array<[string | number, number | undefined]> = [['90s', 90_000], ['10m', 600_000], ['1h', 3_600_000], ['90d', 7_776_000_000], ['500ms', 500], ['1.5h', 5_400_000], [1000, 1000], ['soon', undefined], ['10', undefined], [0, undefined], ['-1m', undefined]];
  for (const [input, ms] of cases) it(`${JSON.stringify(input)} -> ${ms}`, () => assert.equal(parseDuration(input), ms));
  it('formats back', () => assert.deepEqual([formatDuration(600_000), formatDuration(86_400_000), formatDuration(1500)], ['10m', '1d', '1500ms']));
});

describe('O2 correction', () => {
  const cases: Array<[number, number, number, number | undefined]> = [[500, 7, 7, 500], [500, 9, 7, (500 * 14) / 12], [100, 15, 15, 100], [500, 21, 7, undefined], [500, -1, 7, undefined]];
  for (const [c, o2, ref, expected] of cases) it(`${c} at O2 ${o2} % to ${ref} % -> ${expected}`, () => assert.equal(correctToReferenceO2(c, o2, ref), expected));
});

describe('calendar periods in the park time zone', () => {
  it('Asia/Makassar (UTC+8): the local day and month', () => {
    const t = Date.UTC(2026, 0, 31, 17); // 1 February 01:00 local
    assert.deepEqual(periodBounds(t, 'day', 'Asia/Makassar'), [Date.UTC(2026, 0, 31, 16), Date.UTC(2026, 1, 1, 16)]);
    assert.deepEqual(periodBounds(t, 'month', 'Asia/Makassar'), [Date.UTC(2026, 0, 31, 16), Date.UTC(2026, 1, 28, 16)]);
  });
  it('a zone with daylight saving: the month that holds the change is 743 hours', () => {
    const [s, e] = periodBounds(Date.UTC(2026, 2, 15), 'month', 'Europe/Berlin');
    assert.equal(s, Date.UTC(2026, 1, 28, 23));
    assert.equal(e, Date.UTC(2026, 2, 31, 22));
    assert.equal((e - s) / 3_600_000, 743);
  });
});

describe('levelOf with hysteresis', () => {
  const levels = resolveLevels('compare', 'above', { warning: { factor: 0.8 }, critical: {} }, { value: 100 }, { clearFraction: 0.9 });
  assert.ok(Array.isArray(levels));
  const cases: Array<[number, number, number]> = [
    // value, current level, expected
    [80, -1, -1], [80.1, -1, 0], [100, -1, 0], [100.1, -1, 1], [95, 1, 1], [90, 1, 0], [72.1, 0, 0], [72, 0, -1], [95, 0, 0],
  ];
  for (const [v, cur, want] of cases) it(`${v} from level ${cur} -> ${want}`, () => assert.equal(levelOf('above', levels, v, cur), want));
});
