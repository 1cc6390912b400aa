import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, appendFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Spool } from './spool.ts';
import { quietLogger } from '../../shared/observability/logger.ts';

const logger = quietLogger();
let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'spool-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

describe('spool', () => {
  it('hands out records in order and keeps them until acknowledged', () => {
    const s = Spool.open({ dir, logger });
    for (let i = 0; i < 5; i++) s.append(`t/${i}`, Buffer.from(`p${i}`), 1000 + i);
    const a = s.take(3);
    assert.deepEqual(a.map((r) => r.topic), ['t/0', 't/1', 't/2']);
    assert.equal(s.pending, 5);
    assert.equal(s.waiting, 2);
    s.ack(a[2]!.id);
    assert.equal(s.pending, 2);
    const b = s.take(10);
    assert.deepEqual(b.map((r) => r.payload.toString()), ['p3', 'p4']);
    assert.equal(b[0]!.receivedAt, 1003);
    s.close();
  });

  it('recovers on reopen exactly what was not acknowledged', () => {
    const s = Spool.open({ dir, logger });
    for (let i = 0; i < 10; i++) s.append('t', Buffer.from(String(i)), i);
    s.ack(s.take(4)[3]!.id);
    s.close();
    const r = Spool.open({ dir, logger });
    assert.equal(r.pending, 6);
    assert.deepEqual(r.take(100).map((x) => x.payload.toString()), ['4', '5', '6', '7', '8', '9']);
    const id = r.append('t', Buffer.from('10'), 10);
    assert.ok(id > 10, 'ids keep growing across restarts');
    r.close();
  });

  it('puts taken records back when a drain is abandoned', () => {
    const s = Spool.open({ dir, logger });
    s.append('t', Buffer.from('a'), 1);
    s.take(10);
    assert.equal(s.waiting, 0);
    s.untake();
    assert.equal(s.take(10).length, 1);
    s.close();
  });

  it('cuts a torn tail left by a crash inside write()', () => {
    const s = Spool.open({ dir, logger });
    s.append('t', Buffer.from('whole'), 1);
    s.close();
    const seg = readdirSync(dir).filter((f) => f.startsWith('seg-')).sort()[0]!;
    const sizeBefore = statSync(join(dir, seg)).size;
    appendFileSync(join(dir, seg), Buffer.from([40, 0, 0, 0, 1, 2, 3]));
    const r = Spool.open({ dir, logger });
    assert.deepEqual(r.take(10).map((x) => x.payload.toString()), ['whole']);
    assert.equal(statSync(join(dir, seg)).size, sizeBefore);
    r.close();
  });

  it('deletes drained segments whole', () => {
    const s = Spool.open({ dir, logger, segmentBytes: 200 });
    for (let i = 0; i < 40; i++) s.append('topic/x', Buffer.alloc(50, 1), i);
    const segsBefore = readdirSync(dir).filter((f) => f.startsWith('seg-')).length;
    assert.ok(segsBefore > 5);
    s.ack(s.take(40).at(-1)!.id);
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('seg-')).length, 1);
    assert.equal(s.pendingBytes, 0);
    s.close();
  });

  it('keeps every appended record through a SIGKILL of the process', () => {
    const script = `
      import { Spool } from ${JSON.stringify(new URL('./spool.ts', import.meta.url).pathname)};
      import { quietLogger } from ${JSON.stringify(new URL('../../shared/observability/logger.ts', import.meta.url).pathname)};
      const s = Spool.open({ dir: process.argv[1], logger: quietLogger() });
      for (let i = 0; i < 20000; i++) s.append('t', Buffer.from(String(i)), i);
      process.kill(process.pid, 'SIGKILL');
    `;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script, dir], { encoding: 'utf8' });
    assert.equal(res.signal, 'SIGKILL', res.stderr);
    const r = Spool.open({ dir, logger });
    const all = r.take(100_000);
    assert.equal(all.length, 20000);
    assert.equal(all[19999]!.payload.toString(), '19999');
    r.close();
  });
});
