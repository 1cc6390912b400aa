/** /readyz names each failing check and, where the check says, why. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { quietLogger } from './logger.ts';
import { startOpsServer } from './ops-server.ts';

it('/readyz: 503 with the failing checks, their reasons and details; a throwing or hung check fails with its cause', async () => {
  let progress: boolean | { ok: boolean; reason?: string; details?: unknown } = true;
  const server = await startOpsServer({
    host: '127.0.0.1', port: 0, registry: new Registry(), logger: quietLogger(), checkTimeoutMs: 100,
    checks: { plain: () => true, progress: () => progress },
  });
  const read = async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };
  try {
    assert.deepEqual(await read(), { status: 200, body: { ready: true, checks: { plain: true, progress: true } } });
    progress = false;
    assert.deepEqual(await read(), { status: 503, body: { ready: false, checks: { plain: true, progress: false } } });
    progress = { ok: false, reason: 'ingest:spool: 2001 pending', details: [{ stage: 'ingest:spool', pending: 2001 }] };
    assert.deepEqual(await read(), {
      status: 503,
      body: { ready: false, checks: { plain: true, progress: false }, reasons: { progress: 'ingest:spool: 2001 pending' }, details: { progress: [{ stage: 'ingest:spool', pending: 2001 }] } },
    });
    progress = { ok: true, reason: 'ignored when ok' };
    assert.equal((await read()).status, 200);
  } finally {
    await server.close();
  }
  const broken = await startOpsServer({
    host: '127.0.0.1', port: 0, registry: new Registry(), logger: quietLogger(), checkTimeoutMs: 100,
    checks: { throws: () => { throw new Error('no route to host'); }, hangs: () => new Promise<boolean>(() => {}) },
  });
  try {
    const res = await fetch(`http://127.0.0.1:${broken.port}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual((await res.json() as { reasons: unknown }).reasons, { throws: 'no route to host', hangs: 'no answer within 100 ms' });
  } finally {
    await broken.close();
  }
});
