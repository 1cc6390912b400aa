import { it } from 'node:test';
import assert from 'node:assert/strict';
import { EipError } from '../../../shared/errors.ts';
import { afterAttempt, isDue, newRecord, withContent, type OutboxEntry } from './outbox.ts';

const t0 = Date.UTC(2026, 10, 27, 2);
const policy = { initialMs: 1000, factor: 2, maxMs: 8000, maxAttempts: Infinity, jitter: 0 };
const base = () => newRecord({ kind: 'sparing', station: 'S-1', park: 'p', periodStart: t0, periodEnd: t0 + 3_600_000, records: 0, expected: 30 }, t0);
const rules = { settleMs: 5_000, closeAfterMs: 300_000 };

it('keys each revision for the receiver\'s dedup, and opens a new revision only after an attempt', () => {
  let r = withContent(base(), '{"a":1}', 10, 30, t0 + 1);
  assert.deepEqual([r.revision, r.state, r.idempotencyKey], [0, 'pending', `sparing:S-1:${t0}:r0`]);
  r = withContent(r, '{"a":2}', 11, 30, t0 + 2);
  assert.equal(r.revision, 0, 'still being built: same revision');
  const sent = afterAttempt({ record: r, changedAt: t0, nextAttemptAt: 0 }, { kind: 'sent', receipt: 'rcpt-1' }, t0 + 3, policy).record;
  assert.deepEqual([sent.state, sent.attempts, sent.receipt, sent.sentAt], ['sent', 1, 'rcpt-1', t0 + 3]);
  const late = withContent(sent, '{"a":3}', 30, 30, t0 + 4);
  assert.deepEqual([late.revision, late.state, late.attempts, late.idempotencyKey], [1, 'pending', 0, `sparing:S-1:${t0}:r1`]);
});

it('a failed attempt, even one the receiver may have taken, makes later content a new revision', () => {
  const r = withContent(base(), '{"a":1}', 10, 30, t0);
  const failed = afterAttempt({ record: r, changedAt: t0, nextAttemptAt: 0 }, { kind: 'failed', error: new EipError('TIMEOUT', 'no answer'), message: 'no answer' }, t0, policy);
  assert.equal(withContent(failed.record, '{"a":2}', 11, 30, t0).revision, 1);
});

it('backs off through the project\'s retry delay, honouring Retry-After; a refusal is not retried', () => {
  let e: OutboxEntry = { record: withContent(base(), '{}', 1, 30, t0), changedAt: t0, nextAttemptAt: 0 };
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    e = afterAttempt(e, { kind: 'failed', error: new EipError('UNAVAILABLE', 'down'), message: 'HTTP 503' }, t0, policy);
    waits.push(e.nextAttemptAt - t0);
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 8000]);
  assert.deepEqual([e.record.state, e.record.attempts, e.record.lastError], ['failed', 5, 'HTTP 503']);
  const hinted = afterAttempt(e, { kind: 'failed', error: new EipError('THROTTLED', 'slow down', { retryAfterMs: 60_000 }), message: 'HTTP 429' }, t0, policy);
  assert.equal(hinted.nextAttemptAt - t0, 60_000);
  const refused = afterAttempt(e, { kind: 'refused', message: 'HTTP 401: bad signature' }, t0, policy);
  assert.deepEqual([refused.record.state, refused.nextAttemptAt], ['refused', Infinity]);
  assert.equal(isDue(refused, t0 + 86_400_000, rules, true), false);
});

it('is due once quiet, out of backoff and over (by the clock, or complete)', () => {
  const e: OutboxEntry = { record: withContent(base(), '{}', 1, 30, t0), changedAt: t0 + 3_600_000, nextAttemptAt: 0 };
  const end = t0 + 3_600_000;
  assert.equal(isDue(e, end + 1_000, rules, true), false, 'still changing');
  assert.equal(isDue(e, end + 5_000, rules, true), true, 'complete and quiet');
  assert.equal(isDue(e, end + 5_000, rules, false), false, 'not complete, hour not closed by the clock');
  assert.equal(isDue(e, end + 300_000, rules, false), true, 'closed by the clock');
  assert.equal(isDue({ ...e, nextAttemptAt: end + 400_000 }, end + 300_000, rules, true), false, 'backing off');
  assert.equal(isDue({ ...e, record: { ...e.record, state: 'sent' } }, end + 300_000, rules, true), false);
});
