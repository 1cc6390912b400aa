/** The one-Buffer record encoding against kafkajs' own, byte for byte, and that kafkajs' produce request gets it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { compileFunction } from 'node:vm';
import fc from 'fast-check';
import { encodeRecord, recordEncodingInstalled, recordModule, type RecordArgs } from './record-encoding.ts';

const require = createRequire(import.meta.url);
type Original = (args: RecordArgs) => { buffer: Buffer };

/** kafkajs' own record encoder, compiled from its file (the module cache holds the wrapped one). */
function originalEncoder(): Original {
  const file = require.resolve(recordModule);
  const module = { exports: {} as unknown };
  const load = compileFunction(readFileSync(file, 'utf8'), ['module', 'exports', 'require']) as (m: typeof module, e: unknown, r: NodeJS.Require) => void;
  load(module, module.exports, createRequire(file));
  return module.exports as Original;
}

const bytes = (r: { buf: Buffer; offset: number }): Buffer => r.buf.subarray(0, r.offset);

describe('kafka record encoding', () => {
  const original = originalEncoder();

  it('writes the bytes kafkajs writes, for every key, value and delta it takes', () => {
    const keyOrValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 20_000 }).map((b) => Buffer.from(b)), fc.constantFrom(null, undefined, ''));
    const delta = fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.constantFrom(0, -1, 63, 64, -64, -65, 2 ** 52 - 1, -(2 ** 52 - 1), 2 ** 31, -(2 ** 31)));
    fc.assert(fc.property(fc.nat(0x3fffffff), delta, keyOrValue, keyOrValue, (offsetDelta, timestampDelta, key, value) => {
      const args = { offsetDelta, timestampDelta, key, value };
      const mine = encodeRecord(args);
      assert.ok(mine, 'the fast path takes it');
      assert.deepEqual(bytes(mine), original(args).buffer);
    }), { numRuns: 2000, seed: 14 });
  });

  it('leaves records with headers or odd values to kafkajs', () => {
    assert.equal(encodeRecord({ key: 'k', value: 'v', headers: { a: 'b' } }), undefined);
    assert.equal(encodeRecord({ key: 'k', value: 'v', timestampDelta: 0.5 }), undefined);
    assert.equal(encodeRecord({ key: 'k', value: 'v', timestampDelta: 2 ** 53 - 1 }), undefined);
    const wrapped = require(require.resolve(recordModule)) as Original;
    for (const args of [{ key: 'k', value: 'v', headers: { a: 'b', c: ['d', 'e'] } }, { key: 'k', value: 'v', offsetDelta: 3, timestampDelta: 12 }, { key: 'k', value: 'v', timestampDelta: -(2 ** 53 - 1) }]) {
      assert.deepEqual(wrapped(args).buffer, original(args).buffer);
    }
  });

  it('is what kafkajs produces with (its produce request requires the record module when first used)', async () => {
    await import('kafkajs');
    assert.equal(recordEncodingInstalled, true);
    const record = (require(require.resolve(recordModule)) as (args: RecordArgs) => { buf: Buffer; offset: number })({ key: 'meter-1', value: '{}' });
    // kafkajs' own starts every record in a 512-byte Buffer.
    assert.equal(record.buf.length, record.offset);
  });
});
