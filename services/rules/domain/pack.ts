/**
 * The rule pack: YAML, validated by zod. Every limit is configuration: a number
 * in the pack (with the regulation in `source`), an override per park / tenant /
 * meter, or a reference into the park registry (`limit: registry`), so a permit
 * change is a registry or pack edit, never a code change.
 */
import { z } from 'zod';
import { LineCounter, parseDocument } from 'yaml';
import { EipError } from '../../../shared/errors.ts';
import { severitySchema, windowSizes } from '../../../shared/contracts/events.ts';
import { isMetricName, metricCatalogue } from '../../../shared/contracts/metric-catalogue.ts';
import { meterKinds } from '../../../shared/contracts/park-registry.ts';
import { idSchema } from '../../../shared/contracts/ids.ts';
import { defaultMinCompleteness } from '../../../shared/contracts/completeness.ts';
import { parseDuration } from './duration.ts';
import { completenessParams } from './kinds/completeness.ts';

export const ruleKinds = ['threshold', 'consecutive', 'sustained', 'rolling', 'rate-of-change', 'deadman', 'budget', 'ratio', 'exceedance-share', 'register', 'completeness'] as const;
export type RuleKind = (typeof ruleKinds)[number];
/** Kinds judging one window's value, where an incomplete window is not judged. */
export const validityKinds: readonly RuleKind[] = ['threshold', 'exceedance-share', 'completeness'];

/**
 * Comparisons. "above" is strict: a value exactly at the limit is not a breach
 * (a permit's "max 100" allows 100). Use "at-or-above" for duties that start at
 * the threshold (">= 4,000 TOE"). "outside" is strict on both bounds.
 */
export const comparisonOps = ['above', 'at-or-above', 'below', 'at-or-below', 'outside'] as const;
export type ComparisonOp = (typeof comparisonOps)[number];

/** Where a limit comes from when it is not a number in the pack. */
export const limitSources = ['registry', 'contracted-kw', 'budget.monthlyKgCo2e', 'budget.dailyWaterIntakeM3', 'rating.maxStepPerHour'] as const;
export type LimitSource = (typeof limitSources)[number];

export const aggregateFields = ['mean', 'min', 'max', 'last', 'sum', 'consumption'] as const;
export type AggregateField = (typeof aggregateFields)[number];

const oneOf = (values: readonly string[]) => ({ error: () => `must be one of ${values.join(', ')}` });

