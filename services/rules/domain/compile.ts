/**
 * Binds a rule pack to a park registry: one binding per (rule, scope) the rule
 * applies to, with its limits resolved (pack value, override, or registry) and
 * its fingerprint computed once. A registry limit or emission factor with dated
 * versions gives one period per version; inputs are judged by the period in
 * force at their event time (a sample's time, a window's start). A rule whose limit the registry does not give
 * for a scope does not apply there; `skipped` says why, for the operator.
 */
import { factorVersions, limitVersions, type LimitValue, type Park, type RegistryIndex, type Tenant, type Meter } from '../../../shared/contracts/park-registry.ts';
import type { LimitVersionRef } from '../../../shared/contracts/events.ts';
import { validityText, versionAt } from '../../../shared/contracts/validity.ts';
import { isMetricName, metricCatalogue } from '../../../shared/contracts/metric-catalogue.ts';
import { registerProfile, type RegisterProfile } from '../../../shared/domain/register.ts';
import { fingerprint, type AlertScope } from './fingerprint.ts';
import { resolveLevels, type Level, type ResolvedLimit } from './levels.ts';
import { defaultMinCompleteness } from '../../../shared/contracts/completeness.ts';
import { validityKinds, type ComparisonOp, type LevelsSpec, type LimitSpec, type OverrideSpec, type RulePack, type RuleSpec } from './pack.ts';
import type { RuleState } from './state.ts';

export interface CompiledRule {
  readonly spec: RuleSpec;
  /** The comparison used on the judged value (exceedance-share judges a share, always "above"). */
  readonly levelOp: ComparisonOp;
  readonly o2MaxAgeMs: number | undefined;
  /** A judged window below this completeness is reported incomplete instead (undefined: every window is judged). */
  readonly minCompleteness: number | undefined;
  /** Rolling and exceedance-share ring geometry. */
  readonly bucketMs: number;
  readonly buckets: number;
}

export interface Binding {
  readonly rule: CompiledRule;
  readonly fp: string;
  readonly scope: AlertScope;
  /** The levels' shape (severities in order), the same in every period: what the alert state indexes. */
  readonly levels: readonly Level[];
  /**
   * The limit's periods, sorted and disjoint: one, always in force, unless the
   * registry dates the permit. An input whose time falls in no period is not judged.
   */
  readonly limits: readonly LimitPeriod[];
  readonly forMs: number;
  readonly o2Ref: number | undefined;
  /** Budget and ratio with `multiplier: emission-factor`: the factor's versions (empty: multiplier 1). */
  readonly factors: readonly FactorPeriod[];
  readonly tz: string;
  /** Register kind: the meter's register profile (rating, default rate, declared changes). */
  readonly register: RegisterProfile | undefined;
  st: RuleState;
  /**
   * This engine holds the binding's state: its inputs are evaluated and its
   * timers run. An instance of a scaled-out service holds the bindings of its
   * partitions only (RulesEngine.own / disown).
   */
  active: boolean;
}

/** The limit as in force over [fromMs, toMs). */
export interface LimitPeriod {
  readonly fromMs: number;
  readonly toMs: number;
  readonly levels: readonly Level[];
  /** Where the limit came from (permit, regulation, registry field), for provenance. */
  readonly source: string;
  /** Exceedance-share: the per-hour limit. */
  readonly hourLimit: number;
  /** The registry version that gave it (absent for a pack value or a default). */
  readonly version?: LimitVersionRef;
}

export interface FactorPeriod {
  readonly fromMs: number;
  readonly toMs: number;
  readonly kgCo2ePerKwh: number;
  readonly version: LimitVersionRef;
}

/** The limit period in force at an event time (the start of a window, the time of a sample). */
export const limitAt = (b: Binding, t: number): LimitPeriod | undefined => versionAt(b.limits, t);

const noFactors: readonly FactorPeriod[] = [];

/** The multiplier of a value no factor applies to. */
export const noFactor: { readonly kgCo2ePerKwh: 1; readonly version?: undefined } = { kgCo2ePerKwh: 1 };

/** The emission factor for a window starting at t: 1 without a multiplier, undefined when no version is in force. */
export function factorAt(b: Binding, t: number): FactorPeriod | typeof noFactor | undefined {
  return b.factors.length === 0 ? noFactor : versionAt(b.factors, t);
}

