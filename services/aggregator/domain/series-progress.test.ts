import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadingBatchEvent } from '../../../shared/contracts/events.ts';
import { H, lateRegistry, lateStart as T0, MIN } from '../../../test/helpers/late-data.ts';
import { WindowAggregator, parseAggregatorState, type WindowAggregatorOptions } from './window-aggregator.ts';
import { windowStart } from './windows.ts';

const park = 'p-progress';
const registry = lateRegistry(park);
const L = 2 * H;
const options = (o: Partial<WindowAggregatorOptions> = {}): WindowAggregatorOptions => ({ registry, allowedLatenessMs: L, outOfOrdernessMs: 5_000, idleSeriesMs: MIN, windows: ['1m', '1h', '1d'], ...o });

function power(meter: string, ...ts: number[]): ReadingBatchEvent {
  return { v: 1, park, tenant: meter === 'live-b' ? 't2' : 't1', meter, seq: 0, receivedAt: 0, simulated: false, readings: ts.map((t) => ({ metric: 'active_power', unit: 'kW', value: 1, ts: t })) };
}

describe('WindowAggregator: event-time progress per series', () => {
  // The logger last read at `loggerAt`; the live meter is at `liveAt`; the flush watermark follows the live meter.
  const lateness: Array<[name: string, loggerAt: number, liveAt: number, reading: number, late: boolean]> = [
    ['a logger a little behind: its next reading is on time', T0 + 10 * MIN, T0 + 40 * MIN, T0 + 12 * MIN, false],
    ['the logger behind by more than the allowance, a reading of a window it never opened: on time', T0 + 10 * MIN, T0 + 5 * H, T0 + 3 * H, false],
    ['older than what the partition made every series forget: backfilled, not dropped', T0 + 10 * MIN, T0 + 5 * H, T0 + 2 * H, true],
    ['within the live meter\'s allowance', T0 + 10 * MIN, T0 + 3 * H, T0 + H + 30 * MIN, false],
  ];
  for (const [name, loggerAt, liveAt, reading, late] of lateness) {
    it(name, () => {
      const agg = new WindowAggregator(options());
      agg.record(power('logger', loggerAt));
      agg.record(power('live-a', liveAt));
      agg.flush(liveAt - 5_000);
      const r = agg.record(power('logger', reading));
      assert.deepEqual([r.accepted, r.late], late ? [0, 1] : [1, 0]);
      const backfills = agg.takeBackfills();
      assert.equal(backfills.length, late ? 1 : 0);
      if (late) {
        const q = backfills[0]!;
        // From the start of the park's local day (Asia/Makassar) holding the reading.
        assert.deepEqual([q.meter, q.metric, q.from, q.readings.map((x) => x.ts)], ['logger', 'active_power', windowStart(reading, '1d', 'Asia/Makassar'), [reading]]);
        assert.ok(q.to <= q.limit && q.limit <= liveAt - 5_000 - MIN - L + MIN, 'never past what the series forgot');
      }
    });
  }

  // When the logger's 1-minute window [T0, T0+1m) is emitted: by its own progress, or the partition's less the idle allowance.
  const closing: Array<[name: string, idleSeriesMs: number, loggerNext: number | undefined, watermark: number, emitted: boolean]> = [
    ['its own next reading closes it', MIN, T0 + 2 * MIN, T0 + 30_000, true],
    ['its own progress within the out-of-orderness keeps it open', MIN, T0 + MIN + 4_000, T0 + 30_000, false],
    ['silent, the partition past its end by the idle allowance closes it', MIN, undefined, T0 + 2 * MIN, true],
    ['silent, the partition not yet past by the idle allowance', 5 * MIN, undefined, T0 + 2 * MIN, false],
  ];
  for (const [name, idleSeriesMs, loggerNext, watermark, emitted] of closing) {
    it(name, () => {
      const agg = new WindowAggregator(options({ idleSeriesMs }));
      agg.record(power('logger', T0 + 10_000));
      if (loggerNext !== undefined) agg.record(power('logger', loggerNext));
      const out = agg.flush(watermark);
      assert.equal(out.events.some((e) => e.meter === 'logger' && e.window === '1m' && e.start === T0), emitted);
    });
  }

  // What the roll-up stage is told every series has flushed to.
  const flushed: Array<[name: string, loggerAt: number | undefined, flushedTo: number]> = [
    ['every series there: the watermark', undefined, T0 + H],
    ['a series lagging whose windows the idle allowance closed: the watermark', T0 + H - 5 * MIN, T0 + H],
    ['a series lagging with a window still open: its own progress', T0 + H - 2 * MIN, T0 + H - 2 * MIN - 5_000],
    ['a series 2.5 minutes behind with a window still open: its own progress', T0 + H - 150_000, T0 + H - 155_000],
  ];
  for (const [name, loggerAt, flushedTo] of flushed) {
    it(name, () => {
      const agg = new WindowAggregator(options({ idleSeriesMs: 3 * MIN, windows: ['1m'] }));
      agg.record(power('live-a', T0 + H + 5_000));
      if (loggerAt !== undefined) agg.record(power('logger', loggerAt));
      agg.flush(T0 + H);
      assert.equal(agg.flushedTo, flushedTo);
    });
  }

  it('state stays bounded by the allowance, not the history, and survives a checkpoint', () => {
    const agg = new WindowAggregator(options());
    for (let t = T0; t < T0 + 3 * 24 * H; t += 2 * MIN) {
      agg.record(power('live-a', t));
      agg.flush(t - 5_000);
    }
    // 2 h of 1-minute windows at a 2-minute cadence, the hours and the day around them.
    assert.ok(agg.openWindows <= 2 * 60 / 2 + 2 + 3 + 2, `${agg.openWindows} windows held`);
    const restored = WindowAggregator.restore(parseAggregatorState(JSON.parse(JSON.stringify(agg.snapshot()))), options());
    assert.deepEqual(restored.snapshot(), agg.snapshot());
    assert.equal(restored.record(power('live-a', T0 + 3 * 24 * H - 3 * H)).late, 1, 'forgotten before the checkpoint, forgotten after');
  });

  it('a checkpoint made with one long allowance restores under the short own-progress one, which forgets more at the next sweep', () => {
    const old = new WindowAggregator(options());
    for (let t = T0; t < T0 + 4 * H; t += 2 * MIN) {
      old.record(power('live-a', t));
      old.flush(t - 5_000);
    }
    const split = options({ allowedLatenessMs: 5 * MIN, partitionLatenessMs: L });
    const restored = WindowAggregator.restore(parseAggregatorState(JSON.parse(JSON.stringify(old.snapshot()))), split);
    assert.equal(restored.openWindows, old.openWindows, 'nothing lost at restore');
    const last = T0 + 4 * H;
    restored.record(power('live-a', last));
    restored.flush(last - 5_000);
    // The 1-minute windows ending within 5 minutes and 5 s of the newest reading (2-minute cadence), the hours and the day around them.
    assert.ok(old.openWindows > 60 && restored.openWindows <= 4 + 2 + 1, `${old.openWindows} windows held before, ${restored.openWindows} after`);
    assert.deepEqual([restored.record(power('live-a', last - 10 * MIN)).late, restored.record(power('live-a', last - 4 * MIN)).late], [1, 0]);
  });

  it('the partition allowance is never shorter than the own-progress one', () => {
    const agg = new WindowAggregator(options({ allowedLatenessMs: L, partitionLatenessMs: 0 }));
    agg.record(power('logger', T0 + 10 * MIN));
    agg.record(power('live-a', T0 + H + 30 * MIN));
    agg.flush(T0 + H + 30 * MIN - 5_000);
    assert.equal(agg.record(power('logger', T0 + 12 * MIN)).late, 0);
  });

  it('the final summaries the roll-ups hold go to the checkpoint once per series and restore the same', () => {
    const split = options({ allowedLatenessMs: 5 * MIN, partitionLatenessMs: L });
    const agg = new WindowAggregator(split);
    agg.record(power('logger', T0 + MIN));
    for (let t = T0; t < T0 + 40 * MIN; t += 2 * MIN) {
      agg.record(power('live-a', t));
      agg.record(power('live-b', t));
      agg.flush(t - 5_000);
    }
    const snap = parseAggregatorState(JSON.parse(JSON.stringify(agg.snapshot())));
    const finals = snap.series.flatMap((st) => (st.z ?? []).map(([w, start, sum]) => ({ st, w, start, sum })));
    assert.ok(finals.length > 10, `${finals.length} final summaries, per series`);
    // As after a graceful stop: the windows the checkpoint held unemitted are not numbered after the store (revisions.test.ts).
    const restored = [WindowAggregator.restore(snap, split)];
    for (const back of restored) back.trustRestored();
    for (const back of restored) assert.deepEqual(parseAggregatorState(JSON.parse(JSON.stringify(back.snapshot()))), snap);
    // The silent logger's reading then revises its tenant and park windows (their other members long forgotten) as it does without the restart.
    agg.record(power('logger', T0 + 20 * MIN));
    const expected = agg.flush(T0 + 40 * MIN);
    assert.ok(expected.partials.some((p) => p.scope === 'park' && p.start === T0 + 20 * MIN && p.s[0] === 3), 'the park minute folds the logger with the two live meters');
    for (const back of restored) {
      back.record(power('logger', T0 + 20 * MIN));
      assert.deepEqual(back.flush(T0 + 40 * MIN), expected);
    }
  });
});
