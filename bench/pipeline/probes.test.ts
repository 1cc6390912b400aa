import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuSnapshot, gauge, machineCpu, procStats, type CpuSnapshot } from './probes.ts';

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

test('machineCpu splits the machine\'s busy time into the servers and the rest, per million readings, with the busy cores', () => {
  const before: CpuSnapshot = { at: 0, machine: 100, servers: { mosquitto: 1, kafka: 10, influxdb: 5 } };
  const after: CpuSnapshot = { at: 10_000, machine: 118, servers: { mosquitto: 2, kafka: 14, influxdb: 8 } };
  // 18 s busy over 10 s: 1.8 cores; 8 s the servers, 6 s the subject, 4 s the rest; 200,000 readings.
  assert.deepEqual(machineCpu(before, after, 6, 200_000), { servers: { mosquitto: 5, kafka: 20, influxdb: 15 }, rest: 20, busyCores: 1.8 });
  // The rest never goes below zero (the machine's and the processes' clocks are read at slightly different moments).
  assert.equal(machineCpu(before, after, 20, 200_000).rest, 0);
});

test('cpuSnapshot reads the machine and each server\'s process', () => {
  const s = cpuSnapshot({ pid: () => process.pid });
  assert.ok(s.machine > 0);
  assert.deepEqual(Object.keys(s.servers).sort(), ['influxdb', 'kafka', 'mosquitto']);
  for (const seconds of Object.values(s.servers)) assert.ok(seconds > 0 && seconds <= s.machine);
});
