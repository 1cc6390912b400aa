/**
 * The outbox's state transitions, pure and with the clock passed in. One
 * record per (kind, station, period); the latest is the submission's state.
 *
 * A period whose content changes after any attempt gets a new revision (and a
 * new idempotency key): a receiver that took the old body, even one whose
 * answer we never saw, gets the new one as a new delivery, never as a
 * duplicate it would drop. Content changes before the first attempt stay in
 * the revision being built.
 */
import { submissionIdempotencyKey, type SubmissionRecord } from '../../../shared/contracts/submissions.ts';
import { retryDelay, type RetryPolicy } from '../../../shared/retry.ts';

/** What one delivery attempt came to. */
export type AttemptOutcome =
  | { kind: 'sent'; receipt: string }
  | { kind: 'failed'; error: unknown; message: string }
  | { kind: 'refused'; message: string };

export interface OutboxEntry {
  record: SubmissionRecord;
  /** When the content last changed (in memory only): a period is sent once it has been quiet for a while. */
  changedAt: number;
  /** Earliest next attempt after a failure (in memory only: a restart tries at once). */
  nextAttemptAt: number;
}

const cut = (s: string): string => (s.length > 2000 ? s.slice(0, 2000) : s);

/** The record after the period's content changed to `body` with `records` of `expected`. */
export function withContent(prev: SubmissionRecord, body: string, records: number, expected: number, now: number): SubmissionRecord {
  const attempted = prev.attempts > 0 || prev.state !== 'pending';
  const revision = attempted ? prev.revision + 1 : prev.revision;
  const next: SubmissionRecord = { ...prev, body, records, expected, revision, updatedAt: now, state: 'pending', attempts: attempted ? 0 : prev.attempts };
  delete next.lastError;
  next.idempotencyKey = submissionIdempotencyKey(next);
  return next;
}

export function newRecord(base: Omit<SubmissionRecord, 'v' | 'state' | 'attempts' | 'revision' | 'updatedAt' | 'idempotencyKey'>, now: number): SubmissionRecord {
  const record: SubmissionRecord = { v: 1, ...base, state: 'pending', attempts: 0, revision: 0, updatedAt: now };
  record.idempotencyKey = submissionIdempotencyKey(record);
  return record;
}

/** Applies an attempt's outcome; a failure schedules the next attempt through the project's retry delay. */
export function afterAttempt(entry: OutboxEntry, outcome: AttemptOutcome, now: number, policy: RetryPolicy, random: () => number = Math.random): OutboxEntry {
  const attempts = entry.record.attempts + 1;
  const base = { ...entry.record, attempts, updatedAt: now };
  if (outcome.kind === 'sent') {
    const record: SubmissionRecord = { ...base, state: 'sent', receipt: cut(outcome.receipt), sentAt: now };
    delete record.lastError;
    return { ...entry, record, nextAttemptAt: now };
  }
  if (outcome.kind === 'refused') return { ...entry, record: { ...base, state: 'refused', lastError: cut(outcome.message) }, nextAttemptAt: Infinity };
  return { ...entry, record: { ...base, state: 'failed', lastError: cut(outcome.message) }, nextAttemptAt: now + retryDelay(outcome.error, attempts, policy, random) };
}

export interface DueRules {
  /** The content must have been unchanged this long (a batch still arriving). */
  settleMs: number;
  /** A period is complete this long after its end, by the clock. */
  closeAfterMs: number;
}

/**
 * Whether to attempt it now: pending or failed, its backoff over, its content
 * quiet, and its period over (closed by the clock, or `complete`: every record
 * it can hold is there, or newer data shows the source has moved on).
 */
export function isDue(entry: OutboxEntry, now: number, rules: DueRules, complete: boolean): boolean {
  const { state, periodEnd } = entry.record;
  if (state !== 'pending' && state !== 'failed') return false;
  if (now < entry.nextAttemptAt || now - entry.changedAt < rules.settleMs) return false;
  return complete || now >= periodEnd + rules.closeAfterMs;
}