const durationSchema = z.union([z.number(), z.string()], { error: () => 'must be a duration like 90s, 10m, 1h, 90d' }).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a duration like 90s, 10m, 1h, 90d (got ${JSON.stringify(v)})` });
    return z.NEVER;
  }
  return ms;
});

const metricSchema = z.string({ error: () => 'must be a metric name' }).refine(isMetricName, { error: (iss) => `unknown metric "${String(iss.input)}"` });

const rangeSchema = z.strictObject({ min: z.number().finite(), max: z.number().finite() }).refine((r) => r.min < r.max, { message: 'min must be below max' });
export type Range = z.infer<typeof rangeSchema>;

const limitValueSchema = z.union([z.number().finite(), rangeSchema]);
export const limitSchema = z.union(
  [
    z.number().finite(),
    rangeSchema,
    z.enum(limitSources),
    z.strictObject({ from: z.enum(limitSources, oneOf(limitSources)), default: limitValueSchema.optional() }),
  ],
  { error: () => `must be a number, {min, max}, one of ${limitSources.join(', ')}, or {from, default}` },
);
export type LimitSpec = z.infer<typeof limitSchema>;

const levelSchema = z.strictObject({
  /** Multiplies the rule's limit (default 1): warning at 0.8 of a permit's maximum. */
  factor: z.number().positive().optional(),
  /** An absolute threshold instead of a factor of the limit (a share for exceedance-share). */
  threshold: z.number().finite().optional(),
  /** An absolute range for "outside" instead of the limit. */
  range: rangeSchema.optional(),
  /** Deadman: silence longer than this. */
  after: durationSchema.optional(),
  /** Hysteresis for this level: where it clears (a number, or {min, max} for "outside"). */
  clear: limitValueSchema.optional(),
});
export type LevelSpec = z.infer<typeof levelSchema>;

const severityNames = severitySchema.options;
const levelsSchema = z
  .strictObject({ info: levelSchema.optional(), 'data-quality': levelSchema.optional(), warning: levelSchema.optional(), critical: levelSchema.optional() })
  .refine((l) => Object.values(l).some((v) => v !== undefined), { message: `needs at least one of ${severityNames.join(', ')}` });
export type LevelsSpec = z.infer<typeof levelsSchema>;

const hysteresisSchema = z
  .strictObject({
    /** Clears at threshold * f on the high side and threshold / f on the low side; 0 < f <= 1. */
    clearFraction: z.number().gt(0).max(1).optional(),
    /** Clears this far back inside the threshold, in the metric's unit. */
    clearDelta: z.number().nonnegative().optional(),
  })
  .refine((h) => !(h.clearFraction !== undefined && h.clearDelta !== undefined), { message: 'use clearFraction or clearDelta, not both' });

const flappingSchema = z.strictObject({
  /** This many condition changes (breach <-> clear) within `within` hold the alert firing. */
  changes: z.number().int().min(2),
  within: durationSchema,
});

const selectorSchema = z.strictObject({
  metric: metricSchema.optional(),
  meterKinds: z.array(z.enum(meterKinds, oneOf(meterKinds))).min(1).optional(),
  parks: z.array(idSchema).min(1).optional(),
  tenants: z.array(idSchema).min(1).optional(),
  meters: z.array(idSchema).min(1).optional(),
  /** Whose alert it is; tenant and park scopes need aggregate input. */
  scope: z.enum(['meter', 'tenant', 'park'], oneOf(['meter', 'tenant', 'park'])).default('meter'),
});

const overrideSchema = z
  .strictObject({
    park: idSchema.optional(),
    tenant: idSchema.optional(),
    /** A meter id: a stack or an outlet with its own permit. */
    meter: idSchema.optional(),
    limit: limitSchema.optional(),
    levels: levelsSchema.optional(),
    for: durationSchema.optional(),
    disabled: z.boolean().optional(),
    /** The permit the overriding limit comes from. */
    source: z.string().min(1).optional(),
  })
  .refine((o) => [o.park, o.tenant, o.meter].filter((x) => x !== undefined).length === 1, { message: 'an override names exactly one of park, tenant, meter' });
export type OverrideSpec = z.infer<typeof overrideSchema>;

const o2Schema = z.union([z.literal(true), z.strictObject({ maxAge: durationSchema })], { error: () => 'must be true or {maxAge}' });

/** Register steps a `register` rule can flag: a rise beyond the rating, a fall that is no plausible rollover. */
export const registerFlags = ['jump', 'reset', 'swap'] as const;

const multiplierSchema = z.enum(['emission-factor'], oneOf(['emission-factor']));
const periodSchema = z.enum(['day', 'month'], oneOf(['day', 'month']));

const paramsByKind = {
  threshold: z.strictObject({}),
  consecutive: z.strictObject({ samples: z.number().int().min(2) }),
  sustained: z.strictObject({ duration: durationSchema }),
  rolling: z.strictObject({
    over: durationSchema,
    /** Bucket size on readings (default over / 12); on aggregates the aggregate window. */
    bucket: durationSchema.optional(),
    stat: z.enum(['mean', 'sum'], oneOf(['mean', 'sum'])).default('mean'),
    /** Samples (or aggregates) needed in the window before it is judged. */
    minSamples: z.number().int().positive().default(1),
  }),
  'rate-of-change': z.strictObject({
    per: durationSchema.default(3_600_000),
    direction: z.enum(['rise', 'fall', 'either'], oneOf(['rise', 'fall', 'either'])).default('either'),
    /** Samples further apart than this start afresh instead of giving a rate. */
    maxGap: durationSchema.optional(),
  }),
  deadman: z.strictObject({
    /** The severity a meter's offline status raises at once (default: the lowest level). */
    onOffline: severitySchema.optional(),
  }),
  budget: z.strictObject({
    period: periodSchema,
    stat: z.enum(['total', 'mean'], oneOf(['total', 'mean'])).default('total'),
    /** Compare the period-to-date value with limit * elapsed fraction of the period (default: for totals). */
    proRata: z.boolean().optional(),
    multiplier: multiplierSchema.optional(),
  }),
  ratio: z.strictObject({
    denominator: metricSchema,
    denominatorField: z.enum(aggregateFields, oneOf(aggregateFields)).default('consumption'),
    period: periodSchema,
    multiplier: multiplierSchema.optional(),
    /** Below this denominator the ratio is not judged (a plant that barely produced). */
    minDenominator: z.number().positive().optional(),
  }),
  'exceedance-share': z.strictObject({
    over: durationSchema,
    minOperatingHours: z.number().int().positive().default(24),
    minSamplesPerHour: z.number().int().positive().default(1),
  }),
  register: z.strictObject({
    /** Which steps of the register classification (shared/domain/register.ts) breach; rollovers and declared changes never do. */
    flag: z.array(z.enum(registerFlags, oneOf(registerFlags))).min(1).default([...registerFlags]),
  }),
  completeness: completenessParams,
} as const;

const commonRule = {
  id: z.string({ error: () => 'must be a string' }).regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and "-"'),
  version: z.number().int().nonnegative(),
  description: z.string().min(1),
  /** The regulation or permit the rule implements. */
  source: z.string().min(1),
  selector: selectorSchema,
  input: z.enum(['reading', 'aggregate'], oneOf(['reading', 'aggregate'])).default('reading'),
  window: z.enum(windowSizes, oneOf(windowSizes)).optional(),
  field: z.enum(aggregateFields, oneOf(aggregateFields)).default('mean'),
  op: z.enum(comparisonOps, oneOf(comparisonOps)).default('above'),
  limit: limitSchema.optional(),
  levels: levelsSchema,
  hysteresis: hysteresisSchema.optional(),
  flapping: flappingSchema.optional(),
  /** Pending this long before firing (wall clock, advanced by tick). */
  for: durationSchema.optional(),
  o2Correction: o2Schema.optional(),
  /** A window is valid (judged) when its completeness reaches this; default 0.75 where validity applies. */
  minCompleteness: z.number().gt(0).max(1).optional(),
  overrides: z.array(overrideSchema).default([]),
  enabled: z.boolean().default(true),
};

const ruleVariant = <K extends RuleKind>(kind: K) => z.strictObject({ ...commonRule, kind: z.literal(kind), params: paramsByKind[kind] });
const defaultParams = (kind: RuleKind): unknown => (paramsByKind[kind].safeParse({}).success ? {} : undefined);

/** The completeness kind judges against minCompleteness: its limit and op follow from it. */
function completenessDefaults(v: object): object {
  if (!('kind' in v) || v.kind !== 'completeness' || 'limit' in v || 'op' in v) return v;
  const min = 'minCompleteness' in v && typeof v.minCompleteness === 'number' ? v.minCompleteness : defaultMinCompleteness;
  return { ...v, limit: min, op: 'below' };
}

export const ruleSchema = z.preprocess(
  // Kinds without required parameters may leave `params` out.
  (v) => (v !== null && typeof v === 'object' ? completenessDefaults(!('params' in v) && 'kind' in v && (ruleKinds as readonly unknown[]).includes(v.kind) ? { ...v, params: defaultParams(v.kind as RuleKind) } : v) : v),
  z.discriminatedUnion(
    'kind',
    [
      ruleVariant('threshold'), ruleVariant('consecutive'), ruleVariant('sustained'), ruleVariant('rolling'), ruleVariant('rate-of-change'),
      ruleVariant('deadman'), ruleVariant('budget'), ruleVariant('ratio'), ruleVariant('exceedance-share'), ruleVariant('register'), ruleVariant('completeness'),
    ],
    { error: () => `must be one of ${ruleKinds.join(', ')}` },
  ),
);
export type RuleSpec = z.infer<typeof ruleSchema>;

const readingOnly: readonly RuleKind[] = ['consecutive', 'sustained', 'rate-of-change', 'deadman', 'register'];
const aggregateOnly: readonly RuleKind[] = ['budget', 'ratio', 'completeness'];
const meterOnlySources: readonly LimitSource[] = ['registry', 'contracted-kw', 'rating.maxStepPerHour'];

function limitSourceOf(l: LimitSpec | undefined): LimitSource | undefined {
  if (typeof l === 'string') return l;
  if (l !== undefined && typeof l === 'object' && 'from' in l) return l.from;
  return undefined;
}

/** Cross-field checks zod's shapes cannot say; paths are relative to the rule. */
function checkRule(r: RuleSpec, issue: (path: (string | number)[], message: string) => void): void {
  if (r.kind !== 'deadman' && r.selector.metric === undefined) issue(['selector', 'metric'], `is required for kind ${r.kind}`);
  if (readingOnly.includes(r.kind) && r.input !== 'reading') issue(['input'], `kind ${r.kind} works on readings only`);
  if (aggregateOnly.includes(r.kind) && r.input !== 'aggregate') issue(['input'], `kind ${r.kind} works on aggregates only (input: aggregate)`);
  if (r.input === 'aggregate' && r.window === undefined) issue(['window'], `is required with input: aggregate; must be one of ${windowSizes.join(', ')}`);
  if (r.input === 'reading' && r.selector.scope !== 'meter') issue(['selector', 'scope'], 'tenant and park scopes need input: aggregate');
  if (r.kind === 'exceedance-share' && r.input === 'aggregate' && r.window !== '1h') issue(['window'], 'exceedance-share on aggregates needs window: 1h');
  if (r.kind === 'register' && r.selector.metric !== undefined && metricCatalogue[r.selector.metric].kind !== 'cumulative') issue(['selector', 'metric'], 'kind register needs a cumulative (register) metric');
  if (r.minCompleteness !== undefined && (!validityKinds.includes(r.kind) || r.input !== 'aggregate')) issue(['minCompleteness'], `applies to kinds ${validityKinds.join(', ')} on aggregates`);
  if (r.kind === 'completeness') {
    if (r.op !== 'below' || r.limit !== (r.minCompleteness ?? defaultMinCompleteness)) issue(['limit'], 'kind completeness judges against minCompleteness: leave limit and op out');
    if (r.o2Correction !== undefined) issue(['o2Correction'], 'does not apply to kind completeness');
    if (r.selector.scope !== 'meter') issue(['selector', 'scope'], 'completeness is a meter stream\'s: use selector.scope: meter');
  }
  if (r.o2Correction !== undefined && r.input === 'aggregate' && r.selector.metric === 'o2') issue(['o2Correction'], 'O2 is the correction itself');
  if (r.o2Correction !== undefined && r.kind === 'ratio') issue(['o2Correction'], 'does not apply to kind ratio');
  const src = limitSourceOf(r.limit);
  if (src !== undefined && meterOnlySources.includes(src) && r.selector.scope !== 'meter') issue(['limit'], `${src} is a meter property; use selector.scope: meter`);
  if (r.kind === 'ratio' || (r.kind === 'budget' && r.params.multiplier !== undefined)) {
    if (r.params.multiplier === 'emission-factor' && r.selector.scope === 'park') issue(['params', 'multiplier'], 'the emission factor belongs to a tenant\'s supply source; use scope tenant or meter');
  }
  if (r.kind === 'budget' && r.params.stat === 'mean' && r.params.proRata === true) issue(['params', 'proRata'], 'applies to totals, not to stat: mean');
  if (r.kind === 'rolling' && r.params.bucket !== undefined) {
    if (r.input === 'aggregate') issue(['params', 'bucket'], 'on aggregates the bucket is the aggregate window; leave bucket out');
    else if (r.params.over % r.params.bucket !== 0) issue(['params', 'bucket'], 'must divide params.over');
  }
  const checkLevels = (levels: LevelsSpec, base: (string | number)[], hasLimit: boolean) => {
    for (const sev of severityNames) {
      const l = levels[sev];
      if (!l) continue;
      const at = [...base, sev];
      if (r.kind === 'deadman') {
        if (l.after === undefined) issue([...at, 'after'], 'deadman levels need after (a duration)');
        if (l.factor !== undefined || l.threshold !== undefined || l.range !== undefined) issue(at, 'deadman levels take after only');
        continue;
      }
      if (l.after !== undefined) issue([...at, 'after'], 'only deadman levels take after');
      if (r.kind === 'exceedance-share') {
        if (l.threshold === undefined || l.threshold <= 0 || l.threshold >= 1) issue([...at, 'threshold'], 'exceedance-share levels need threshold, a share between 0 and 1');
        continue;
      }
      if (r.op === 'outside') {
        if (l.threshold !== undefined) issue([...at, 'threshold'], 'op outside takes range, not threshold');
        if (l.factor !== undefined && l.factor !== 1) issue([...at, 'factor'], 'op outside takes range, not factor');
        if (l.range === undefined && !hasLimit) issue(['limit'], 'is required (or give each level a range)');
      } else {
        if (l.range !== undefined) issue([...at, 'range'], 'range is for op outside');
        if (l.threshold === undefined && !hasLimit) issue(['limit'], 'is required (or give each level a threshold)');
      }
    }
  };
  checkLevels(r.levels, ['levels'], r.limit !== undefined);
  if (r.kind === 'exceedance-share' && r.limit === undefined) issue(['limit'], 'is required: the per-hour limit');
  r.overrides.forEach((o, i) => {
    if (o.levels) checkLevels(o.levels, ['overrides', i, 'levels'], r.limit !== undefined || o.limit !== undefined);
  });
}

export const rulePackSchema = z
  .strictObject({
    version: z.number().int().positive(),
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    /** Free-form: a home for YAML anchors that rules merge in with `<<: *name`. */
    definitions: z.unknown().optional(),
    rules: z.array(ruleSchema).min(1),
  })
  .superRefine((pack, ctx) => {
    const seen = new Set<string>();
    pack.rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${r.id}"` });
      seen.add(r.id);
      checkRule(r, (path, message) => ctx.addIssue({ code: 'custom', path: ['rules', i, ...path], message }));
    });
  });
