/**
 * The console's HTTP API contract: every request and response body, as zod
 * schemas. The server validates with them, the OpenAPI document is generated
 * from them and the web UI imports their types, so the three cannot drift.
 */
import { z } from 'zod';
import { alertEventSchema, alertStateSchema, deadLetterReasonSchema, severitySchema, windowSizeSchema, aggregateScopeSchema, registerEventSchema } from '../../../shared/contracts/events.ts';
import { defaultMinCompleteness } from '../../../shared/contracts/completeness.ts';
import { epochMsSchema, idSchema } from '../../../shared/contracts/ids.ts';
import { meterKinds } from '../../../shared/contracts/park-registry.ts';
import { instantQuery } from './instant-query.ts';
import { submissionRecordSchema, submissionKindSchema, submissionStateSchema } from '../../../shared/contracts/submissions.ts';

export const roles = ['viewer', 'operator', 'admin'] as const;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;

export const errorBodySchema = z.object({
  error: z.string().describe('machine-readable code, e.g. unauthorized, forbidden, invalid-request, not-found'),
  message: z.string(),
  /** For invalid-request: which field and why. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

// --- session -----------------------------------------------------------------

export const signInRequestSchema = z.strictObject({
  username: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
});
export type SignInRequest = z.infer<typeof signInRequestSchema>;

/** `parks: ["*"]` means every park in the registry. */
export const meSchema = z.object({
  name: z.string(),
  role: roleSchema,
  parks: z.array(z.string()),
  /** How the caller proved who they are. */
  via: z.enum(['session', 'token']),
});
export type Me = z.infer<typeof meSchema>;

export const sessionsRevokedSchema = z.object({
  user: z.string(),
  /** Every session of the user issued until this time (epoch ms) is refused by every console instance. */
  revokedUntil: epochMsSchema,
});
export type SessionsRevoked = z.infer<typeof sessionsRevokedSchema>;

// --- parks, tenants, meters ---------------------------------------------------

export const meterHealthSchema = z.object({
  status: z.enum(['online', 'offline', 'unknown']),
  /** Why: the meter's own birth / last will, a deadman alert, or no word yet. */
  cause: z.enum(['birth', 'will', 'deadman', 'shutdown', 'silence', 'none']),
  /** When a reading of this meter last reached the pipeline, epoch ms. */
  lastSeen: epochMsSchema.nullable(),
  statusAt: epochMsSchema.nullable(),
});
export type MeterHealth = z.infer<typeof meterHealthSchema>;

export const meterViewSchema = z.object({
  id: idSchema,
  tenant: idSchema,
  kind: z.enum(meterKinds),
  cadenceSeconds: z.number(),
  metrics: z.array(z.string()),
  /** Permit limits from the registry per metric, in the metric's canonical unit. */
  limits: z.record(z.string(), z.object({ min: z.number().optional(), max: z.number().optional() })),
  health: meterHealthSchema,
});
export type MeterView = z.infer<typeof meterViewSchema>;

export const tenantViewSchema = z.object({
  id: idSchema,
  name: z.string(),
  sector: z.string(),
  meters: z.array(meterViewSchema),
  /** Alerts not resolved, by severity. */
  openAlerts: z.record(severitySchema, z.number().int()),
});
export type TenantView = z.infer<typeof tenantViewSchema>;

export const parkSummarySchema = z.object({
  id: idSchema,
  name: z.string(),
  timezone: z.string(),
  tenants: z.number().int(),
  meters: z.number().int(),
  metersOnline: z.number().int(),
  openAlerts: z.record(severitySchema, z.number().int()),
  /** Regulatory submissions held whose latest state is failed (to be retried) or refused (needs a configuration change). */
  submissionsFailing: z.object({ failed: z.number().int(), refused: z.number().int() }),
});
export type ParkSummary = z.infer<typeof parkSummarySchema>;

export const parkViewSchema = parkSummarySchema.extend({
  tenantViews: z.array(tenantViewSchema),
});
export type ParkView = z.infer<typeof parkViewSchema>;

/** Month to date, in the park's time zone. null: nothing measured yet. */
export const totalLineSchema = z.object({
  metric: z.string(),
  unit: z.string(),
  value: z.number().nullable(),
  budget: z.number().nullable(),
  /** The budget prorated to now: value above it means the month is heading over budget. */
  budgetToDate: z.number().nullable(),
});
/** One emission factor version and the part of the month [from, to) it was applied to. */
export const factorUseSchema = z.object({
  kgCo2ePerKwh: z.number(),
  reference: z.string(),
  validFrom: z.string().optional().describe('the version\'s validity as written in the registry (absent: undated)'),
  validTo: z.string().optional(),
  from: epochMsSchema,
  to: epochMsSchema,
  energyKwh: z.number().nullable(),
  co2eKg: z.number().nullable(),
});
export const parkTotalsSchema = z.object({
  park: idSchema,
  month: z.string().describe('YYYY-MM in the park time zone'),
  from: epochMsSchema,
  to: epochMsSchema,
  energyKwh: totalLineSchema,
  waterM3: totalLineSchema,
  co2eKg: totalLineSchema,
  tenants: z.array(z.object({
    tenant: idSchema, energyKwh: z.number().nullable(), waterM3: z.number().nullable(), co2eKg: z.number().nullable(), co2eBudgetKg: z.number().nullable(),
    factors: z.array(factorUseSchema).describe('the emission factor versions the CO2e total used, one per part of the month'),
  })),
});
export type ParkTotals = z.infer<typeof parkTotalsSchema>;

// --- series -------------------------------------------------------------------

const intFromQuery = z.coerce.number().int();
const minCompletenessQuery = z.coerce.number().min(0).max(1).default(defaultMinCompleteness)
  .describe(`a window below this completeness (received / expected records) is incomplete; default ${defaultMinCompleteness}`);

export const seriesQuerySchema = z.strictObject({
  tenant: idSchema.optional(),
  meter: idSchema.optional(),
  metric: z.string().min(1),
  /** Inclusive. */
  from: instantQuery,
  /** Exclusive. */
  to: instantQuery,
  /** raw: readings as stored; window: the aggregator's stored windows (scope from tenant/meter given). */
  source: z.enum(['raw', 'window']).default('raw'),
  window: windowSizeSchema.default('1m'),
  /** For window source: which field of each window to plot. */
  field: z.enum(['mean', 'min', 'max', 'last', 'sum', 'consumption']).default('mean'),
  limit: intFromQuery.min(1).max(20_000).default(5_000),
  minCompleteness: minCompletenessQuery,
});
export type SeriesQuery = z.infer<typeof seriesQuerySchema>;

/** One stored window behind a point of a window series: what it holds and how much it can be trusted. */
export const windowPointSchema = z.object({
  /** Window start, epoch ms (the point's time). */
  start: epochMsSchema,
  value: z.number(),
  /** Records received in the window. */
  count: z.number().int(),
  /** Records the meter's cadence gives the window (meter windows; roll-ups have none). */
  expected: z.number().optional(),
  /** count / expected (may exceed 1 with duplicates); meter windows only. */
  completeness: z.number().optional(),
  /** completeness below minCompleteness: reported, not judged. Absent where completeness is unknown. */
  incomplete: z.boolean().optional(),
  /** 0 first, +1 each time late data revised the window. */
  revision: z.number().int().optional(),
  /** Register events in the window: rollover (booked across the wrap), reset, swap. */
  registerEvents: z.array(registerEventSchema),
});
export type WindowPoint = z.infer<typeof windowPointSchema>;

export const seriesSchema = z.object({
  park: idSchema,
  tenant: idSchema.optional(),
  meter: idSchema.optional(),
  scope: aggregateScopeSchema,
  metric: z.string(),
  unit: z.string(),
  source: z.enum(['raw', 'window']),
  window: windowSizeSchema.optional(),
  /** [epoch ms, value], oldest first. */
  points: z.array(z.tuple([epochMsSchema, z.number()])),
  /** source=window: the window behind each point, same order and length as points. */
  windows: z.array(windowPointSchema).optional(),
  /** The completeness threshold incomplete was judged with (source=window). */
  minCompleteness: z.number().optional(),
  /** Limits that apply to this series (registry permit limits), for drawing lines. */
  limits: z.object({ min: z.number().optional(), max: z.number().optional() }),
  truncated: z.boolean(),
});
export type Series = z.infer<typeof seriesSchema>;

// --- data quality of a tenant ----------------------------------------------------

/** The longest range one data-quality request may cover. */
export const qualityMaxRangeMs = 31 * 86_400_000;

export const tenantQualityQuerySchema = z.strictObject({
  from: instantQuery,
  to: instantQuery,
  minCompleteness: minCompletenessQuery,
  /** Rows kept per list, newest first. */
  limit: intFromQuery.min(1).max(5_000).default(500),
});
export type TenantQualityQuery = z.infer<typeof tenantQualityQuerySchema>;

export const incompleteHourSchema = z.object({
  meter: idSchema,
  metric: z.string(),
  /** Hour start, epoch ms. */
  start: epochMsSchema,
  count: z.number().int(),
  expected: z.number().optional(),
  completeness: z.number(),
  revision: z.number().int().optional(),
  /** No window at all: the stream sent nothing that hour (between its first hour in the range and the last closed hour). */
  missing: z.boolean(),
});
export type IncompleteHour = z.infer<typeof incompleteHourSchema>;

export const registerEventRowSchema = z.object({
  meter: idSchema,
  metric: z.string(),
  /** Start of the window the event was found in: the minute, or the hour when the minute was not looked up. */
  at: epochMsSchema,
  window: z.enum(['1m', '1h']),
  event: registerEventSchema,
  /** What the window booked as consumed across the event. */
  consumption: z.number().optional(),
  revision: z.number().int().optional(),
});
export type RegisterEventRow = z.infer<typeof registerEventRowSchema>;

export const tenantQualitySchema = z.object({
  park: idSchema,
  tenant: idSchema,
  from: epochMsSchema,
  to: epochMsSchema,
  minCompleteness: z.number(),
  /** Meter hours below minCompleteness, or with no record, newest first. */
  incompleteHours: z.array(incompleteHourSchema),
  /** Register events of the tenant's meters, newest first. */
  registerEvents: z.array(registerEventRowSchema),
  /** Hours judged per meter and metric (closed hours from the stream's first in the range), and how many were incomplete. */
  streams: z.array(z.object({ meter: idSchema, metric: z.string(), hours: z.number().int(), incomplete: z.number().int(), registerEvents: z.number().int() })),
  /** A list was cut at limit. */
  truncated: z.boolean(),
});
export type TenantQuality = z.infer<typeof tenantQualitySchema>;

// --- alerts -------------------------------------------------------------------

/** The latest transition of one alert, plus who handled it. */
export const alertViewSchema = alertEventSchema.extend({
  /** When this alert (this episode) first entered pending or firing. */
  since: epochMsSchema,
  acknowledgedBy: z.string().optional(),
  acknowledgedAt: epochMsSchema.optional(),
  resolvedBy: z.string().optional(),
  /** True when an active silence matches it (notifications muted, still listed). */
  silenced: z.boolean(),
});
export type AlertView = z.infer<typeof alertViewSchema>;

export const alertDetailSchema = alertViewSchema.extend({
  history: z.array(alertEventSchema).describe('every transition of this fingerprint the console has seen, oldest first'),
});
export type AlertDetail = z.infer<typeof alertDetailSchema>;

const listOf = <T extends z.ZodType>(item: T) => z.string().optional().transform((s, ctx) => {
  if (s === undefined || s === '') return undefined;
  const parts = s.split(',').map((p) => p.trim()).filter(Boolean);
  const out: Array<z.infer<T>> = [];
  for (const p of parts) {
    const r = item.safeParse(p);
    if (!r.success) {
      ctx.addIssue({ code: 'custom', message: `"${p}" is not allowed` });
      return z.NEVER;
    }
    out.push(r.data);
  }
  return out;
});

export const alertQuerySchema = z.strictObject({
  park: idSchema.optional(),
  tenant: idSchema.optional(),
  meter: idSchema.optional(),
  /** Comma-separated. */
  severity: listOf(severitySchema),
  /** Comma-separated; "open" means pending, firing and acknowledged. Default: open. */
  state: z.string().optional().default('open').transform((s, ctx) => {
    if (s === 'all') return undefined;
    const parts = s === 'open' ? ['pending', 'firing', 'acknowledged'] : s.split(',').map((p) => p.trim()).filter(Boolean);
    for (const p of parts) if (!alertStateSchema.safeParse(p).success) {
      ctx.addIssue({ code: 'custom', message: `"${p}" is not a state (pending, firing, acknowledged, resolved, open, all)` });
      return z.NEVER;
    }
    return parts as Array<z.infer<typeof alertStateSchema>>;
  }),
  /** Last transition at or after (inclusive) and before (exclusive). */
  from: instantQuery.optional(),
  to: instantQuery.optional(),
  limit: intFromQuery.min(1).max(5_000).default(500),
});
export type AlertQuery = z.infer<typeof alertQuerySchema>;

export const alertListSchema = z.object({ alerts: z.array(alertViewSchema), total: z.number().int() });
export type AlertList = z.infer<typeof alertListSchema>;

export const alertActionRequestSchema = z.strictObject({ comment: z.string().max(1_000).optional() });
export type AlertActionRequest = z.infer<typeof alertActionRequestSchema>;

/** Commands are accepted, not applied: the rules service applies them and the change arrives as a transition. */
export const commandAcceptedSchema = z.object({ commandId: z.string(), kind: z.enum(['acknowledge', 'resolve', 'silence', 'unsilence']), silenceId: z.string().optional() });
export type CommandAccepted = z.infer<typeof commandAcceptedSchema>;

export const silenceRequestSchema = z.strictObject({
  park: idSchema,
  tenant: idSchema.optional(),
  meter: idSchema.optional(),
  ruleId: z.string().min(1).optional(),
  metric: z.string().min(1).optional(),
  startsAt: epochMsSchema.optional().describe('default: now'),
  endsAt: epochMsSchema,
  recurrence: z.strictObject({ everyMs: z.number().int().positive(), durationMs: z.number().int().positive() }).optional(),
  comment: z.string().max(1_000).optional(),
}).refine((s) => s.startsAt === undefined || s.startsAt < s.endsAt, { message: 'startsAt must be before endsAt', path: ['endsAt'] });
export type SilenceRequest = z.infer<typeof silenceRequestSchema>;

export const silenceViewSchema = z.object({
  silenceId: z.string(),
  park: idSchema,
  matchers: z.object({ park: idSchema.optional(), tenant: idSchema.optional(), meter: idSchema.optional(), ruleId: z.string().optional(), metric: z.string().optional() }),
  startsAt: epochMsSchema,
  endsAt: epochMsSchema,
  recurrence: z.object({ everyMs: z.number(), durationMs: z.number() }).optional(),
  by: z.string(),
  comment: z.string().optional(),
});
export type SilenceView = z.infer<typeof silenceViewSchema>;
export const silenceListSchema = z.object({ silences: z.array(silenceViewSchema) });

// --- rule pack, dead letters ------------------------------------------------------

export const rulePackViewSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  path: z.string(),
  rules: z.array(z.object({
    id: z.string(),
    version: z.number(),
    kind: z.string(),
    description: z.string(),
    source: z.string().optional(),
    metric: z.string().optional(),
    severities: z.array(z.string()),
    /** The rule as written in the pack (YAML-equivalent JSON). */
    spec: z.record(z.string(), z.unknown()),
  })),
});
export type RulePackView = z.infer<typeof rulePackViewSchema>;

