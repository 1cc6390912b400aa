/**
 * Numbering after the store: a replay after a restore that emits a window fewer
 * times than the run that died never reuses a revision number for other content.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AggregateEvent } from '../../../shared/contracts/events.ts';
import { contentHash, numberAfterStore, type StoredRevisions } from './revisions.ts';
import { RollupCombiner, parseRollupState, type RollupPartial, type SourceReport } from './rollups.ts';
import { WindowAggregator, parseAggregatorState } from './window-aggregator.ts';
import { lateRegistry, lateStart } from '../../../test/helpers/late-data.ts';
import type { ReadingBatchEvent } from '../../../shared/contracts/events.ts';

const base: AggregateEvent = {
  v: 1, windowId: 'meter:m:active_power:1m:0', revision: 0, scope: 'meter', park: 'p', tenant: 't', meter: 'm', metric: 'active_power', unit: 'kW',
  window: '1m', start: 0, end: 60_000, count: 1, sum: 5, min: 5, max: 5, mean: 5, last: 5, registerEvents: [], completeness: 1, expected: 1, lastAt: 0, simulated: false,
};

/** The store as the runtime leaves it: the last write of each window wins. */
function storeOf(...emissions: AggregateEvent[][]): StoredRevisions {
  const m = new Map<string, { revision: number; hash: number }>();
  for (const e of emissions.flat()) m.set(e.windowId, { revision: e.revision, hash: contentHash(e) });
  return m;
}

/** Every (windowId, revision) names one content across all the emissions. */
function oneContentPerNumber(...emissions: AggregateEvent[][]): void {
  const seen = new Map<string, number>();
  for (const e of emissions.flat()) {
    const key = `${e.windowId}@${e.revision}`;
    const h = contentHash(e);
    assert.equal(seen.get(key) ?? h, h, `${key} names two contents`);
    seen.set(key, h);
  }
}

describe('numberAfterStore', () => {
  it('keeps the provisional number when the store holds nothing', () => {
    assert.deepEqual(numberAfterStore({ ...base, revision: 2 }, new Map()), { revision: 2, hash: contentHash(base), outcome: 'kept' });
  });
  it('takes the stored number for the same content (a repeat)', () => {
    assert.equal(numberAfterStore({ ...base, revision: 0 }, storeOf([{ ...base, revision: 3 }])).revision, 3);
    assert.equal(numberAfterStore({ ...base, revision: 0 }, storeOf([{ ...base, revision: 3 }])).outcome, 'repeat');
  });
  it('goes past the stored number for other content, never below the provisional one', () => {
    const other = { ...base, sum: 6, max: 6, last: 6, mean: 6 };
    assert.deepEqual([numberAfterStore({ ...other, revision: 0 }, storeOf([{ ...base, revision: 3 }])).revision, numberAfterStore({ ...other, revision: 7 }, storeOf([{ ...base, revision: 3 }])).revision], [4, 7]);
  });
});

