import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gauge, procStats } from './probes.ts';

test('procStats reads this process: CPU time spent, resident and peak memory', () => {
  const until = Date.now() + 50;
  while (Date.now() < until) { /* burn a little CPU */ }
  const s = procStats(process.pid);
  assert.ok(s.cpuSeconds > 0);
  assert.ok(s.rssMiB > 10 && s.peakRssMiB >= s.rssMiB);
  assert.ok(Number.isNaN(procStats(2 ** 22 + 1).cpuSeconds));
});

test('gauge sums a metric over its labels and is NaN when absent', () => {
  const page = 'eip_nodejs_heap_size_used_bytes{service="a"} 100\neip_nodejs_heap_size_used_bytes_total 5\neip_nodejs_heap_size_used_bytes{service="b"} 20\n';
  assert.equal(gauge(page, 'eip_nodejs_heap_size_used_bytes'), 120);
  assert.ok(Number.isNaN(gauge(page, 'eip_other')));
});
