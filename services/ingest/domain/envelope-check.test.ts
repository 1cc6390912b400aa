/** The hand-written envelope check against the schema it stands in for: the same verdict on every input. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readingEnvelopeSchema } from '../../../shared/contracts/payloads.ts';
import { anyJsonArb, envelopeArb, toJsonText } from '../../../test/helpers/fuzz-arbitraries.ts';
import { checkEnvelope } from './envelope-check.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 3000);
const seed = Number(process.env.FUZZ_SEED ?? 14);

/** Strings around each bound, in UTF-16 units and in code points (a pair counts once, a lone surrogate too). */
const boundaryString = fc.oneof(
  fc.constantFrom('', 'a', '\ud83d\ude00', '\ud83d', '\ude00'),
  fc.tuple(fc.integer({ min: 28, max: 68 }), fc.integer({ min: 0, max: 40 }), fc.constantFrom('x', '\ud83d\ude00', '\ud83d', 'é')).map(([n, k, c]) => 'm'.repeat(Math.max(0, n - k)) + c.repeat(k)),
  fc.string({ unit: 'binary', maxLength: 70 }),
);
const edgeNumber = fc.constantFrom(0, -0, 1, -1, 0.5, 1.5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, Infinity, -Infinity, NaN, 1e11, 1e14);
const oddValue = fc.constantFrom<unknown>(null, true, false, [], {}, '1', [1], { a: 1 });
const field = (good: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: edgeNumber, weight: 2 }, { arbitrary: boundaryString, weight: 2 }, { arbitrary: oddValue, weight: 1 });

const readingArb = fc.oneof(
  { arbitrary: fc.record({ metric: field(fc.constant('ph')), value: field(fc.double()), unit: field(fc.constant('pH')), ts: field(fc.nat()), extra: fc.anything() }, { requiredKeys: [] }), weight: 9 },
  { arbitrary: oddValue, weight: 1 },
);
const edgeEnvelope = fc.record({
  v: fc.oneof(fc.constant<unknown>(1), edgeNumber, oddValue),
  ts: field(fc.nat()),
  seq: field(fc.nat()),
  readings: fc.oneof(
    { arbitrary: fc.array(readingArb, { minLength: 0, maxLength: 4 }), weight: 8 },
    { arbitrary: fc.constantFrom(499, 500, 501).map((n) => Array.from({ length: n }, () => ({ metric: 'ph', value: 7, unit: 'pH' }))), weight: 1 },
    { arbitrary: oddValue, weight: 1 },
  ),
  simulated: fc.oneof(fc.boolean(), oddValue, edgeNumber),
  other: fc.anything(),
}, { requiredKeys: [] });

const sameVerdict = (value: unknown): void => {
  const zod = readingEnvelopeSchema.safeParse(value).success;
  const hand = checkEnvelope(value) !== undefined;
  assert.equal(hand, zod, `zod says ${zod ? 'valid' : 'invalid'}, the check ${hand ? 'valid' : 'invalid'}: ${toJsonText(value).slice(0, 300)}`);
};

describe('checkEnvelope', () => {
  it('accepts exactly what the schema accepts: envelopes near the bounds', () => {
    fc.assert(fc.property(edgeEnvelope, sameVerdict), { numRuns: runs, seed });
  });

  it('accepts exactly what the schema accepts: published envelopes through JSON, and any JSON', () => {
    fc.assert(fc.property(fc.oneof(envelopeArb.map((v) => JSON.parse(toJsonText(v)) as unknown), anyJsonArb), sameVerdict), { numRuns: runs, seed });
  });

  it('takes a plain envelope and refuses the usual mistakes', () => {
    const ok = { v: 1, ts: '2026-11-27T10:00:00Z', seq: 42, readings: [{ metric: 'so2', value: 180.5, unit: 'mg/Nm3' }] };
    assert.ok(checkEnvelope(ok));
    assert.equal(checkEnvelope({ ...ok, seq: -1 }), undefined);
    assert.equal(checkEnvelope({ ...ok, seq: 1.5 }), undefined);
    assert.equal(checkEnvelope({ ...ok, readings: [] }), undefined);
    assert.equal(checkEnvelope({ ...ok, readings: [{ ...ok.readings[0], value: Infinity }] }), undefined);
    assert.equal(checkEnvelope({ ...ok, readings: [{ ...ok.readings[0], metric: 'x'.repeat(65) }] }), undefined);
    // 64 code points of which some are surrogate pairs: longer than 64 UTF-16 units, and still valid.
    assert.ok(checkEnvelope({ ...ok, readings: [{ ...ok.readings[0], metric: `${'x'.repeat(60)}${'\ud83d\ude00'.repeat(4)}` }] }));
    assert.equal(checkEnvelope([ok]), undefined);
  });
});
