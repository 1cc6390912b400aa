/**
 * The park registry: parks, their tenants and meters, cadences, limits and
 * budgets. The simulator and every service read the same file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { idSchema } from './ids.ts';
import { isMetricName, metricCatalogue, metricNames } from './metric-catalogue.ts';
import { reservedTenantIds } from './mqtt-acl.ts';

const metricNameSchema = z.string().refine(isMetricName, { message: `unknown metric; known: ${metricNames.join(', ')}` });

export const limitSchema = z
  .object({
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    dailyMaxPerUsedHa: z.number().positive().optional(),
    /** The permit or regulation the limit comes from. */
    source: z.string().min(1),
  })
  .refine((l) => l.min !== undefined || l.max !== undefined || l.dailyMaxPerUsedHa !== undefined, { message: 'a limit needs min, max or dailyMaxPerUsedHa' });

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
  limits: z.record(z.string(), limitSchema).optional(),
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
  emissionFactors: z.record(z.string(), z.object({ kgCo2ePerKwh: z.number().nonnegative(), source: z.string() })),
  budgets: budgetsSchema.optional(),
  tenants: z.array(tenantSchema).min(1),
});
export type Park = z.infer<typeof parkSchema>;

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