export const deadLetterViewSchema = z.object({
  reason: deadLetterReasonSchema,
  detail: z.string(),
  stage: z.string(),
  source: z.string(),
  receivedAt: epochMsSchema,
  /** The payload as text when it is valid UTF-8 (first 2 KiB), else null. */
  payloadText: z.string().nullable(),
  payloadBytes: z.number().int(),
  /** Park the source topic names, when it names one. */
  park: z.string().nullable(),
});
export type DeadLetterView = z.infer<typeof deadLetterViewSchema>;
export const deadLetterQuerySchema = z.strictObject({
  park: idSchema.optional(),
  limit: intFromQuery.min(1).max(5_000).default(200),
});

export const deadLetterListSchema = z.object({
  deadLetters: z.array(deadLetterViewSchema),
  /** Counts by reason since the console started. */
  byReason: z.record(z.string(), z.number().int()),
});
export type DeadLetterList = z.infer<typeof deadLetterListSchema>;

/** Server-Sent Events on GET /api/alerts/stream: event "alert" carries an AlertView; "ready" once the backlog was sent. */
export const sseEventNames = ['alert', 'ready', 'ping'] as const;

export const compliancePackQuerySchema = z.strictObject({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM').refine((m) => Number(m.slice(0, 4)) >= 1970 && Number(m.slice(0, 4)) <= 2200, 'must be a year from 1970 to 2200')
    .optional().describe('calendar month in the park\'s time zone, YYYY-MM; default: the current month'),
  tenant: idSchema.optional().describe('one tenant of the park; default: the whole park'),
  format: z.enum(['zip', 'pdf']).default('pdf').describe('pdf: the report with charts; zip: one CSV file per table'),
  minCompleteness: z.coerce.number().min(0).max(1).default(defaultMinCompleteness).describe('an hour below this share of its expected records is incomplete, not judged'),
});
export type CompliancePackQuery = z.infer<typeof compliancePackQuerySchema>;

