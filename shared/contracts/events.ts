import { z } from 'zod';
import { epochMsSchema, idSchema } from './ids.ts';

/**
 * Kafka event schemas, validated by producer and consumer alike. Every event
 * carries its schema version so a consumer can refuse what it does not know.
 */

/** One normalised reading: canonical metric and unit. */
export const readingSchema = z.object({
  metric: z.string().min(1),
  unit: z.string().min(1),
  value: z.number().finite(),
  /** Event time at the meter, epoch ms. */
  ts: epochMsSchema,
});
export type Reading = z.infer<typeof readingSchema>;

/**
 * The readings of one meter message, enriched from the registry. One Kafka
 * record per meter message (not per reading) keeps the encoding cost per
 * message, which is where ingest spends its CPU.
 */
export const readingBatchEventSchema = z.object({
  v: z.literal(1),
  park: idSchema,
  tenant: idSchema,
  meter: idSchema,
  /** The meter's message sequence number, for dedup by (meter, seq). */
  seq: z.number().int().nonnegative(),
  /** When ingest received it, epoch ms. */
  receivedAt: epochMsSchema,
  simulated: z.boolean().default(false),
  readings: z.array(readingSchema).min(1),
});
export type ReadingBatchEvent = z.infer<typeof readingBatchEventSchema>;

export const windowSizes = ['1m', '15m', '1h', '1d'] as const;
export const windowSizeSchema = z.enum(windowSizes);
export type WindowSize = z.infer<typeof windowSizeSchema>;
export const windowMs: Record<WindowSize, number> = { '1m': 60_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };

export const aggregateScopeSchema = z.enum(['meter', 'tenant', 'park']);
export type AggregateScope = z.infer<typeof aggregateScopeSchema>;

/** rollover, reset and swap are what the readings show; declared-* a change the registry declares (booked exactly, no alert). */
export const registerEventSchema = z.enum(['rollover', 'reset', 'swap', 'declared-swap', 'declared-reset']);

/** One closed (or updated, when late data arrives) event-time window. */
export const aggregateEventSchema = z.object({
  v: z.literal(1),
  /** Deterministic: the same window always gets the same id, so replays dedupe. */
  windowId: z.string().min(1),
  /** Increments when late data revises an already emitted window. */
  revision: z.number().int().nonnegative(),
  scope: aggregateScopeSchema,
  park: idSchema,
  tenant: idSchema.optional(),
  meter: idSchema.optional(),
  metric: z.string().min(1),
  unit: z.string().min(1),
  window: windowSizeSchema,
  start: epochMsSchema,
  end: epochMsSchema,
  count: z.number().int().nonnegative(),
  sum: z.number().finite(),
  min: z.number().finite(),
  max: z.number().finite(),
  mean: z.number().finite(),
  last: z.number().finite(),
  /** Cumulative registers only: what was consumed in the window. */
  consumption: z.number().finite().optional(),
  registerEvents: z.array(registerEventSchema).default([]),
  /** Samples received over samples expected from the cadence, 0..1 (may exceed 1 with duplicates). */
  completeness: z.number().nonnegative().optional(),
  /** Samples the meter's cadence gives the window (meter windows only): completeness = count / expected. */
  expected: z.number().positive().finite().optional(),
  /** Event time of `last`: what a tenant or park window recomputed from stored meter windows picks its `last` by. */
  lastAt: epochMsSchema.optional(),
  simulated: z.boolean().default(false),
});
export type AggregateEvent = z.infer<typeof aggregateEventSchema>;

export const severitySchema = z.enum(['info', 'warning', 'critical', 'data-quality']);
export type Severity = z.infer<typeof severitySchema>;

export const alertStateSchema = z.enum(['pending', 'firing', 'acknowledged', 'resolved']);
export type AlertState = z.infer<typeof alertStateSchema>;

/** Which dated version of a registry limit or factor applied: its reference and validity as written in the registry (no from: undated). */
export const limitVersionRefSchema = z.object({
  reference: z.string().min(1),
  from: z.string().optional(),
  to: z.string().optional(),
});
export type LimitVersionRef = z.infer<typeof limitVersionRefSchema>;