export interface SkippedBinding {
  ruleId: string;
  scope: AlertScope;
  reason: string;
}

interface Ctx {
  park: Park;
  tenant?: Tenant;
  meter?: Meter;
  metric?: string;
}

function registerOf(ctx: Ctx): RegisterProfile | undefined {
  const { meter, metric } = ctx;
  return meter && metric !== undefined && isMetricName(metric) && metricCatalogue[metric].kind === 'cumulative' ? registerProfile(meter, metric) : undefined;
}

export const freshState = (): RuleState => ({ seq: 0, lvl: -1 });

function compileRule(spec: RuleSpec): CompiledRule {
  const o2 = spec.o2Correction;
  const o2MaxAgeMs = o2 === undefined ? undefined : o2 === true ? 3_600_000 : o2.maxAge;
  let bucketMs = 0;
  let buckets = 0;
  if (spec.kind === 'rolling') {
    bucketMs = spec.input === 'aggregate' ? windowMsOf(spec.window) : (spec.params.bucket ?? Math.max(1, Math.floor(spec.params.over / 12)));
    buckets = Math.max(1, Math.ceil(spec.params.over / bucketMs));
  } else if (spec.kind === 'exceedance-share') {
    bucketMs = 3_600_000;
    buckets = Math.max(1, Math.ceil(spec.params.over / bucketMs));
  }
  const minCompleteness = spec.input === 'aggregate' && validityKinds.includes(spec.kind) ? (spec.minCompleteness ?? defaultMinCompleteness) : undefined;
  return { spec, levelOp: spec.kind === 'exceedance-share' ? 'above' : spec.op, o2MaxAgeMs, minCompleteness, bucketMs, buckets };
}

const windowMsTable: Record<string, number> = { '1m': 60_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };
function windowMsOf(w: string | undefined): number {
  return windowMsTable[w ?? '1h'] ?? 3_600_000;
}

/** A resolved limit over [fromMs, toMs), before its levels are computed. */
interface LimitSpan {
  fromMs: number;
  toMs: number;
  limit?: ResolvedLimit;
  source: string;
  version?: LimitVersionRef;
}
const ALWAYS = { fromMs: Number.NEGATIVE_INFINITY, toMs: Number.POSITIVE_INFINITY };

/** The limit's spans, or why the rule does not apply to this scope. */
function resolveLimit(spec: LimitSpec | undefined, op: ComparisonOp, ctx: Ctx, ruleSource: string): { spans: LimitSpan[]; gaps: string[] } | string {
  if (spec === undefined) return { spans: [{ ...ALWAYS, source: ruleSource }], gaps: [] };
  if (typeof spec === 'number') return { spans: [{ ...ALWAYS, limit: { value: spec }, source: ruleSource }], gaps: [] };
  if (typeof spec === 'object' && 'min' in spec) return { spans: [{ ...ALWAYS, limit: { range: spec }, source: ruleSource }], gaps: [] };
  const from = typeof spec === 'string' ? spec : spec.from;
  const fallback = typeof spec === 'object' ? spec.default : undefined;
  const found = fromRegistry(from, op, ctx);
  const spans = typeof found === 'string' ? [] : found.spans;
  const gaps = typeof found === 'string' ? [found] : found.gaps;
  if (fallback === undefined) return spans.length ? { spans, gaps } : (gaps[0] ?? 'no limit');
  // The pack's default holds wherever no registry version is in force.
  const dflt = (fromMs: number, toMs: number, why: string): LimitSpan => ({ fromMs, toMs, limit: typeof fallback === 'number' ? { value: fallback } : { range: fallback }, source: `${ruleSource} (default: ${why})` });
  const why = gaps[0] ?? `no registry version in force for ${ctx.metric ?? '?'} on ${ctx.meter?.id ?? 'this scope'}`;
  const filled: LimitSpan[] = [];
  let at = Number.NEGATIVE_INFINITY;
  for (const span of spans) {
    if (span.fromMs > at) filled.push(dflt(at, span.fromMs, why));
    filled.push(span);
    at = span.toMs;
  }
  if (at < Number.POSITIVE_INFINITY) filled.push(dflt(at, Number.POSITIVE_INFINITY, why));
  return { spans: filled, gaps: [] };
}

