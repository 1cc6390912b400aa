import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeFlat, judgeLag, percentile } from './judge.ts';
import { bucketsDelta, bucketsQuantile, histogramBuckets, histogramQuantile } from '../lib.ts';

const series = (lags: number[]) => lags.map((lag, i) => ({ atMs: i * 5_000, lag }));

test('a lag that wobbles below the bound is bounded; one that climbs or crosses it is not', () => {
  assert.equal(judgeLag(series([9_000, 300, 800, 200, 900, 400, 700, 300, 600, 500]), 5_000).bounded, true);
  const climbing = judgeLag(series([0, 100, 400, 800, 1_200, 1_600, 2_000, 2_400, 2_800, 3_200]), 5_000);
  assert.equal(climbing.growing, true);
  assert.equal(climbing.bounded, false);
  assert.equal(judgeLag(series([0, 100, 100, 6_000, 100, 100, 100, 100, 100, 100]), 5_000).bounded, false);
  assert.equal(judgeLag([], 5_000).bounded, false);
});

test('flatness is max over min after warm-up, within the tolerance', () => {
  assert.deepEqual(judgeFlat([100, 105, 109]), { min: 100, max: 109, ratio: 1.09, flat: true });
  assert.equal(judgeFlat([100, 105, 111]).flat, false);
  assert.equal(judgeFlat([]).flat, false);
});

test('histogram quantiles over what one phase added', () => {
  const page = (n: [number, number, number]) => [
    `h_bucket{le="0.01"} ${n[0]}`, `h_bucket{le="0.1"} ${n[1]}`, `h_bucket{le="+Inf"} ${n[2]}`, 'h_count 1', 'other_bucket{le="0.01"} 99',
  ].join('\n');
  const before = histogramBuckets(page([100, 100, 100]), 'h');
  const after = histogramBuckets(page([100, 200, 200]), 'h');
  const delta = bucketsDelta(before, after);
  assert.deepEqual([...delta], [[0.01, 0], [0.1, 100], [Infinity, 100]]);
  // Every new observation lies between 0.01 and 0.1: the median is interpolated inside it.
  assert.ok(Math.abs(bucketsQuantile(delta, 0.5) - 0.055) < 1e-9);
  assert.ok(bucketsQuantile(after, 0.5) <= 0.01);
  assert.ok(Number.isNaN(bucketsQuantile(bucketsDelta(after, after), 0.5)));
  assert.equal(histogramQuantile(page([100, 200, 200]), 'h', 0.5), bucketsQuantile(after, 0.5));
});

test('nearest-rank percentile', () => {
  assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
  assert.equal(percentile([5, 1, 4, 2, 3], 99), 5);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.equal(percentile([NaN, 7, NaN], 100), 7);
});