/** A transition of one alert (rule, scope), with the provenance that caused it. */
export const alertEventSchema = z.object({
  v: z.literal(1),
  fingerprint: z.string().min(1),
  /** Monotonic per fingerprint, so consumers can drop replays. */
  transition: z.number().int().positive(),
  state: alertStateSchema,
  previousState: alertStateSchema.nullable(),
  severity: severitySchema,
  ruleId: z.string().min(1),
  ruleVersion: z.number().int().nonnegative(),
  park: idSchema,
  tenant: idSchema.optional(),
  meter: idSchema.optional(),
  metric: z.string().optional(),
  summary: z.string(),
  provenance: z.object({
    values: z.array(z.number()),
    threshold: z.number().optional(),
    window: z.object({ start: epochMsSchema, end: epochMsSchema }).optional(),
    detail: z.string().optional(),
    /** The registry version of the limit that applied (absent: a limit from the pack, or an event of an older release). */
    limit: limitVersionRefSchema.optional(),
  }),
  at: epochMsSchema,
  by: z.string().optional(),
  simulated: z.boolean().default(false),
  /** A silence matched it: recorded and shown, not notified over MQTT or webhooks. */
  silenced: z.boolean().optional(),
});
export type AlertEvent = z.infer<typeof alertEventSchema>;

export const silenceMatcherSchema = z.object({
  park: idSchema.optional(),
  tenant: idSchema.optional(),
  meter: idSchema.optional(),
  ruleId: z.string().optional(),
  metric: z.string().optional(),
});

export const alertCommandSchema = z.discriminatedUnion('kind', [
  z.object({ v: z.literal(1), kind: z.literal('acknowledge'), commandId: z.string().min(1), fingerprint: z.string().min(1), by: z.string().min(1), at: epochMsSchema, comment: z.string().optional() }),
  z.object({ v: z.literal(1), kind: z.literal('resolve'), commandId: z.string().min(1), fingerprint: z.string().min(1), by: z.string().min(1), at: epochMsSchema, comment: z.string().optional() }),
  z.object({
    v: z.literal(1), kind: z.literal('silence'), commandId: z.string().min(1), by: z.string().min(1), at: epochMsSchema,
    silenceId: z.string().min(1),
    matchers: silenceMatcherSchema,
    startsAt: epochMsSchema,
    endsAt: epochMsSchema,
    /** Optional recurring maintenance window, e.g. every day 22:00 for 2 h. */
    recurrence: z.object({ everyMs: z.number().int().positive(), durationMs: z.number().int().positive() }).optional(),
    comment: z.string().optional(),
  }),
  z.object({ v: z.literal(1), kind: z.literal('unsilence'), commandId: z.string().min(1), by: z.string().min(1), at: epochMsSchema, silenceId: z.string().min(1) }),
]);
export type AlertCommand = z.infer<typeof alertCommandSchema>;

export const deadLetterReasonSchema = z.enum([
  'oversized', 'not-json', 'schema', 'unknown-topic', 'unknown-meter', 'foreign-tenant', 'unknown-metric', 'unknown-unit',
  'future-timestamp', 'past-timestamp', 'bad-timestamp', 'non-finite-value', 'decode-error', 'bad-event',
  // A sink (time-series store, bus, MQTT) refused the record as not retriable; the detail names the sink and its answer.
  'sink-refused',
]);
export type DeadLetterReason = z.infer<typeof deadLetterReasonSchema>;

export const deadLetterSchema = z.object({
  v: z.literal(1),
  reason: deadLetterReasonSchema,
  detail: z.string(),
  /** Which stage refused it, e.g. "ingest". */
  stage: z.string().min(1),
  /** MQTT topic or Kafka topic it came from. */
  source: z.string(),
  payloadBase64: z.string(),
  receivedAt: epochMsSchema,
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

export const meterStatusSchema = z.object({
  v: z.literal(1),
  park: idSchema,
  tenant: idSchema,
  meter: idSchema,
  status: z.enum(['online', 'offline']),
  /** birth: the meter said hello; will: the broker published its last will; deadman: silence detected. */
  cause: z.enum(['birth', 'will', 'deadman', 'shutdown']),
  at: epochMsSchema,
  simulated: z.boolean().default(false),
});
export type MeterStatusEvent = z.infer<typeof meterStatusSchema>;