export type RulePack = z.infer<typeof rulePackSchema>;

export interface PackIssue {
  ruleId?: string;
  line?: number;
  /** Path inside the rule (or the pack when no rule). */
  field: string;
  message: string;
}

function formatIssue(i: PackIssue): string {
  const where = i.ruleId !== undefined ? `rule "${i.ruleId}"` : 'pack';
  return `${where}${i.line !== undefined ? ` (line ${i.line})` : ''}: ${i.field ? `${i.field}: ` : ''}${i.message}`;
}

/** Parses and validates a rule pack; throws an EipError (CONFIG_INVALID) listing every problem with rule id, field and line. */
export function parseRulePack(text: string, sourceName = 'rule pack'): RulePack {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: true });
  if (doc.errors.length) {
    const msgs = doc.errors.map((e) => `line ${e.linePos?.[0].line ?? '?'}, column ${e.linePos?.[0].col ?? '?'}: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`);
    throw new EipError('CONFIG_INVALID', `${sourceName} is not valid YAML: ${msgs.join('; ')}`);
  }
  const json: unknown = doc.toJS({ maxAliasCount: 1000 });
  const parsed = rulePackSchema.safeParse(json);
  if (parsed.success) return parsed.data;

  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    // A missing field has no node: point at the nearest enclosing one.
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = doc.getIn(path.slice(0, n), true);
      if (node !== null && typeof node === 'object' && 'range' in node && Array.isArray(node.range) && typeof node.range[0] === 'number') return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const rules = json !== null && typeof json === 'object' && 'rules' in json && Array.isArray(json.rules) ? (json.rules as unknown[]) : [];
  const issues: PackIssue[] = parsed.error.issues.map((iss) => {
    const path = iss.path;
    const issue: PackIssue = { field: '', message: iss.message, line: lineOf(path) };
    if (path[0] === 'rules' && typeof path[1] === 'number') {
      const raw = rules[path[1]];
      const id = raw !== null && typeof raw === 'object' && 'id' in raw && typeof raw.id === 'string' ? raw.id : `#${path[1] + 1}`;
      issue.ruleId = id;
      issue.field = path.slice(2).map(String).join('.');
    } else issue.field = path.map(String).join('.');
    if (iss.code === 'unrecognized_keys') issue.message = `unknown field ${iss.keys.map((k) => `"${k}"`).join(', ')}`;
    return issue;
  });
  throw new EipError('CONFIG_INVALID', `${sourceName} is invalid: ${issues.map(formatIssue).join('; ')}`, { details: { issues } });
}

/** The default pack shipped with the service (reading it is the runtime's job). */
export const defaultRulePackPath = new URL('../rule-packs/default.yaml', import.meta.url).pathname;
