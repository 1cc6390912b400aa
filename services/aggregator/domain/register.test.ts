import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { registerEventSchema } from '../../../shared/contracts/events.ts';
import { eventBit, eventsFromBits } from './register.ts';

describe('register events as bits', () => {
  it('lists register events from bits in a fixed order', () => {
    assert.deepEqual(eventsFromBits(eventBit('swap') | eventBit('rollover')), ['rollover', 'swap']);
    assert.deepEqual(eventsFromBits(0), []);
    assert.deepEqual(eventsFromBits(eventBit('reset')), ['reset']);
  });
  it('gives every event of the contract its own bit, and reads each back', () => {
    const all = registerEventSchema.options;
    const bits = all.map(eventBit);
    assert.equal(new Set(bits).size, all.length);
    assert.deepEqual(eventsFromBits(bits.reduce((a, b) => a | b, 0)).sort(), [...all].sort());
    for (const e of all) assert.deepEqual(eventsFromBits(eventBit(e)), [e]);
  });
});
