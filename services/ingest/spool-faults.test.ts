/**
 * The spool under injected file-system faults: a failed append leaves nothing
 * behind that a later append or a recovery could trip over, and a failed
 * checkpoint costs only repeats.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from './spool.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { faultySpoolFs } from '../../test/helpers/spool-fs.ts';

const logger = quietLogger();
let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'spool-faults-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const segmentFiles = (): string[] => readdirSync(dir).filter((f) => f.startsWith('seg-')).sort();
const bytesOnDisk = (): number => segmentFiles().reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
const payloads = (records: Array<{ payload: Buffer }>): string[] => records.map((r) => r.payload.toString());

describe('spool under file-system faults', () => {
  it('a failed append throws, cuts its partial frame, and the next append lands whole', () => {
    const faults = faultySpoolFs();
    const s = Spool.open({ dir, logger, fs: faults.fs });
    s.append('t', Buffer.from('a'), 1);
    const before = bytesOnDisk();
    faults.failWrites('ENOSPC', { partialBytes: 13 });
    assert.throws(() => s.append('t', Buffer.from('lost'), 2), { code: 'ENOSPC' });
    assert.throws(() => s.append('t', Buffer.from('lost too'), 3), { code: 'ENOSPC' });
    assert.equal(bytesOnDisk(), before, 'nothing of the failed frames is left in the file');
    assert.equal(s.pending, 1);
    faults.pass();
    s.append('t', Buffer.from('b'), 4);
    assert.deepEqual(payloads(s.take(10)), ['a', 'b']);
    s.close();
    const r = Spool.open({ dir, logger });
    assert.deepEqual(payloads(r.take(10)), ['a', 'b'], 'recovery finds no torn frame between them');
    r.close();
  });

  it('a staged group is written by flush() at once, or not at all: a failed flush cuts its partial bytes and keeps none of it', () => {
    const faults = faultySpoolFs();
    const s = Spool.open({ dir, logger, fs: faults.fs });
    for (const p of ['a', 'b', 'c']) s.stage('t', Buffer.from(p), 1);
    assert.equal(s.pending, 0, 'staged is not pending');
    assert.equal(s.staged, 3);
    s.flush();
    assert.equal(s.pending, 3);
    const before = bytesOnDisk();
    for (const p of ['lost-1', 'lost-2']) s.stage('t', Buffer.from(p), 2);
    faults.failWrites('ENOSPC', { partialBytes: 40 });
    assert.throws(() => s.flush(), { code: 'ENOSPC' });
    assert.equal(bytesOnDisk(), before, 'nothing of the failed group is left in the file');
    assert.equal(s.pending, 3);
    assert.equal(s.staged, 0);
    faults.pass();
    s.append('t', Buffer.from('d'), 3);
    assert.deepEqual(payloads(s.take(10)), ['a', 'b', 'c', 'd']);
    s.close();
    const r = Spool.open({ dir, logger });
    assert.deepEqual(payloads(r.take(10)), ['a', 'b', 'c', 'd']);
    r.close();
  });

  it('when the partial frame cannot be cut, appends go on in a new segment and recovery keeps them all', () => {
    const faults = faultySpoolFs();
    const s = Spool.open({ dir, logger, fs: faults.fs });
    for (const p of ['a', 'b']) s.append('t', Buffer.from(p), 1);
    faults.failWrites('EIO', { partialBytes: 20, alsoTruncate: true });
    assert.throws(() => s.append('t', Buffer.from('lost'), 2), { code: 'EIO' });
    faults.pass();
    for (const p of ['c', 'd']) s.append('t', Buffer.from(p), 3);
    assert.equal(segmentFiles().length, 2, 'the torn segment was sealed, a new one took the appends');
    assert.deepEqual(payloads(s.take(10)), ['a', 'b', 'c', 'd']);
    s.close();
    const r = Spool.open({ dir, logger });
    assert.deepEqual(payloads(r.take(10)), ['a', 'b', 'c', 'd']);
    r.close();
  });

  it('a failed checkpoint write does not fail the ack; the next one catches up', () => {
    const faults = faultySpoolFs();
    const s = Spool.open({ dir, logger, fs: faults.fs });
    for (let i = 0; i < 6; i++) s.append('t', Buffer.from(String(i)), i);
    faults.failWrites('ENOSPC', { alsoCheckpoint: true });
    s.ack(s.take(2).at(-1)!.id);
    assert.equal(s.pending, 4);
    s.close();
    // The checkpoint is behind: a restart now replays what was drained (at least once), loses nothing.
    const replay = Spool.open({ dir, logger, fs: faults.fs });
    assert.deepEqual(payloads(replay.take(10)), ['0', '1', '2', '3', '4', '5']);
    replay.untake();
    faults.pass();
    replay.ack(replay.take(3).at(-1)!.id);
    replay.close();
    const r = Spool.open({ dir, logger });
    assert.deepEqual(payloads(r.take(10)), ['3', '4', '5']);
    r.close();
  });

  it('a failure to start a new segment leaves the spool usable', () => {
    const faults = faultySpoolFs();
    const failingOpen = { on: false };
    const fs = { ...faults.fs, open: (path: string, flags: 'a' | 'r' | 'r+') => {
      if (failingOpen.on && flags === 'a') throw Object.assign(new Error('ENOSPC: injected, open'), { code: 'ENOSPC' });
      return faults.fs.open(path, flags);
    } };
    const s = Spool.open({ dir, logger, fs, segmentBytes: 64 });
    s.append('t', Buffer.alloc(80, 1), 1);
    failingOpen.on = true;
    assert.throws(() => s.append('t', Buffer.from('x'), 2), { code: 'ENOSPC' });
    failingOpen.on = false;
    s.append('t', Buffer.from('y'), 3);
    const got = s.take(10);
    assert.equal(got.length, 2);
    assert.equal(got[1]!.payload.toString(), 'y');
    s.close();
  });
});