/** GET /api/parks/{park}/submissions: the reporting service's submissions as the console holds them. */
export const submissionsQuerySchema = z.strictObject({
  kind: listOf(submissionKindSchema).describe('comma-separated: sparing, sispek; default: both'),
  state: listOf(submissionStateSchema).describe('comma-separated: pending, sent, failed, refused; default: all'),
  station: z.string().min(1).max(200).optional().describe('one station (SPARING uid) or stack (meter id)'),
  from: instantQuery.optional().describe('period start at or after (inclusive)'),
  to: instantQuery.optional().describe('period start before (exclusive)'),
  limit: intFromQuery.min(1).max(5_000).default(500),
});
export type SubmissionsQuery = z.infer<typeof submissionsQuerySchema>;

export const submissionViewSchema = submissionRecordSchema.omit({ body: true });
export type SubmissionView = z.infer<typeof submissionViewSchema>;

export const submissionListSchema = z.object({
  /** Newest period first, at most limit. */
  submissions: z.array(submissionViewSchema),
  /** All that match the query. */
  total: z.number().int(),
  /** The park's submissions held, per state. */
  byState: z.record(submissionStateSchema, z.number().int()),
  /** Records on the topic the console could not read (any park), since it started. */
  unreadable: z.number().int(),
  /** Records not taken by the bound (older than a full station keeps, or of a station beyond the most held), since it started. */
  dropped: z.number().int(),
  /** The bound: periods kept per (kind, station). */
  keptPerStation: z.number().int(),
});
export type SubmissionList = z.infer<typeof submissionListSchema>;
