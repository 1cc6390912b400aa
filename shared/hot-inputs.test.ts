/** The fast checks of readings and aggregates take only what zod takes unchanged, and take the usual records. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { aggregateEventSchema, readingBatchEventSchema, type AggregateEvent, type ReadingBatchEvent } from './contracts/events.ts';
import { parseRecord } from './dead-letters.ts';
import { isPlainAggregate, isPlainReadingBatch, parseAggregate, parseReadingBatch } from './hot-inputs.ts';

const batch: ReadingBatchEvent = {
  v: 1, park: 'p1', tenant: 't1', meter: 'm1', seq: 3, receivedAt: 1_764_000_000_500, simulated: false,
  readings: [{ metric: 'ph', unit: 'pH', value: 7.2, ts: 1_764_000_000_000 }, { metric: 'cod', unit: 'mg/L', value: 40, ts: 1_764_000_000_000 }],
};
const aggregate: AggregateEvent = {
  v: 1, windowId: 'meter:m1:so2:1h:0', revision: 0, scope: 'meter', park: 'p1', tenant: 't1', meter: 'm1', metric: 'so2', unit: 'mg/Nm3',
  window: '1h', start: 1_764_000_000_000, end: 1_764_003_600_000, count: 12, sum: 3600, min: 250, max: 350, mean: 300, last: 300,
  registerEvents: [], completeness: 1, expected: 12, simulated: false,
};

/** Values a hostile producer might put in a field. */
const junk = fc.oneof(
  fc.constant(undefined), fc.constant(null), fc.boolean(), fc.string({ maxLength: 70 }), fc.constantFrom('', 'UPPER', 'a'.repeat(65), 'ok-id', '1h', 'meter', 'reset'),
  fc.double(), fc.integer(), fc.constantFrom(-1, -0, 0.5, 2 ** 53, Number.MAX_VALUE, Infinity, -Infinity, NaN), fc.constant([]), fc.constant({}), fc.array(fc.string(), { maxLength: 2 }),
);

/** A valid record with some fields replaced, dropped or added, as JSON would carry it. */
function mutated<T extends object>(base: T, nested?: { key: keyof T & string; item: object }): fc.Arbitrary<unknown> {
  const keys = [...Object.keys(base), 'extra', '__proto__', 'constructor'];
  const edit = fc.record({ key: fc.constantFrom(...keys), value: junk, drop: fc.boolean() });
  const itemEdit = nested ? fc.option(fc.record({ key: fc.constantFrom(...Object.keys(nested.item), 'extra'), value: junk, drop: fc.boolean() })) : fc.constant(null);
  return fc.tuple(fc.array(edit, { maxLength: 3 }), itemEdit).map(([edits, ie]) => {
    const o: Record<string, unknown> = structuredClone(base) as Record<string, unknown>;
    for (const e of edits) {
      if (e.drop) delete o[e.key];
      else Object.defineProperty(o, e.key, { value: e.value, enumerable: true, configurable: true, writable: true });
    }
    if (nested && ie) {
      const list = o[nested.key];
      const first: unknown = Array.isArray(list) ? list[0] : undefined;
      if (typeof first === 'object' && first !== null) {
        const item = first as Record<string, unknown>;
        if (ie.drop) delete item[ie.key];
        else item[ie.key] = ie.value;
      }
    }
    // Through JSON, as a record arrives: undefined drops, non-finite numbers turn null.
    const text = JSON.stringify(o);
    return text === undefined ? null : JSON.parse(text) as unknown;
  });
}

describe('hot input checks', () => {
  it('take the records the pipeline produces, as zod returns them', () => {
    assert.ok(isPlainReadingBatch(JSON.parse(JSON.stringify(batch))));
    assert.ok(isPlainAggregate(JSON.parse(JSON.stringify(aggregate))));
    const { tenant: _t, meter: _m, completeness: _c, expected: _e, ...park } = aggregate;
    assert.ok(isPlainAggregate({ ...park, scope: 'park', consumption: 5, lastAt: 1, registerEvents: ['rollover', 'declared-reset'] }));
  });

  it('never take what zod refuses or would change (strip, default), on hostile variants', () => {
    const cases: Array<[string, fc.Arbitrary<unknown>, (v: unknown) => boolean, typeof readingBatchEventSchema | typeof aggregateEventSchema]> = [
      ['readings', mutated(batch, { key: 'readings', item: batch.readings[0]! }), isPlainReadingBatch, readingBatchEventSchema],
      ['aggregates', mutated(aggregate, { key: 'registerEvents', item: {} }), isPlainAggregate, aggregateEventSchema],
    ];
    for (const [, arb, check, schema] of cases) {
      fc.assert(fc.property(arb, (v) => {
        if (!check(v)) return;
        const z = schema.safeParse(v);
        assert.ok(z.success, `zod refuses what the check took: ${JSON.stringify(v)}`);
        assert.deepEqual(z.data, v, 'zod would have changed it');
      }), { numRuns: 3000, seed: 14 });
    }
  });

  it('refuse with zod\'s own reason, unchanged', () => {
    const bad = [
      Buffer.from('{"v":1'), Buffer.from('null'), Buffer.from('[]'),
      Buffer.from(JSON.stringify({ ...batch, meter: 'Bad Meter' })), Buffer.from(JSON.stringify({ ...batch, readings: [] })),
      Buffer.from(JSON.stringify({ ...aggregate, window: '2h' })), Buffer.from(JSON.stringify({ ...aggregate, count: -1 })),
    ];
    for (const b of bad) {
      assert.deepEqual(parseReadingBatch(b), parseRecord(b, readingBatchEventSchema, 'readings event v1'));
      assert.deepEqual(parseAggregate(b), parseRecord(b, aggregateEventSchema, 'aggregate event v1'));
    }
    assert.deepEqual(parseReadingBatch(null), { ok: false, detail: 'empty record' });
    // A default or a strip is still zod's: the result is what it returns.
    const { simulated: _s, ...noSim } = batch;
    assert.deepEqual(parseReadingBatch(Buffer.from(JSON.stringify({ ...noSim, extra: 1 }))), { ok: true, value: batch });
  });
});
