/** deliver() against the stand-in receiver and a few hand-made answers: what counts as sent, failed and refused. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startReceiver } from '../../simulators/receiver/receiver.ts';
import { signHs256 } from './domain/jwt.ts';
import { deliver } from './receiver-client.ts';
import type { AttemptOutcome } from './domain/outbox.ts';

const payload = { uid: 'S-1', data: [{ datetime: 1795744800, pH: 7, cod: 1, tss: 1, nh3n: 1, debit: 1 }] };

it('sent on 2xx with the receipt, once per key at the stand-in; refused on a bad signature or schema; failed when down or silent', async () => {
  const receiver = await startReceiver({ secretOf: (uid) => (uid === 'S-1' ? 'right-secret-0123456' : undefined) });
  try {
    const d = (body: unknown, key = 'k1') => deliver({ url: `${receiver.url}/sparing`, body: JSON.stringify(body), idempotencyKey: key, timeoutMs: 500 });
    const ok = await d({ token: signHs256(payload, 'right-secret-0123456') });
    assert.equal(ok.kind, 'sent');
    const again = await d({ token: signHs256(payload, 'right-secret-0123456') });
    const receiptOf = (o: AttemptOutcome): { receipt?: string; duplicate?: boolean } => (o.kind === 'sent' ? JSON.parse(o.receipt) as { receipt?: string; duplicate?: boolean } : {});
    assert.deepEqual(receiptOf(again), { receipt: receiptOf(ok).receipt, duplicate: true }, 'the first receipt again');
    assert.equal(receiver.accepted().length, 1, 'the repeat is not booked again');
    const bad = await d({ token: signHs256(payload, 'wrong-secret') }, 'k2');
    assert.ok(bad.kind === 'refused' && /HTTP 401/.test(bad.message));
    const schema = await d({ token: signHs256({ uid: 'S-1', data: [{ datetime: 7 }] }, 'right-secret-0123456') }, 'k3');
    assert.ok(schema.kind === 'refused' && /HTTP 422/.test(schema.message));
    receiver.setMode('unavailable');
    assert.equal((await d({ token: 'x' }, 'k4')).kind, 'failed');
    receiver.setMode('timeout');
    const silent = await d({ token: signHs256(payload, 'right-secret-0123456') }, 'k5');
    assert.ok(silent.kind === 'failed' && /no answer within 500 ms/.test(silent.message));
    assert.equal(receiver.accepted().length, 2, 'a silent receiver may still have taken it: hence the key');
  } finally {
    await receiver.close();
  }
  const closed = await deliver({ url: `${receiver.url}/sparing`, body: '{}', idempotencyKey: 'k', timeoutMs: 500 });
  assert.equal(closed.kind, 'failed', 'connection refused');
});

it('honours Retry-After on 429', async () => {
  const server = createServer((_req, res) => { res.writeHead(429, { 'retry-after': '7' }); res.end('slow down'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const out = await deliver({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, body: '{}', idempotencyKey: 'k', timeoutMs: 500 });
    assert.ok(out.kind === 'failed');
    assert.equal((out.error as { retryAfterMs?: number }).retryAfterMs, 7000);
  } finally {
    server.close();
  }
});