/** One registry limit version as a resolved limit, or why it cannot serve this comparison. */
function fromLimitVersion(l: LimitValue, op: ComparisonOp, ctx: Ctx): { limit: ResolvedLimit; source: string } | string {
  const { park, meter, metric } = ctx;
  const what = `registry limit for ${metric ?? '?'} on ${meter?.id ?? '?'}`;
  const source = l.source ?? l.reference ?? what;
  if (op === 'outside') {
    if (l.min === undefined || l.max === undefined) return `${what} lacks min or max`;
    return { limit: { range: { min: l.min, max: l.max } }, source };
  }
  const high = op === 'above' || op === 'at-or-above';
  const v = high ? (l.max ?? (l.dailyMaxPerUsedHa !== undefined ? l.dailyMaxPerUsedHa * park.usedAreaHa : undefined)) : l.min;
  if (v === undefined) return `${what} has no ${high ? 'max' : 'min'}`;
  const per = high && l.max === undefined ? ` (${l.dailyMaxPerUsedHa ?? 0} per used ha x ${park.usedAreaHa} ha)` : '';
  return { limit: { value: v }, source: `${source}${per}` };
}

const refOf = (v: { reference: string; from?: string; to?: string }): LimitVersionRef => ({ reference: v.reference, ...(v.from !== undefined && { from: v.from }), ...(v.to !== undefined && { to: v.to }) });

function fromRegistry(from: Exclude<LimitSpec, number | object>, op: ComparisonOp, ctx: Ctx): { spans: LimitSpan[]; gaps: string[] } | string {
  const { park, tenant, meter, metric } = ctx;
  const always = (limit: ResolvedLimit, source: string) => ({ spans: [{ ...ALWAYS, limit, source }], gaps: [] });
  switch (from) {
    case 'registry': {
      const versions = meter && metric ? limitVersions(park, meter, metric) : [];
      if (!versions.length) return `registry has no limit for ${metric ?? '?'} on ${meter?.id ?? 'this scope'}`;
      const spans: LimitSpan[] = [];
      const gaps: string[] = [];
      for (const v of versions) {
        const r = fromLimitVersion(v.value, op, ctx);
        if (typeof r === 'string') gaps.push(v.from === undefined ? r : `${r} (version ${v.reference}, ${validityText(v)})`);
        else spans.push({ fromMs: v.fromMs, toMs: v.toMs, ...r, version: refOf(v) });
      }
      return spans.length ? { spans, gaps } : (gaps[0] ?? 'no limit');
    }
    case 'contracted-kw':
      if (meter?.contractedKw === undefined) return `registry has no contractedKw for ${meter?.id ?? 'this scope'}`;
      return always({ value: meter.contractedKw }, `contracted capacity of ${meter.id} (registry)`);
    case 'rating.maxStepPerHour': {
      const r = meter && metric ? meter.ratings?.[metric]?.maxStepPerHour : undefined;
      if (r === undefined) return `registry has no rating.maxStepPerHour for ${metric ?? '?'} on ${meter?.id ?? 'this scope'}`;
      return always({ value: r }, `rating of ${meter?.id ?? '?'} (registry)`);
    }
    case 'budget.monthlyKgCo2e':
    case 'budget.dailyWaterIntakeM3': {
      const key = from === 'budget.monthlyKgCo2e' ? 'monthlyKgCo2e' : 'dailyWaterIntakeM3';
      const owner = tenant ?? park;
      const v = owner.budgets?.[key];
      if (v === undefined) return `registry has no budgets.${key} for ${owner.id}`;
      return always({ value: v }, `budget ${key} of ${owner.id} (registry)`);
    }
  }
}

