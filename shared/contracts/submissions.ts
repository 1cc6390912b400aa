/**
 * Regulatory submissions (SPARING 2-minute batches, SISPEK-style hourly CEMS
 * averages): one record per (kind, station, period), the reporting service's
 * durable outbox and receipt log on a compacted topic. The latest record of a
 * key is the submission's state; the console and the compliance pack read it.
 */
import { z } from 'zod';
import { epochMsSchema, idSchema } from './ids.ts';

export const submissionKindSchema = z.enum(['sparing', 'sispek']);
export type SubmissionKind = z.infer<typeof submissionKindSchema>;

/**
 * pending: in the outbox, not yet accepted; sent: the receiver accepted it
 * (receipt kept); failed: the last attempt failed and it will be retried;
 * refused: the receiver refused it as invalid (a bad signature, a schema error)
 * and it is not retried until the configuration changes.
 */
export const submissionStateSchema = z.enum(['pending', 'sent', 'failed', 'refused']);
export type SubmissionState = z.infer<typeof submissionStateSchema>;

export const submissionRecordSchema = z.object({
  v: z.literal(1),
  kind: submissionKindSchema,
  /** The station (SPARING uid) or stack (meter id) the submission is for. */
  station: z.string().min(1).max(200),
  park: idSchema,
  tenant: idSchema.optional(),
  meter: idSchema.optional(),
  /** The period covered: [start, end) epoch ms (an hour, or a 2-minute slot). */
  periodStart: epochMsSchema,
  periodEnd: epochMsSchema,
  /** Records in the body, and records the period should hold (its completeness is records / expected). */
  records: z.number().int().nonnegative(),
  expected: z.number().int().nonnegative(),
  state: submissionStateSchema,
  attempts: z.number().int().nonnegative(),
  /** Increments each time the period's content changes (late records resent). */
  revision: z.number().int().nonnegative(),
  /** The last error (status code and message) when failed or refused. */
  lastError: z.string().max(2000).optional(),
  /** What the receiver answered on acceptance (its receipt id or body, cut to 2000 characters). */
  receipt: z.string().max(2000).optional(),
  sentAt: epochMsSchema.optional(),
  updatedAt: epochMsSchema,
  /**
   * The body sent (JSON, before signing), so a restart resends exactly what was
   * tried and an auditor sees what the receiver got. Optional for older records.
   */
  body: z.string().max(200_000).optional(),
  /** The key the receiver dedups on: `<kind>:<station>:<period start>:r<revision>`. */
  idempotencyKey: z.string().max(400).optional(),
});
export type SubmissionRecord = z.infer<typeof submissionRecordSchema>;

/** The compacted topic's key: one submission per (kind, station, period start). */
export function submissionKey(r: Pick<SubmissionRecord, 'kind' | 'station' | 'periodStart'>): string {
  return `${r.kind}:${r.station}:${r.periodStart}`;
}

/** What a receiver dedups on: one delivery per (kind, station, period, revision). */
export function submissionIdempotencyKey(r: Pick<SubmissionRecord, 'kind' | 'station' | 'periodStart' | 'revision'>): string {
  return `${submissionKey(r)}:r${r.revision}`;
}
