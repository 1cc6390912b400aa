/**
 * The park registry: parks, their tenants and meters, cadences, limits and
 * budgets. The simulator and every service read the same file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { idSchema } from './ids.ts';
import { isMetricName, metricCatalogue, metricNames } from './metric-catalogue.ts';
import { reservedTenantIds } from './mqtt-acl.ts';
import { datedVersions, instantSchema, versionAt, versionIssues, type Dated } from './validity.ts';

const metricNameSchema = z.string().refine(isMetricName, { message: `unknown metric; known: ${metricNames.join(', ')}` });

const limitValueFields = {
  min: z.number().finite().optional(),
  max: z.number().finite().optional(),
  dailyMaxPerUsedHa: z.number().positive().optional(),
};
const hasBound = (l: { min?: number | undefined; max?: number | undefined; dailyMaxPerUsedHa?: number | undefined }) => l.min !== undefined || l.max !== undefined || l.dailyMaxPerUsedHa !== undefined;
const boundMessage = { message: 'a limit needs min, max or dailyMaxPerUsedHa' };
const optionalValidity = {
  /** First instant in force: an ISO 8601 date (midnight in the park's time zone) or date-time with an offset. */
  from: instantSchema.optional(),
  /** First instant no longer in force (exclusive; absent: still in force). */
  to: instantSchema.optional(),
  /** The permit, decision or publication the version comes from (its number). */
  reference: z.string().min(1).optional(),
};
/** The one-object form: dated only with a from and a reference, or not at all. */
function undatedOrDated(v: { from?: string | undefined; to?: string | undefined; reference?: string | undefined }, ctx: z.RefinementCtx): void {
  if (v.from === undefined && v.to !== undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to needs a from (a version without from is always in force)' });
  if (v.from !== undefined && v.reference === undefined) ctx.addIssue({ code: 'custom', path: ['reference'], message: 'a dated version needs the reference of its permit or publication' });
}
/** A version in a list: from and reference required (checked here, not as types, so the message names what is missing). */
function datedInList(v: { from?: string | undefined; reference?: string | undefined }, ctx: z.RefinementCtx): void {
  if (v.from === undefined) ctx.addIssue({ code: 'custom', path: ['from'], message: 'a version in a list needs from (an undated limit stands alone, not in a list)' });
  if (v.reference === undefined) ctx.addIssue({ code: 'custom', path: ['reference'], message: 'a dated version needs the reference of its permit or publication' });
}
const entryError = (what: string) => ({ error: `must be ${what} object, or a list of dated versions ({..., from, to?, reference})` });

/**
 * A metric's limit: one object (the undated form, always in force, or a single
 * dated version), or a list of dated versions that must not overlap (checked
 * per park, which knows the time zone the dates are read in).
 */
export const limitSchema = z
  .object({
    ...limitValueFields,
    ...optionalValidity,
    /** The permit or regulation the limit comes from. */
    source: z.string().min(1),
  })
  .refine(hasBound, boundMessage)
  .superRefine(undatedOrDated);

/** One version of a permit limit in a list: in force from `from` until `to` (exclusive). */
export const limitVersionSchema = z
  .object({ ...limitValueFields, ...optionalValidity, source: z.string().min(1).optional() })
  .refine(hasBound, boundMessage)
  .superRefine(datedInList);
export type LimitVersion = z.infer<typeof limitVersionSchema>;

export const limitEntrySchema = z.union([limitSchema, z.array(limitVersionSchema).min(1)], entryError('a limit ({min, max, source})'));
export type LimitEntry = z.infer<typeof limitEntrySchema>;

const factorValueFields = { kgCo2ePerKwh: z.number().nonnegative() };
export const emissionFactorSchema = z.object({ ...factorValueFields, ...optionalValidity, source: z.string() }).superRefine(undatedOrDated);
export const emissionFactorVersionSchema = z.object({ ...factorValueFields, ...optionalValidity, source: z.string().optional() }).superRefine(datedInList);
/** A supply source's factor: one object (undated, or a single dated version), or a list of dated versions. */
export const emissionFactorEntrySchema = z.union([emissionFactorSchema, z.array(emissionFactorVersionSchema).min(1)], entryError('an emission factor ({kgCo2ePerKwh, source})'));
export type EmissionFactorEntry = z.infer<typeof emissionFactorEntrySchema>;

/** What every version of a limit carries, undated or dated. */
export type LimitValue = LimitVersion | z.infer<typeof limitSchema>;
export type EmissionFactorValue = z.infer<typeof emissionFactorVersionSchema> | z.infer<typeof emissionFactorSchema>;

// Parsed registries are not mutated: dated versions are computed once per entry and time zone (the simulator asks per sample).
const versionCache = new WeakMap<object, Map<string, Dated<never>[]>>();
function cachedVersions<T extends { from?: string | undefined; to?: string | undefined; reference?: string | undefined; source?: string | undefined }>(entry: T | readonly T[], timeZone: string): Dated<T>[] {
  // The undated form needs no date arithmetic: not worth a cache entry per meter and metric.
  if (!Array.isArray(entry) && (entry as T).from === undefined) return datedVersions(entry, timeZone);
  let byZone = versionCache.get(entry);
  if (!byZone) versionCache.set(entry, (byZone = new Map<string, Dated<never>[]>()));
  const hit = byZone.get(timeZone) as Dated<T>[] | undefined;
  if (hit) return hit;
  const versions = datedVersions(entry, timeZone);
  byZone.set(timeZone, versions as unknown as Dated<never>[]);
  return versions;
}

/** A meter's limit for a metric as its versions, sorted (empty when it has none); dates in the park's time zone. */
export function limitVersions(park: Park, meter: Meter, metric: string): Dated<LimitValue>[] {
  const entry = meter.limits?.[metric];
  return entry === undefined ? [] : cachedVersions<LimitValue>(entry, park.timezone);
}

/** The limit in force for a meter's metric at an event time. */
export function limitInForce(park: Park, meter: Meter, metric: string, eventTime: number): Dated<LimitValue> | undefined {
  return versionAt(limitVersions(park, meter, metric), eventTime);
}

/** The emission factor of a supply source in force at an event time. */
export function factorInForce(park: Park, supplySource: string, eventTime: number): Dated<EmissionFactorValue> | undefined {
  return versionAt(factorVersions(park, supplySource), eventTime);
}

/** A supply source's emission factor as its versions, sorted (empty when the park has none). */
export function factorVersions(park: Park, supplySource: string): Dated<EmissionFactorValue>[] {
  const entry = Object.hasOwn(park.emissionFactors, supplySource) ? park.emissionFactors[supplySource] : undefined;
  return entry === undefined ? [] : cachedVersions<EmissionFactorValue>(entry, park.timezone);
}

export const meterKinds = ['electricity', 'gas', 'steam', 'water', 'wastewater-quality', 'stack-cems', 'production'] as const;

export const registerRatingSchema = z.object({
  /** Largest plausible increase per hour; more is flagged as a data-quality event (see shared/domain/register.ts). */
  maxStepPerHour: z.number().positive().finite().optional(),
  /** Where the register wraps to zero; without it a fall is never a rollover. */
  rolloverAt: z.number().positive().finite().optional(),
});

/** True for a calendar date and clock time that exist (Date.parse takes 2026-02-30 for 2 March). */
function isRealDateTime(s: string): boolean {
  const [y, mo, d, h, mi, sec] = [s.slice(0, 4), s.slice(5, 7), s.slice(8, 10), s.slice(11, 13), s.slice(14, 16), s.slice(17, 19) || '0'].map(Number) as [number, number, number, number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && sec < 60 && Number.isFinite(Date.parse(s));
}

/** An instant in ISO 8601 with its zone ("2026-11-27T10:00:00+08:00"): a local time without one would be misread. */
export const isoInstantSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/, 'must be an ISO 8601 date and time with a zone, e.g. 2026-11-27T10:00:00Z')
  .refine(isRealDateTime, { message: 'is not a valid date and time' });

/**
 * A declared meter swap or register reset: from `at` on the register reads from
 * `newInitial`; `oldFinal` is the old register's last value. The aggregator books
 * prev -> oldFinal and newInitial -> next exactly, and no rule alerts on it.
 */
export const registerChangeSchema = z.object({
  at: isoInstantSchema,
  metric: metricNameSchema.refine((m) => isMetricName(m) && metricCatalogue[m].kind === 'cumulative', { message: 'must be a cumulative (register) metric' }),
  kind: z.enum(['swap', 'reset']),
  oldFinal: z.number().finite(),
  newInitial: z.number().finite(),
  /** Work order, protocol or ticket that documents the change. */
  reference: z.string().min(1),
});
export type RegisterChange = z.infer<typeof registerChangeSchema>;

export const registerChangesSchema = z.array(registerChangeSchema).superRefine((changes, ctx) => {
  // In time order per metric, one per instant: the booking walks them in order.
  const last = new Map<string, number>();
  changes.forEach((c, i) => {
    const at = Date.parse(c.at);
    const before = last.get(c.metric);
    if (before !== undefined && at <= before) ctx.addIssue({ code: 'custom', path: [i, 'at'], message: `must be later than the previous ${c.metric} change` });
    last.set(c.metric, at);
  });
});

export const meterSchema = z.object({
  id: idSchema,
  kind: z.enum(meterKinds),
  cadenceSeconds: z.number().int().positive(),
  metrics: z.array(metricNameSchema).min(1),
  limits: z.record(z.string(), limitEntrySchema).optional(),
  ratings: z.record(z.string(), registerRatingSchema).optional(),
  /** Declared swaps and resets of the meter's registers, in time order. */
  registerChanges: registerChangesSchema.optional(),
  contractedKw: z.number().positive().optional(),
  o2ReferencePercent: z.number().min(0).max(21).optional(),
  sparingUid: z.string().optional(),
}).superRefine((m, ctx) => {
  m.registerChanges?.forEach((c, i) => {
    if (!(m.metrics as readonly string[]).includes(c.metric)) ctx.addIssue({ code: 'custom', path: ['registerChanges', i, 'metric'], message: `"${c.metric}" is not one of the meter's metrics` });
  });
});
export type Meter = z.infer<typeof meterSchema>;

export const budgetsSchema = z.object({
  monthlyKgCo2e: z.number().positive().optional(),
  dailyWaterIntakeM3: z.number().positive().optional(),
});

/** A tenant id is its MQTT username and a topic segment: it must not pass for a service or a reserved segment. */
export const tenantIdSchema = idSchema.refine((id) => !reservedTenantIds.includes(id), {
  message: `reserved: a tenant id must not be one of ${reservedTenantIds.join(', ')} (service accounts and topic segments)`,
});

export const tenantSchema = z.object({
  id: tenantIdSchema,
  name: z.string().min(1),
  sector: z.string().min(1),
  /** Key into the park's emissionFactors: the factor belongs to the supply source. */
  supplySource: z.string().min(1),
  budgets: budgetsSchema.optional(),
  meters: z.array(meterSchema).min(1),
});
export type Tenant = z.infer<typeof tenantSchema>;

export const parkSchema = z.object({
  id: idSchema,
  name: z.string().min(1),
  country: z.string().length(2),
  timezone: z.string().min(1),
  usedAreaHa: z.number().positive(),
  emissionFactors: z.record(z.string(), emissionFactorEntrySchema),
  budgets: budgetsSchema.optional(),
  tenants: z.array(tenantSchema).min(1),
}).superRefine((park, ctx) => {
  // Dated bounds are read in the park's time zone, so they are checked here, once the zone is known to exist.
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: park.timezone });
  } catch {
    ctx.addIssue({ code: 'custom', path: ['timezone'], message: `"${park.timezone}" is not an IANA time zone (e.g. Asia/Makassar)` });
    return;
  }
  for (const [source, entry] of Object.entries(park.emissionFactors)) {
    for (const i of entryIssues(entry, park.timezone)) ctx.addIssue({ code: 'custom', path: ['emissionFactors', source, ...i.path], message: i.message });
  }
  park.tenants.forEach((tenant, ti) => tenant.meters.forEach((meter, mi) => {
    for (const [metric, entry] of Object.entries(meter.limits ?? {})) {
      for (const i of entryIssues(entry, park.timezone)) ctx.addIssue({ code: 'custom', path: ['tenants', ti, 'meters', mi, 'limits', metric, ...i.path], message: i.message });
    }
  }));
});
export type Park = z.infer<typeof parkSchema>;

