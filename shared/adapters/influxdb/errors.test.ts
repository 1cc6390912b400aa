import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromStatus } from './errors.ts';
import { classifyWriteFailure } from '../../write-isolating.ts';

describe('InfluxDB answers as write failures', () => {
  for (const [status, code, failure] of [
    [400, 'REJECTED', 'refused'], // a line InfluxDB cannot parse
    [422, 'REJECTED', 'refused'], // beyond the bucket's retention, a field type conflict, a partial write
    [413, 'TOO_LARGE', 'refused'],
    [401, 'UNAUTHORIZED', 'blocked'], // a misconfiguration, not bad data: held and retried, never dead-lettered
    [403, 'UNAUTHORIZED', 'blocked'],
    [404, 'NOT_FOUND', 'blocked'],
    [429, 'THROTTLED', 'retriable'],
    [503, 'THROTTLED', 'retriable'],
    [500, 'UNAVAILABLE', 'retriable'],
  ] as const) {
    it(`${status} -> ${code}, ${failure}`, () => {
      const err = fromStatus(status, 'answer', 'write readings');
      assert.equal(err.code, code);
      assert.equal(classifyWriteFailure(err), failure);
    });
  }
  it('429 and 503 carry Retry-After in milliseconds', () => {
    assert.equal(fromStatus(429, 'slow down', 'write', '7').retryAfterMs, 7_000);
    assert.equal(fromStatus(503, 'busy', 'write', ['2.5']).retryAfterMs, 2_500);
    assert.equal(fromStatus(429, 'slow down', 'write').retryAfterMs, undefined);
  });
});
