import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { startTestConsole, password } from '../testing.ts';

it('sends ping events a browser can see, and ends open streams when the server closes', { timeout: 30_000 }, async () => {
  const c = await startTestConsole({ heartbeatMs: 1_000 });
  try {
    const signIn = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'vic', password: password('vic') } });
    const cookie = `eip_session=${signIn.cookies.find((k) => k.name === 'eip_session')!.value}`;
    await c.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (c.app.server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/api/alerts/stream`, { headers: { cookie } });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!/event: ping\ndata: \d+\n\n/.test(text)) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'stream ended before a ping');
      text += Buffer.from(value).toString('utf8');
    }
    // close() must not wait for the client to hang up.
    const closed = c.app.close();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    await closed;
  } finally {
    await c.close();
  }
});
