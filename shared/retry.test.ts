import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { retry, backoffDelay } from './retry.ts';
import { EipError } from './errors.ts';

describe('retry', () => {
  it('retries retriable errors with growing delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retry(async () => {
      calls++;
      if (calls < 4) throw new EipError('UNAVAILABLE', 'down');
      return 'ok';
    }, { policy: { jitter: 0 }, sleep: async (ms) => { delays.push(ms); } });
    assert.equal(result, 'ok');
    assert.deepEqual(delays, [300, 600, 1200]);
  });
  it('does not retry errors that say retrying cannot help', async () => {
    let calls = 0;
    await assert.rejects(retry(async () => { calls++; throw new EipError('UNAUTHORIZED', 'no'); }, { sleep: async () => {} }), /no/);
    assert.equal(calls, 1);
  });
  it('honours Retry-After and the cap', async () => {
    const delays: number[] = [];
    let calls = 0;
    await retry(async () => { if (calls++ === 0) throw new EipError('THROTTLED', 'slow down', { retryAfterMs: 5000 }); }, { policy: { jitter: 0 }, sleep: async (ms) => { delays.push(ms); } });
    assert.deepEqual(delays, [5000]);
    assert.equal(backoffDelay(30, { initialMs: 300, factor: 2, maxMs: 30_000, maxAttempts: Infinity, jitter: 0 }), 30_000);
  });
  it('gives up after maxAttempts', async () => {
    let calls = 0;
    await assert.rejects(retry(async () => { calls++; throw new EipError('TIMEOUT', 't'); }, { policy: { maxAttempts: 3 }, sleep: async () => {} }));
    assert.equal(calls, 3);
  });
});
