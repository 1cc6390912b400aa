import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointWaitMs } from './checkpoint-pacing.ts';

describe('checkpointWaitMs', () => {
  it('is the interval while checkpoints are cheap', () => {
    assert.equal(checkpointWaitMs(2_000, 0), 2_000);
    assert.equal(checkpointWaitMs(2_000, 150), 2_000);
  });

  it('grows with what the last one cost, so that encoding takes at most a tenth of the time', () => {
    assert.equal(checkpointWaitMs(2_000, 500), 4_500);
    const cost = 1_200;
    const wait = checkpointWaitMs(2_000, cost);
    assert.ok(Math.abs(cost / (cost + wait) - 0.1) < 1e-9, `share ${cost / (cost + wait)}`);
  });

  it('follows another share', () => {
    assert.equal(checkpointWaitMs(1_000, 500, 0.25), 1_500);
  });

  it('0 keeps one after every batch, whatever it costs', () => {
    assert.equal(checkpointWaitMs(0, 10_000), 0);
  });
});
