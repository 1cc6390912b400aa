/**
 * The compact rolling ring (no bucket index per slot) sums like the indexed ring
 * its records keep, round-trips through its record, and an engine restored from
 * its checkpoint at any point decides what the one that kept running decides.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { batch, engine, MIN, rule, T0 } from './testing.ts';
import type { RulesEngine } from './engine.ts';
import { RollingRing, type BufferOf } from './state.ts';

/** The indexed ring as the records describe it: a slot counts when its index is in (top - n, top]. */
class IndexedRing {
  readonly i: number[];
  readonly s: number[];
  readonly c: number[];
  readonly n: number;
  top = -1;
  constructor(n: number) {
    this.n = n;
    this.i = new Array<number>(n).fill(-1);
    this.s = new Array<number>(n).fill(0);
    this.c = new Array<number>(n).fill(0);
  }
  add(idx: number, sum: number, count: number, overwrite: boolean): boolean {
    if (idx <= this.top - this.n) return false;
    const slot = idx % this.n;
    if (this.i[slot] !== idx || overwrite) {
      this.i[slot] = idx;
      this.s[slot] = 0;
      this.c[slot] = 0;
    }
    this.s[slot]! += sum;
    this.c[slot]! += count;
    if (idx > this.top) this.top = idx;
    return true;
  }
  totals(): [number, number] {
    let s = 0;
    let c = 0;
    for (let k = 0; k < this.n; k++) {
      const i = this.i[k]!;
      if (i > this.top - this.n && i <= this.top) {
        s += this.s[k]!;
        c += this.c[k]!;
      }
    }
    return [s, c];
  }
}

function addCompact(r: RollingRing, idx: number, sum: number, count: number, overwrite: boolean): boolean {
  if (idx <= r.top - r.size) return false;
  const slot = idx % r.size;
  r.advance(idx);
  if (overwrite) {
    r.s[slot] = 0;
    r.c[slot] = 0;
  }
  r.s[slot]! += sum;
  r.c[slot]! += count;
  return true;
}

const totals = (r: RollingRing): [number, number] => [r.s.reduce((a, b) => a + b, 0), r.c.reduce((a, b) => a + b, 0)];

describe('compact rolling ring', () => {
  it('sums what the indexed ring sums, and its record restores the same ring', () => {
    const op = fc.record({ step: fc.integer({ min: -15, max: 15 }), sum: fc.integer({ min: -1000, max: 1000 }), count: fc.integer({ min: 0, max: 5 }), overwrite: fc.boolean() });
    fc.assert(fc.property(fc.integer({ min: 1, max: 13 }), fc.array(op, { maxLength: 60 }), fc.nat(60), (n, ops, cut) => {
      const old = new IndexedRing(n);
      let ring = new RollingRing(n);
      let idx = 100;
      ops.forEach((o, k) => {
        idx = Math.max(0, idx + o.step);
        assert.equal(addCompact(ring, idx, o.sum, o.count, o.overwrite), old.add(idx, o.sum, o.count, o.overwrite));
        assert.equal(ring.top, old.top);
        assert.deepEqual(totals(ring), old.totals());
        if (k === cut) {
          // Through its record, as a checkpoint carries it; and the old record format restores too.
          const rec = JSON.parse(JSON.stringify(ring)) as BufferOf<'rolling'>;
          ring = RollingRing.from(rec);
          assert.deepEqual(totals(RollingRing.from({ i: old.i, s: old.s, c: old.c, top: old.top })), old.totals());
        }
      });
    }), { numRuns: 500, seed: 14 });
  });
});

describe('an engine restored from its checkpoint', () => {
  const rules = [
    rule({ id: 'cod-roll', kind: 'rolling', limit: 100, params: { over: '1h', bucket: '5m', minSamples: 3 }, levels: { warning: { factor: 0.8 }, critical: {} } }),
    rule({ id: 'ph-run', kind: 'consecutive', selector: { metric: 'ph', meters: ['m-ww'] }, op: 'outside', limit: { min: 6, max: 9 }, params: { samples: 3 } }),
  ];
  it('decides as the one that kept running, wherever it was cut', () => {
    const sample = fc.record({ gapMin: fc.integer({ min: 0, max: 30 }), cod: fc.integer({ min: 0, max: 200 }), ph: fc.constantFrom(4, 7, 10) });
    fc.assert(fc.property(fc.array(sample, { minLength: 1, maxLength: 50 }), fc.nat(50), (samples, cut) => {
      const kept = engine(...rules);
      let restored: RulesEngine = engine(...rules);
      let ts = T0;
      samples.forEach((x, k) => {
        ts += x.gapMin * MIN + 1000;
        const b = batch('m-ww', ts, { cod: x.cod, ph: x.ph }, { seq: k });
        const want = kept.onReading(b, ts).map((t) => t.event);
        const got = restored.onReading(b, ts).map((t) => t.event);
        assert.deepEqual(got, want);
        if (k === cut) {
          const next = engine(...rules);
          next.restore(JSON.parse(JSON.stringify(restored.snapshot())) as { states: unknown[] });
          restored = next;
        }
      });
      assert.deepEqual(JSON.parse(JSON.stringify(restored.snapshot())), JSON.parse(JSON.stringify(kept.snapshot())));
    }), { numRuns: 150, seed: 14 });
  });
});
