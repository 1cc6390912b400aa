import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSaturated, satAdd, satDiv, satMul, satSub, saturate } from './saturating.ts';

const MAX = Number.MAX_VALUE;

describe('saturating arithmetic', () => {
  it('clamps an overflow to the largest double of its sign', () => {
    assert.equal(satAdd(1e308, 1e308), MAX);
    assert.equal(satAdd(-1e308, -1e308), -MAX);
    assert.equal(satSub(MAX, -MAX), MAX);
    assert.equal(satMul(1e200, -1e200), -MAX);
    assert.equal(satDiv(1e308, 1e-10), MAX);
    assert.equal(saturate(Infinity), MAX);
  });
  it('leaves results in range exactly as plain arithmetic does', () => {
    assert.equal(satAdd(0.1, 0.2), 0.1 + 0.2);
    assert.equal(satSub(MAX, MAX), 0);
    assert.equal(satMul(3, 7), 21);
    assert.equal(satDiv(1, 3), 1 / 3);
  });
  it('tells a saturated value', () => {
    assert.equal(isSaturated(satAdd(1e308, 1e308)), true);
    assert.equal(isSaturated(-MAX), true);
    assert.equal(isSaturated(1e308), false);
  });
});
