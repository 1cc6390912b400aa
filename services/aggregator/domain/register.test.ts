import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventBit, eventsFromBits, registerStep, type RegisterRating, type RegisterStep } from './register.ts';

const MIN = 60_000;
const rated: RegisterRating = { maxStepPerHour: 6000, rolloverAt: 100_000 }; // 100 per minute
const rolloverOnly: RegisterRating = { rolloverAt: 100_000 };
const unrated: RegisterRating = {};

describe('registerStep: consumption between two register readings', () => {
  const cases: Array<[string, RegisterRating, [number, number], [number, number], RegisterStep]> = [
    ['a rise within the rating is consumption', rated, [0, 5000], [MIN, 5060], { consumed: 60 }],
    ['no change is zero', rated, [0, 5000], [MIN, 5000], { consumed: 0 }],
    ['a rise beyond the rating over one minute is a jump, excluded', rated, [0, 5000], [MIN, 5150], { consumed: 0, event: 'swap' }],
    ['the same rise over two minutes is plausible (the rating scales with time)', rated, [0, 5000], [2 * MIN, 5150], { consumed: 150 }],
    ['a fall near the top wraps: rolloverAt - prev + value', rated, [0, 99_990], [MIN, 40], { consumed: 50, event: 'rollover' }],
    ['a fall to near zero that cannot be a wrap is a reset: only the increase after it counts', rated, [0, 5000], [MIN, 20], { consumed: 20, event: 'reset' }],
    ['a fall to an unrelated non-zero value is a swap, excluded', rated, [0, 5000], [MIN, 3000], { consumed: 0, event: 'swap' }],
    ['rolloverAt without a step rating: a fall from the upper half wraps', rolloverOnly, [0, 99_990], [MIN, 5], { consumed: 15, event: 'rollover' }],
    ['rolloverAt without a step rating: a fall from the lower half is no wrap but a reset', rolloverOnly, [0, 40_000], [MIN, 5], { consumed: 5, event: 'reset' }],
    ['unrated: a fall to 1 % of the previous value is a reset', unrated, [0, 5000], [MIN, 40], { consumed: 40, event: 'reset' }],
    ['unrated: a fall to zero is a reset with nothing counted yet', unrated, [0, 5000], [MIN, 0], { consumed: 0, event: 'reset' }],
    ['unrated: a fall to 60 % is a swap', unrated, [0, 5000], [MIN, 3000], { consumed: 0, event: 'swap' }],
    ['unrated: any rise counts (nothing to judge it by)', unrated, [0, 5000], [MIN, 900_000], { consumed: 895_000 }],
  ];
  for (const [name, rating, [t0, v0], [t1, v1], expected] of cases) {
    it(name, () => assert.deepEqual(registerStep({ ts: t0, value: v0 }, { ts: t1, value: v1 }, rating), expected));
  }

  it('lists register events from bits in a fixed order', () => {
    assert.deepEqual(eventsFromBits(eventBit('swap') | eventBit('rollover')), ['rollover', 'swap']);
    assert.deepEqual(eventsFromBits(0), []);
    assert.deepEqual(eventsFromBits(eventBit('reset')), ['reset']);
  });
});