describe('a restored roll-up combiner replaying its partials in one batch', () => {
  const opts = { allowedLatenessMs: 3_600_000, idleSourceMs: 60_000 };
  const partial = (sum: number, count: number): RollupPartial => ({
    id: 'tenant:t:active_power:1m:0', scope: 'tenant', park: 'p', tenant: 't', metric: 'active_power', unit: 'kW', cumulative: false, window: '1m', start: 0, end: 60_000,
    s: [count, sum, 1, sum, 59_000, 1, count, 0, 0], lm: 'm',
  });
  const report = (p: RollupPartial, watermark: number): SourceReport => ({ source: 0, sources: 1, watermark, partials: [p] });

  it('numbers the window after what the run that died emitted', () => {
    const a = new RollupCombiner(opts);
    a.add(report(partial(1, 1), 0), 0);
    const checkpoint = parseRollupState(JSON.parse(JSON.stringify(a.snapshot())));
    // After the checkpoint: the window closes (revision 0), then is revised (1).
    const r = [report(partial(2, 2), 61_000), report(partial(3, 3), 61_000)];
    a.add(r[0]!, 1);
    const before0 = a.flush(1);
    a.add(r[1]!, 2);
    const before1 = a.flush(2);
    assert.deepEqual([...before0, ...before1].map((e) => e.revision), [0, 1]);

    const b = RollupCombiner.restore(checkpoint, opts, 3);
    b.replaying = true;
    for (const x of r) b.add(x, 3);
    b.replaying = false;
    const replay = b.flush(3);
    const unverified = b.takeUnverified();
    assert.equal(unverified.length, 1, 'the window the replay changed is to be numbered after the store');
    b.confirmRevisions(unverified, storeOf(before0, before1));
    assert.deepEqual(replay.map((e) => [e.revision, e.sum]), [[1, 3]], 'the same content as revision 1: a repeat of it');
    // A partial after the restore: the next number, not one already seen.
    b.add(report(partial(4, 4), 61_000), 4);
    const after = b.flush(4);
    assert.deepEqual(after.map((e) => [e.revision, e.sum]), [[2, 4]]);
    oneContentPerNumber(before0, before1, replay, after);
  });
});

describe('a restored window aggregator replaying its readings in one batch', () => {
  const registry = lateRegistry('rev-park');
  const opts = { registry, allowedLatenessMs: 7_200_000, outOfOrdernessMs: 5_000, idleSeriesMs: 60_000, windows: ['1m', '15m'] as const };
  const at = (dt: number, value: number): ReadingBatchEvent => ({ v: 1, park: 'rev-park', tenant: 't1', meter: 'live-a', seq: 0, receivedAt: lateStart + dt, simulated: false, readings: [{ metric: 'active_power', unit: 'kW', value, ts: lateStart + dt }] });

  it('numbers a minute revised after the checkpoint after what the store holds', () => {
    const a = new WindowAggregator({ ...opts, windows: [...opts.windows] });
    a.record(at(0, 10));
    const checkpoint = parseAggregatorState(JSON.parse(JSON.stringify(a.snapshot())));
    const after = [at(90_000, 11), at(30_000, 12)];
    a.record(after[0]!);
    const e0 = a.flush(lateStart + 85_000).events;
    a.record(after[1]!);
    const e1 = a.flush(lateStart + 85_000).events;
    const minute = (es: AggregateEvent[]): AggregateEvent[] => es.filter((e) => e.window === '1m' && e.start === lateStart);
    assert.deepEqual([...minute(e0), ...minute(e1)].map((e) => e.revision), [0, 1]);

    const b = WindowAggregator.restore(checkpoint, { ...opts, windows: [...opts.windows] });
    b.replaying = true;
    for (const x of after) b.record(x);
    b.replaying = false;
    const replay = b.flush(lateStart + 85_000);
    b.confirmRevisions(replay.unverified, storeOf(e0, e1));
    assert.deepEqual(minute(replay.events).map((e) => [e.revision, e.count]), [[1, 2]]);
    b.record(at(45_000, 13));
    const later = b.flush(lateStart + 85_000).events;
    assert.deepEqual(minute(later).map((e) => [e.revision, e.count]), [[2, 3]]);
    oneContentPerNumber(e0, e1, replay.events, later);
  });

  it('without the store check a replay reuses a number for other content (what the check is for)', () => {
    const a = new WindowAggregator({ ...opts, windows: [...opts.windows] });
    a.record(at(0, 10));
    const checkpoint = parseAggregatorState(JSON.parse(JSON.stringify(a.snapshot())));
    a.record(at(90_000, 11));
    const e0 = a.flush(lateStart + 85_000).events;
    a.record(at(30_000, 12));
    const e1 = a.flush(lateStart + 85_000).events;
    const b = WindowAggregator.restore(checkpoint, { ...opts, windows: [...opts.windows] });
    for (const x of [at(90_000, 11), at(30_000, 12)]) b.record(x);
    const replay = b.flush(lateStart + 85_000).events;
    assert.throws(() => oneContentPerNumber(e0, e1, replay), /names two contents/);
  });
});
