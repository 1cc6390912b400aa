import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etaMs, formatSeconds, fractionDone, progressBar, progressLine, type LoadProgress } from './load-progress.ts';

const base: LoadProgress = { sent: 0, acknowledged: 0, failed: 0, readings: 0, elapsedMs: 0, count: null, durationMs: null };

const cases: { name: string; p: Partial<LoadProgress>; fraction: number | null; eta: number | null }[] = [
  { name: 'count, a quarter done in 2 s', p: { acknowledged: 250, count: 1000, elapsedMs: 2000 }, fraction: 0.25, eta: 6000 },
  { name: 'count, failures count as done', p: { acknowledged: 400, failed: 100, count: 1000, elapsedMs: 1000 }, fraction: 0.5, eta: 1000 },
  { name: 'count, nothing acknowledged yet', p: { sent: 10, count: 1000, elapsedMs: 50 }, fraction: 0, eta: null },
  { name: 'duration', p: { acknowledged: 5, durationMs: 60_000, elapsedMs: 15_000 }, fraction: 0.25, eta: 45_000 },
  { name: 'count and duration: the one that ends first', p: { acknowledged: 900, count: 1000, durationMs: 60_000, elapsedMs: 9000 }, fraction: 0.9, eta: 1000 },
  { name: 'duration overrun while flushing', p: { acknowledged: 5, durationMs: 1000, elapsedMs: 1500 }, fraction: 1, eta: 0 },
  { name: 'no end', p: { acknowledged: 5, elapsedMs: 1500 }, fraction: null, eta: null },
];

for (const c of cases) {
  test(`progress: ${c.name}`, () => {
    const p = { ...base, ...c.p };
    assert.equal(fractionDone(p), c.fraction);
    assert.equal(etaMs(p), c.eta);
  });
}

test('durations read as people write them', () => {
  assert.equal(formatSeconds(0), '0.0s');
  assert.equal(formatSeconds(12_340), '12.3s');
  assert.equal(formatSeconds(125_000), '2m05s');
  assert.equal(formatSeconds(3_725_000), '1h02m');
});

test('the bar redraws in place; the plain line is one line with the same figures', () => {
  const p: LoadProgress = { ...base, sent: 5200, acknowledged: 5000, readings: 15_000, elapsedMs: 2000, count: 10_000 };
  const bar = progressBar(p, 10);
  assert.ok(bar.startsWith('\r[#####-----]  50%'), bar);
  assert.ok(bar.endsWith('\x1b[K'));
  for (const part of ['sent 5,200', 'acked 5,000', '2,500 msg/s', '7,500 readings/s', 'elapsed 2.0s', 'ETA 2.0s']) assert.ok(bar.includes(part), `${part} in ${bar}`);
  const line = progressLine(p);
  assert.equal(line, 'park-sim: load 50% sent 5200  acked 5000  2500 msg/s  7500 readings/s  elapsed 2.0s  ETA 2.0s\n');
  assert.ok(!line.includes('\r'));
  assert.match(progressLine({ ...p, failed: 3 }), /failed 3/);
  assert.match(progressLine({ ...p, count: null }), /^park-sim: load sent .* ETA -\n$/);
});
