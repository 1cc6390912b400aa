import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coverRange, monthBounds } from './month-totals.ts';

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