function entryIssues(entry: object, timeZone: string): ReturnType<typeof versionIssues> {
  // A single object's issues have no list index in their path.
  if (Array.isArray(entry)) return versionIssues(entry as Parameters<typeof versionIssues>[0], timeZone);
  return versionIssues([entry], timeZone).map((i) => ({ ...i, path: i.path.slice(1) }));
}

export const parkRegistrySchema = z
  .object({ version: z.literal(1), parks: z.array(parkSchema).min(1) })
  .superRefine((reg, ctx) => {
    // Tenant ids are MQTT usernames and meter ids are Kafka keys: both unique registry-wide.
    const tenants = new Set<string>();
    const meters = new Set<string>();
    reg.parks.forEach((park, pi) => {
      park.tenants.forEach((tenant, ti) => {
        if (tenants.has(tenant.id)) ctx.addIssue({ code: 'custom', path: ['parks', pi, 'tenants', ti, 'id'], message: `duplicate tenant id "${tenant.id}"` });
        tenants.add(tenant.id);
        if (!Object.hasOwn(park.emissionFactors, tenant.supplySource)) {
          ctx.addIssue({ code: 'custom', path: ['parks', pi, 'tenants', ti, 'supplySource'], message: `"${tenant.supplySource}" is not in the park's emissionFactors` });
        }
        tenant.meters.forEach((meter, mi) => {
          if (meters.has(meter.id)) ctx.addIssue({ code: 'custom', path: ['parks', pi, 'tenants', ti, 'meters', mi, 'id'], message: `duplicate meter id "${meter.id}"` });
          meters.add(meter.id);
        });
      });
    });
  });