function merged(spec: RuleSpec, ctx: Ctx): { limit: LimitSpec | undefined; levels: LevelsSpec; forMs: number; disabled: boolean; source: string | undefined } {
  let limit = spec.limit;
  let levels: LevelsSpec = spec.levels;
  let forMs = spec.for ?? 0;
  let disabled = !spec.enabled;
  let source: string | undefined;
  // Most specific last, so it wins: park, then tenant, then meter.
  const apply = (o: OverrideSpec) => {
    if (o.limit !== undefined) {
      limit = o.limit;
      source = o.source;
    }
    if (o.levels) levels = { ...levels, ...o.levels };
    if (o.for !== undefined) forMs = o.for;
    if (o.disabled !== undefined) disabled = o.disabled;
  };
  for (const o of spec.overrides) if (o.park !== undefined && o.park === ctx.park.id) apply(o);
  for (const o of spec.overrides) if (o.tenant !== undefined && o.tenant === ctx.tenant?.id) apply(o);
  for (const o of spec.overrides) if (o.meter !== undefined && o.meter === ctx.meter?.id) apply(o);
  return { limit, levels, forMs, disabled, source };
}

function meterMatches(spec: RuleSpec, meter: Meter): boolean {
  const sel = spec.selector;
  if (sel.meters && !sel.meters.includes(meter.id)) return false;
  if (sel.meterKinds && !sel.meterKinds.includes(meter.kind)) return false;
  const has = (m: string) => (meter.metrics as readonly string[]).includes(m);
  if (sel.metric !== undefined && !has(sel.metric)) {
    // A ratio at tenant or park scope may draw numerator and denominator from different meters.
    if (!(spec.kind === 'ratio' && sel.scope !== 'meter' && has(spec.params.denominator))) return false;
  }
  if (spec.kind === 'ratio' && sel.scope === 'meter' && !has(spec.params.denominator)) return false;
  return true;
}

/**
 * One scope object per distinct (park, tenant, meter, metric), shared by the
 * rules bound to it, each built whole (no property added after creation).
 */
class ScopeTable {
  private readonly table = new Map<string, AlertScope>();

  of(park: string, tenant: string | undefined, meter: string | undefined, metric: string | undefined): AlertScope {
    const key = `${park}\u0000${tenant ?? ''}\u0000${meter ?? ''}\u0000${metric ?? ''}`;
    let scope = this.table.get(key);
    if (!scope) this.table.set(key, (scope = buildScope(park, tenant, meter, metric)));
    return scope;
  }
}

function buildScope(park: string, tenant: string | undefined, meter: string | undefined, metric: string | undefined): AlertScope {
  if (tenant === undefined) return metric === undefined ? { park } : { park, metric };
  if (meter === undefined) return metric === undefined ? { park, tenant } : { park, tenant, metric };
  return metric === undefined ? { park, tenant, meter } : { park, tenant, meter, metric };
}

/**
 * One flat copy of each distinct text: a template literal's result is a rope
 * (a tree of its parts) until something flattens it, and each binding kept its own.
 */
class TextTable {
  private readonly table = new Map<string, string>();

  of(text: string): string {
    let flat = this.table.get(text);
    if (flat === undefined) this.table.set(text, (flat = Buffer.from(text, 'utf8').toString('utf8')));
    return flat;
  }
}

export interface Compiled {
  rules: CompiledRule[];
  bindings: Binding[];
  skipped: SkippedBinding[];
}

