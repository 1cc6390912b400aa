import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapBounded } from './map-bounded.ts';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapBounded', () => {
  it('keeps the items\' order whatever order the calls finish in', async () => {
    const out = await mapBounded([30, 5, 20, 1, 10], 3, async (ms, i) => { await tick(ms); return `${i}:${ms}`; });
    assert.deepEqual(out, ['0:30', '1:5', '2:20', '3:1', '4:10']);
  });

  it('never has more than the limit in flight, and uses all of it', async () => {
    let running = 0;
    let most = 0;
    await mapBounded(Array.from({ length: 12 }, (_, i) => i), 4, async (i) => {
      running++;
      most = Math.max(most, running);
      await tick(i % 3);
      running--;
    });
    assert.equal(most, 4);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await assert.rejects(mapBounded([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      await tick(1);
      if (i === 1) throw new Error('store down');
    }), /store down/);
    await tick(20);
    assert.ok(!started.includes(4) && !started.includes(5), `started ${started.join(',')}`);
  });

  it('resolves at once for no items and refuses a limit below 1', async () => {
    assert.deepEqual(await mapBounded([], 3, () => Promise.resolve(1)), []);
    await assert.rejects(mapBounded([1], 0, () => Promise.resolve(1)), RangeError);
  });
});
