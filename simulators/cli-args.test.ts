import { test } from 'node:test';
import assert from 'node:assert/strict';
import { helpText, parseSimArgs, UsageError } from './cli-args.ts';
import { faultKinds } from './domain/scenario.ts';

test('load mode: defaults, and every flag read', () => {
  assert.deepEqual(parseSimArgs(['--mode', 'load']).load, { meters: 100, rate: 1000, count: null, inflight: 2000, writeRegistry: null });
  const o = parseSimArgs(['--mode', 'load', '--meters', '5000', '--rate', 'max', '--count', '200000', '--inflight', '500', '--duration', '2m', '--write-registry', '/tmp/r.json']);
  assert.deepEqual(o.load, { meters: 5000, rate: 'max', count: 200_000, inflight: 500, writeRegistry: '/tmp/r.json' });
  assert.equal(o.durationMs, 120_000);
  assert.equal(o.meters, null);
  assert.equal(parseSimArgs(['--mode', 'load', '--rate', '2500.5']).load?.rate, 2500.5);
  assert.equal(parseSimArgs([]).load, null);
  // In the other modes --meters stays a filter.
  assert.ok(parseSimArgs(['--meters', '^snk-']).meters?.test('snk-gas'));
});

const refused: { args: string[]; message: RegExp }[] = [
  { args: ['--mode', 'load', '--meters', '^snk-'], message: /--meters: "\^snk-" is not a number of meters/ },
  { args: ['--mode', 'load', '--meters', '0'], message: /--meters/ },
  { args: ['--mode', 'load', '--rate', 'fast'], message: /--rate: "fast"/ },
  { args: ['--mode', 'load', '--rate', '0'], message: /--rate/ },
  { args: ['--mode', 'load', '--count', '1.5'], message: /--count/ },
  { args: ['--mode', 'load', '--inflight', '70000'], message: /--inflight/ },
  { args: ['--mode', 'load', '--scenario', 'x.yaml'], message: /--scenario does not apply/ },
  { args: ['--mode', 'load', '--speed', '10'], message: /--speed needs --mode accelerated/ },
  { args: ['--mode', 'load', '--start', '2026-11-24T00:00:00Z'], message: /--start needs --mode accelerated/ },
  { args: ['--count', '10'], message: /--count needs --mode load/ },
  { args: ['--mode', 'accelerated', '--rate', 'max'], message: /--rate needs --mode load/ },
  { args: ['--write-registry', 'r.json'], message: /--write-registry needs --mode load/ },
  { args: ['--mode', 'stress'], message: /none of realtime, accelerated, load/ },
];
for (const r of refused) {
  test(`refused: ${r.args.join(' ')}`, () => {
    assert.throws(() => parseSimArgs(r.args), (err: unknown) => err instanceof UsageError && r.message.test(err.message));
  });
}

test('--help names every fault and every load flag', () => {
  for (const fault of faultKinds) assert.ok(helpText.includes(fault), fault);
  for (const flag of ['--meters N', '--rate R|max', '--count N', '--inflight N', '--write-registry FILE', 'progress bar', 'ETA']) assert.ok(helpText.includes(flag), flag);
});
