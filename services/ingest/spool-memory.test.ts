/**
 * The spool's memory stays within its bound whatever the backlog, and reading
 * the backlog back from the segment files gives every record, in order, as it
 * was appended: a large backlog on disk, and a seeded model-based run of
 * random appends, takes, acks, untakes and restarts against a plain array.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { recordOverheadBytes, Spool, type SpoolRecord } from './spool.ts';
import { frameBytesOf } from './spool-frame.ts';
import { quietLogger } from '../../shared/observability/logger.ts';

const logger = quietLogger();
let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'spool-memory-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const segmentFiles = (): string[] => readdirSync(dir).filter((f) => f.startsWith('seg-'));

const noise = Buffer.alloc(64 * 1024 + 1024);
for (let k = 0, x = 12_345; k < noise.length; k++) noise[k] = (x = (x * 1_103_515_245 + 12_345) >>> 0) >>> 24;

/** A payload of its own for message i: a window of seeded noise, with i in its first bytes. */
function payloadOf(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let at = 0; at < size; at += 64 * 1024) noise.copy(b, at, i % 1021, (i % 1021) + Math.min(64 * 1024, size - at));
  if (size >= 4) b.writeUInt32LE(i, 0);
  return b;
}

describe('spool memory bound', () => {
  it('holds a 320 MB backlog on disk within a 4 MiB window and reads it back in order, identical', () => {
    const count = 20_000;
    const size = 16 * 1024;
    const bound = 4 * 1024 * 1024;
    const s = Spool.open({ dir, logger, memoryBytes: bound, segmentBytes: 32 * 1024 * 1024 });
    let peak = 0;
    for (let i = 0; i < count; i++) {
      s.append(`eip/p/t/m${i % 7}/telemetry`, payloadOf(i, size), 1_000 + i);
      peak = Math.max(peak, s.memoryBytes);
    }
    assert.equal(s.pending, count);
    assert.ok(s.pendingBytes > count * size, 'the backlog is counted in full');
    assert.ok(segmentFiles().length >= 10, 'the backlog spans many segments');
    let next = 0;
    while (s.waiting > 0) {
      const batch = s.take(5000);
      peak = Math.max(peak, s.memoryBytes);
      assert.ok(batch.length > 0 && batch.length < 5000, 'a batch is cut by bytes, not only by count');
      for (const r of batch) {
        assert.equal(r.payload.readUInt32LE(0), next, 'in order');
        assert.equal(r.topic, `eip/p/t/m${next % 7}/telemetry`);
        assert.equal(r.receivedAt, 1_000 + next);
        assert.ok(r.payload.equals(payloadOf(next, size)), `record ${next} identical`);
        next++;
      }
      s.ack(batch.at(-1)!.id);
    }
    assert.equal(next, count);
    assert.ok(peak <= bound, `peak ${peak} bytes held within the ${bound} byte bound`);
    assert.ok(peak > bound / 2, 'the window is used, not bypassed');
    assert.equal(s.pending, 0);
    assert.equal(s.pendingBytes, 0);
    assert.equal(segmentFiles().length, 1, 'drained segments are deleted');
    s.close();
  });

  it('keeps a small backlog in memory (never read back) and a record larger than the window is still handed out alone', () => {
    const bound = 256 * 1024;
    const s = Spool.open({ dir, logger, memoryBytes: bound });
    for (let i = 0; i < 10; i++) s.append('t', payloadOf(i, 1000), i);
    assert.ok(s.memoryBytes >= 10 * 1000, 'recent appends stay in the window');
    s.append('t', payloadOf(10, 2 * bound), 10);
    s.append('t', payloadOf(11, 1000), 11);
    const first = s.take(100);
    assert.deepEqual(first.map((r) => r.payload.readUInt32LE(0)), [...Array(10).keys()]);
    s.ack(first.at(-1)!.id);
    const big = s.take(100);
    assert.equal(big.length, 1, 'the oversized record comes alone');
    assert.ok(big[0]!.payload.equals(payloadOf(10, 2 * bound)));
    s.ack(big[0]!.id);
    assert.ok(s.memoryBytes <= bound);
    assert.deepEqual(s.take(100).map((r) => r.payload.readUInt32LE(0)), [11]);
    s.close();
  });

  type Op =
    | { kind: 'append'; size: number; n: number }
    | { kind: 'take'; max: number }
    | { kind: 'ack'; of: number }
    | { kind: 'untake' }
    | { kind: 'restart' };

  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), size: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 3000 }) }, { weight: 1, arbitrary: fc.integer({ min: 3000, max: 40_000 }) }), n: fc.integer({ min: 1, max: 20 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('take' as const), max: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('ack' as const), of: fc.integer({ min: 0, max: 1000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('untake' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
  );

  it('matches a plain array model through random appends, takes, acks, untakes and restarts (seeded)', () => {
    const bound = 24 * 1024;
    fc.assert(fc.property(fc.array(op, { minLength: 20, maxLength: 150 }), (ops) => {
      rmSync(dir, { recursive: true, force: true });
      const options = { dir, logger, memoryBytes: bound, segmentBytes: 16 * 1024 };
      let s = Spool.open(options);
      let nextSeq = 0;
      let biggest = 0;
      // Pending records oldest first, and how many of them are taken.
      const model: Array<{ seq: number; size: number }> = [];
      let takenCount = 0;
      const taken: SpoolRecord[] = [];
      try {
        for (const o of ops) {
          if (o.kind === 'append') {
            for (let k = 0; k < o.n; k++) {
              const seq = nextSeq++;
              s.append(`t/${seq % 3}`, payloadOf(seq, o.size), seq);
              model.push({ seq, size: o.size });
              biggest = Math.max(biggest, frameBytesOf(`t/${seq % 3}`, payloadOf(seq, o.size)));
            }
          } else if (o.kind === 'take') {
            const got = s.take(o.max);
            const expected = model.slice(takenCount, takenCount + o.max);
            assert.ok(got.length <= o.max);
            if (takenCount === 0 && expected.length > 0) assert.ok(got.length >= 1, 'with nothing taken, a take with records waiting hands out at least one');
            for (const [i, r] of got.entries()) {
              const m = expected[i]!;
              assert.equal(r.receivedAt, m.seq, 'in order, nothing skipped');
              assert.ok(r.payload.equals(payloadOf(m.seq, m.size)), `record ${m.seq} identical`);
              assert.equal(r.topic, `t/${m.seq % 3}`);
            }
            takenCount += got.length;
            taken.push(...got);
          } else if (o.kind === 'ack') {
            if (takenCount === 0) continue;
            const upTo = o.of % takenCount;
            s.ack(taken[upTo]!.id);
            model.splice(0, upTo + 1);
            taken.splice(0, upTo + 1);
            takenCount -= upTo + 1;
          } else {
            if (o.kind === 'restart') {
              s.close();
              s = Spool.open(options);
            } else s.untake();
            takenCount = 0;
            taken.length = 0;
          }
          assert.equal(s.pending, model.length);
          assert.equal(s.waiting, model.length - takenCount);
          assert.ok(s.memoryBytes <= Math.max(bound, biggest + recordOverheadBytes + 4096), `memory ${s.memoryBytes} within the bound`);
        }
        // Drain the rest: all of it, in order; then only the active segment is left.
        s.untake();
        const rest: SpoolRecord[] = [];
        for (let got = s.take(50); got.length > 0; got = s.take(50)) {
          rest.push(...got);
          s.ack(got.at(-1)!.id);
        }
        assert.deepEqual(rest.map((r) => r.receivedAt), model.map((m) => m.seq));
        assert.equal(s.pendingBytes, 0);
        assert.equal(segmentFiles().length, 1);
      } finally {
        s.close();
      }
    }), { seed: 20_261_201, numRuns: 40 });
  });
});
