import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maxStorableEpochMs } from '../../../shared/contracts/ids.ts';
import { instantQuery, parseInstant } from './instant-query.ts';

const at = Date.parse('2026-12-01T00:00:00Z');

describe('parseInstant', () => {
  const cases: Array<[string, number | undefined]> = [
    [String(at), at],
    ['0', 0],
    [String(maxStorableEpochMs), maxStorableEpochMs],
    [String(maxStorableEpochMs + 1), undefined],
    ['2026-12-01T00:00:00Z', at],
    ['2026-12-01t00:00:00z', at],
    ['2026-12-01T08:00:00+08:00', at],
    ['2026-12-01T08:00:00+0800', at],
    ['2026-12-01T08:00:00+08', at],
    ['2026-12-01T08:00:00 08:00', at],
    ['2026-12-01T08:00:00.5 0800', at + 500],
    ['2026-11-30T19:00:00-05:00', at],
    ['2026-12-01T05:45:00+05:45', at],
    ['2026-12-01T00:00Z', at],
    ['2026-12-01T00:00:00.250Z', at + 250],
    ['2026-12-01T00:00:00.123456789Z', at + 123],
    ['2028-02-29T00:00:00Z', Date.parse('2028-02-29T00:00:00Z')],
    ['1969-12-31T23:00:00-01:00', 0],
    // Refused: no offset, impossible dates and times, other spellings, out of range.
    ['2026-12-01T00:00:00', undefined],
    ['2026-12-01', undefined],
    ['2026-11-31T00:00:00Z', undefined],
    ['2027-02-29T00:00:00Z', undefined],
    ['2026-13-01T00:00:00Z', undefined],
    ['2026-12-01T24:00:00Z', undefined],
    ['2026-12-01T00:60:00Z', undefined],
    ['2026-12-01T00:00:60Z', undefined],
    ['2026-12-01T00:00:00+24:00', undefined],
    ['2026-12-01T00:00:00+05:60', undefined],
    ['0075-01-01T00:00:00Z', undefined],
    ['1969-12-31T23:59:59Z', undefined],
    ['9999-12-31T00:00:00Z', undefined],
    ['-5', undefined],
    ['1e12', undefined],
    ['12.5', undefined],
    ['0x10', undefined],
    ['12345678901234567', undefined],
    ['', undefined],
    [' 2026-12-01T00:00:00Z', undefined],
    ['2026-12-01T08:00:00  08:00', undefined],
    ['2026-12-01 08:00:00Z', undefined],
    ['yesterday', undefined],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} -> ${expected === undefined ? 'refused' : expected}`, () => assert.equal(parseInstant(text), expected));
  }
});

describe('instantQuery', () => {
  it('says what is required and which forms are accepted', () => {
    const missing = instantQuery.safeParse(undefined);
    assert.ok(!missing.success);
    assert.match(missing.error.issues[0]!.message, /^required: epoch milliseconds .* or ISO 8601 with Z or an offset/);
    const wrong = instantQuery.safeParse('2026-12-01T00:00:00');
    assert.ok(!wrong.success);
    assert.match(wrong.error.issues[0]!.message, /"2026-12-01T00:00:00" is not epoch milliseconds .* or ISO 8601/);
    const array = instantQuery.safeParse(['1', '2']);
    assert.ok(!array.success);
    assert.match(array.error.issues[0]!.message, /^expected epoch milliseconds/);
    const long = instantQuery.safeParse('x'.repeat(5_000));
    assert.ok(!long.success);
    assert.ok(long.error.issues[0]!.message.length < 300, 'a hostile value is not echoed in full');
  });
});
