import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultKinds, planFaults } from './faults.ts';

test('the fault schedule is reproducible by seed, ordered, inside the run, and covers every kind', () => {
  const a = planFaults(7, 10, 300_000);
  assert.deepEqual(a, planFaults(7, 10, 300_000));
  assert.notDeepEqual(a, planFaults(8, 10, 300_000));
  assert.equal(a.length, 10);
  for (const kind of faultKinds) assert.ok(a.some((f) => f.kind === kind), kind);
  for (let i = 1; i < a.length; i++) assert.ok(a[i]!.atMs > a[i - 1]!.atMs);
  assert.ok(a.every((f) => f.atMs >= 30_000 && f.atMs <= 270_000 && f.downMs >= 1_000 && f.downMs <= 5_000));
});
