import { it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkGate } from './work-gate.ts';

it('runs at most `concurrent` jobs, queues `queued` more, and turns the rest away at once', async () => {
  const gate = new WorkGate(2, 1);
  let running = 0;
  let most = 0;
  const releases: Array<() => void> = [];
  const job = () => new Promise<string>((resolve) => {
    running += 1;
    most = Math.max(most, running);
    releases.push(() => { running -= 1; resolve('done'); });
  });
  const results = [gate.run(job), gate.run(job), gate.run(job), gate.run(job)];
  assert.equal(await results[3], undefined, 'the fourth: two running, one waiting, no room');
  await new Promise((r) => setImmediate(r));
  assert.equal(releases.length, 2, 'the third waits');
  releases.shift()!();
  await new Promise((r) => setImmediate(r));
  assert.equal(releases.length, 2, 'the third took the freed slot');
  for (const release of releases.splice(0)) release();
  assert.deepEqual(await Promise.all(results.slice(0, 3)), ['done', 'done', 'done']);
  assert.equal(most, 2);
  assert.equal(await gate.run(async () => 'again'), 'again', 'slots are given back');
});