export type ParkRegistry = z.infer<typeof parkRegistrySchema>;

export interface MeterEntry {
  park: Park;
  tenant: Tenant;
  meter: Meter;
}

/** Lookups the services need on the hot path. */
export class RegistryIndex {
  readonly registry: ParkRegistry;
  private readonly meters = new Map<string, MeterEntry>();

  constructor(registry: ParkRegistry) {
    this.registry = registry;
    for (const park of registry.parks) for (const tenant of park.tenants) for (const meter of tenant.meters) this.meters.set(meter.id, { park, tenant, meter });
  }

  meter(id: string): MeterEntry | undefined {
    return this.meters.get(id);
  }

  /**
   * The meter, only if this registry has it under that park and tenant. Ids are
   * unique within one registry, not across the registries sharing a bus: a
   * record of another park's meter with the same id is not ours.
   */
  owned(park: string, tenant: string | undefined, meter: string): MeterEntry | undefined {
    const entry = this.meters.get(meter);
    return entry && entry.park.id === park && (tenant === undefined || entry.tenant.id === tenant) ? entry : undefined;
  }

  /** True when the registry has this park, and the tenant in it when one is named. */
  ownsScope(park: string, tenant?: string): boolean {
    const p = this.park(park);
    return p !== undefined && (tenant === undefined || p.tenants.some((t) => t.id === tenant));
  }

  allMeters(): IterableIterator<MeterEntry> {
    return this.meters.values();
  }

  park(id: string): Park | undefined {
    return this.registry.parks.find((p) => p.id === id);
  }

  tenant(id: string): { park: Park; tenant: Tenant } | undefined {
    for (const park of this.registry.parks) {
      const tenant = park.tenants.find((t) => t.id === id);
      if (tenant) return { park, tenant };
    }
    return undefined;
  }
}

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

export function parseParkRegistry(json: unknown, source = 'park registry'): ParkRegistry {
  const parsed = parkRegistrySchema.safeParse(json);
  if (!parsed.success) throw new Error(`${source} is invalid: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

export function loadParkRegistry(path: string): RegistryIndex {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read park registry ${path}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`park registry ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return new RegistryIndex(parseParkRegistry(json, path));
}

export const demoParkPath = new URL('../parks/demo-park.json', import.meta.url).pathname;
