import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { nodeMajor, warnOnUnsupportedNode } from './node-version.ts';

function capture(): { logger: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  return { logger: pino({ level: 'info' }, sink), lines: () => chunks.join('').split('\n').filter(Boolean) };
}

test('an end-of-life Node.js line is warned about, a supported one is not', () => {
  assert.equal(nodeMajor('20.20.2'), 20);
  const old = capture();
  assert.equal(warnOnUnsupportedNode(old.logger, '20.20.2'), true);
  assert.match(old.lines()[0] ?? '', /end of life.*Node\.js 24/);
  for (const v of ['22.12.0', '24.22.3']) {
    const ok = capture();
    assert.equal(warnOnUnsupportedNode(ok.logger, v), false);
    assert.equal(ok.lines().length, 0);
  }
});
