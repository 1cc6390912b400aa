/**
 * What meters publish on eip/{park}/{tenant}/{meter}/telemetry.
 *
 * 1. The reading envelope v1 (JSON):
 *    {"v":1,"ts":"2026-11-27T10:00:00Z","seq":42,"readings":[{"metric":"so2","value":180.5,"unit":"mg/Nm3"}]}
 *    ts is ISO 8601 or epoch (seconds, milliseconds, microseconds or nanoseconds); a reading may carry its own ts
 *    (a logger resending a buffered hour). "simulated": true marks simulator traffic.
 * 2. SenML (RFC 8428) JSON: an array of records; names resolve to metric names
 *    (the part after the last ":" or "/" of bn+n), times are seconds.
 *
 * And on .../status: {"status":"online"|"offline","ts":...} (birth and last will).
 */
import { z } from 'zod';

/**
 * Epoch numbers by magnitude: below 1e11 seconds (year 5138 in seconds), below
 * 1e14 milliseconds, below 1e17 microseconds, else nanoseconds (as many gateways
 * send). No real reading falls between the cut-offs, so the unit is never in doubt.
 */
const epochUnits: ReadonlyArray<readonly [below: number, times: number, per: number]> = [[1e11, 1000, 1], [1e14, 1, 1], [1e17, 1, 1e3], [Infinity, 1, 1e6]];

export const timestampSchema = z.union([z.string().min(1).max(64), z.number().finite().nonnegative()]);
export type TimestampInput = z.infer<typeof timestampSchema>;

/**
 * Epoch ms from ISO 8601 or epoch seconds, ms, us or ns; null when unreadable.
 * The result is finite but unbounded: the caller judges whether it is plausible.
 */
export function parseTimestamp(input: TimestampInput): number | null {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return null;
    const magnitude = Math.abs(input);
    // A plain loop: called for every message, and the last cut-off (Infinity) always matches.
    for (const [below, times, per] of epochUnits) if (magnitude < below) return Math.round((input * times) / per);
    return null;
  }
  if (/^\d+(\.\d+)?$/.test(input)) return parseTimestamp(Number(input));
  // Require a date and a zone so "10:00" or a local time is not silently misread.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(input)) return null;
  const ms = Date.parse(input);
  return Number.isNaN(ms) ? null : ms;
}

export const envelopeReadingSchema = z.object({
  metric: z.string().min(1).max(64),
  value: z.number().finite(),
  unit: z.string().min(1).max(32),
  ts: timestampSchema.optional(),
});

export const readingEnvelopeSchema = z.object({
  v: z.literal(1),
  ts: timestampSchema,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  readings: z.array(envelopeReadingSchema).min(1).max(500),
  simulated: z.boolean().optional(),
});
export type ReadingEnvelope = z.infer<typeof readingEnvelopeSchema>;

export const senmlRecordSchema = z
  .object({
    bn: z.string().optional(),
    bt: z.number().finite().optional(),
    bu: z.string().optional(),
    bv: z.number().finite().optional(),
    bver: z.number().int().optional(),
    n: z.string().optional(),
    u: z.string().optional(),
    v: z.number().finite().optional(),
    vs: z.string().optional(),
    vb: z.boolean().optional(),
    vd: z.string().optional(),
    s: z.number().finite().optional(),
    t: z.number().finite().optional(),
    ut: z.number().optional(),
  })
  .loose();
export const senmlPackSchema = z.array(senmlRecordSchema).min(1).max(500);
export type SenmlRecord = z.infer<typeof senmlRecordSchema>;

export const statusPayloadSchema = z.object({
  status: z.enum(['online', 'offline']),
  ts: timestampSchema.optional(),
  simulated: z.boolean().optional(),
});
export type StatusPayload = z.infer<typeof statusPayloadSchema>;