/** All (rule, scope) bindings of a pack against a registry. */
export function compile(pack: RulePack, registry: RegistryIndex): Compiled {
  const rules = pack.rules.map(compileRule);
  const bindings: Binding[] = [];
  const skipped: SkippedBinding[] = [];
  // Identical level sets are shared: 100,000 bindings mostly reuse a handful.
  const levelCache = new Map<string, readonly Level[]>();
  // And so are identical period lists and factor lists: most bindings have one period, shared by many.
  const periodsCache = new Map<string, readonly LimitPeriod[]>();
  const factorCache = new Map<string, readonly FactorPeriod[]>();
  const scopes = new ScopeTable();
  const texts = new TextTable();

  for (const rule of rules) {
    const spec = rule.spec;
    const sel = spec.selector;
    const ctxs: Ctx[] = [];
    for (const park of registry.registry.parks) {
      if (sel.parks && !sel.parks.includes(park.id)) continue;
      const parkMeters: Array<{ tenant: Tenant; meter: Meter }> = [];
      for (const tenant of park.tenants) {
        if (sel.tenants && !sel.tenants.includes(tenant.id)) continue;
        const meters = tenant.meters.filter((m) => meterMatches(spec, m));
        if (sel.scope === 'meter') for (const meter of meters) ctxs.push({ park, tenant, meter, metric: sel.metric });
        else if (sel.scope === 'tenant' && meters.length) ctxs.push({ park, tenant, metric: sel.metric });
        for (const meter of meters) parkMeters.push({ tenant, meter });
      }
      if (sel.scope === 'park' && parkMeters.length) ctxs.push({ park, metric: sel.metric });
    }
    for (const ctx of ctxs) {
      const scope = scopes.of(ctx.park.id, ctx.tenant?.id, ctx.meter?.id, ctx.metric);
      const m = merged(spec, ctx);
      if (m.disabled) continue;
      const lim = resolveLimit(m.limit, spec.op, ctx, m.source ?? spec.source);
      if (typeof lim === 'string') {
        skipped.push({ ruleId: spec.id, scope, reason: lim });
        continue;
      }
      const kind = spec.kind === 'deadman' ? 'deadman' : spec.kind === 'exceedance-share' ? 'share' : 'compare';
      const built: LimitPeriod[] = [];
      const keys: string[] = [];
      const gaps = [...lim.gaps];
      for (const span of lim.spans) {
        const levels = resolveLevels(kind, rule.levelOp, m.levels, span.limit, spec.hysteresis);
        if (typeof levels === 'string') {
          gaps.push(span.version?.from === undefined ? levels : `${levels} (version ${span.version.reference}, ${validityText(span.version)})`);
          continue;
        }
        const key = JSON.stringify(levels);
        const shared = levelCache.get(key) ?? levels;
        levelCache.set(key, shared);
        const hourLimit = spec.kind === 'exceedance-share' ? (span.limit?.value ?? Number.POSITIVE_INFINITY) : 0;
        built.push({ fromMs: span.fromMs, toMs: span.toMs, levels: shared, source: texts.of(span.source), hourLimit, ...(span.version && { version: span.version }) });
        keys.push(JSON.stringify([span.fromMs, span.toMs, key, span.source, hourLimit, span.version ?? null]));
      }
      const periodsKey = keys.join('\n');
      const limits = periodsCache.get(periodsKey) ?? built.slice();
      periodsCache.set(periodsKey, limits);
      const shape = limits.at(-1)?.levels;
      if (!shape) {
        skipped.push({ ruleId: spec.id, scope, reason: gaps[0] ?? 'no limit' });
        continue;
      }
      // A version that cannot serve the rule leaves its period unjudged: said, not silent.
      for (const reason of gaps) skipped.push({ ruleId: spec.id, scope, reason: `not judged while ${reason}` });
      let o2Ref: number | undefined;
      if (rule.o2MaxAgeMs !== undefined) {
        o2Ref = ctx.meter?.o2ReferencePercent;
        if (o2Ref === undefined) {
          skipped.push({ ruleId: spec.id, scope, reason: 'o2Correction needs the meter\'s o2ReferencePercent' });
          continue;
        }
      }
      let factors: readonly FactorPeriod[] = noFactors;
      const multiplier = spec.kind === 'budget' || spec.kind === 'ratio' ? spec.params.multiplier : undefined;
      if (multiplier === 'emission-factor') {
        const fkey = ctx.tenant ? `${ctx.park.id}\n${ctx.tenant.supplySource}` : '';
        factors = factorCache.get(fkey) ?? (ctx.tenant ? factorVersions(ctx.park, ctx.tenant.supplySource).map((v) => ({ fromMs: v.fromMs, toMs: v.toMs, kgCo2ePerKwh: v.value.kgCo2ePerKwh, version: refOf(v) })) : noFactors);
        factorCache.set(fkey, factors);
        if (!factors.length) {
          skipped.push({ ruleId: spec.id, scope, reason: 'no emission factor for the tenant\'s supply source' });
          continue;
        }
      }
      bindings.push({
        rule,
        fp: fingerprint(spec.id, scope),
        scope,
        levels: shape,
        limits,
        forMs: m.forMs,
        o2Ref,
        factors,
        tz: ctx.park.timezone,
        register: spec.kind === 'register' ? registerOf(ctx) : undefined,
        st: freshState(),
        active: true,
      });
    }
  }
  return { rules, bindings, skipped };
}
