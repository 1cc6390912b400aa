/**
 * Binds a rule pack to a park registry: one binding per (rule, scope) the rule
 * applies to, with its limits resolved (pack value, override, or registry) and
 * its fingerprint computed once. A rule whose limit the registry does not give
 * for a scope does not apply there; `skipped` says why, for the operator.
 */
import type { Park, RegistryIndex, Tenant, Meter } from '../../../shared/contracts/park-registry.ts';
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
  readonly levels: readonly Level[];
  readonly forMs: number;
  /** Where the limit came from (permit, regulation, registry field), for provenance. */
  readonly limitSource: string;
  /** Exceedance-share: the per-hour limit. */
  readonly hourLimit: number;
  readonly o2Ref: number | undefined;
  /** Emission factor (kg CO2e per kWh) or 1. */
  readonly mult: number;
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

function resolveLimit(spec: LimitSpec | undefined, op: ComparisonOp, ctx: Ctx, ruleSource: string): { limit?: ResolvedLimit; source: string } | string {
  if (spec === undefined) return { source: ruleSource };
  if (typeof spec === 'number') return { limit: { value: spec }, source: ruleSource };
  if (typeof spec === 'object' && 'min' in spec) return { limit: { range: spec }, source: ruleSource };
  const from = typeof spec === 'string' ? spec : spec.from;
  const fallback = typeof spec === 'object' ? spec.default : undefined;
  const found = fromRegistry(from, op, ctx);
  if (typeof found !== 'string') return found;
  if (fallback === undefined) return found;
  return { limit: typeof fallback === 'number' ? { value: fallback } : { range: fallback }, source: `${ruleSource} (default: ${found})` };
}

function fromRegistry(from: Exclude<LimitSpec, number | object>, op: ComparisonOp, ctx: Ctx): { limit: ResolvedLimit; source: string } | string {
  const { park, tenant, meter, metric } = ctx;
  switch (from) {
    case 'registry': {
      const l = meter && metric ? meter.limits?.[metric] : undefined;
      if (!l) return `registry has no limit for ${metric ?? '?'} on ${meter?.id ?? 'this scope'}`;
      if (op === 'outside') {
        if (l.min === undefined || l.max === undefined) return `registry limit for ${metric ?? '?'} on ${meter?.id ?? '?'} lacks min or max`;
        return { limit: { range: { min: l.min, max: l.max } }, source: l.source };
      }
      const high = op === 'above' || op === 'at-or-above';
      const v = high ? (l.max ?? (l.dailyMaxPerUsedHa !== undefined ? l.dailyMaxPerUsedHa * park.usedAreaHa : undefined)) : l.min;
      if (v === undefined) return `registry limit for ${metric ?? '?'} on ${meter?.id ?? '?'} has no ${high ? 'max' : 'min'}`;
      const per = high && l.max === undefined ? ` (${l.dailyMaxPerUsedHa ?? 0} per used ha x ${park.usedAreaHa} ha)` : '';
      return { limit: { value: v }, source: `${l.source}${per}` };
    }
    case 'contracted-kw':
      if (meter?.contractedKw === undefined) return `registry has no contractedKw for ${meter?.id ?? 'this scope'}`;
      return { limit: { value: meter.contractedKw }, source: `contracted capacity of ${meter.id} (registry)` };
    case 'rating.maxStepPerHour': {
      const r = meter && metric ? meter.ratings?.[metric]?.maxStepPerHour : undefined;
      if (r === undefined) return `registry has no rating.maxStepPerHour for ${metric ?? '?'} on ${meter?.id ?? 'this scope'}`;
      return { limit: { value: r }, source: `rating of ${meter?.id ?? '?'} (registry)` };
    }
    case 'budget.monthlyKgCo2e':
    case 'budget.dailyWaterIntakeM3': {
      const key = from === 'budget.monthlyKgCo2e' ? 'monthlyKgCo2e' : 'dailyWaterIntakeM3';
      const owner = tenant ?? park;
      const v = owner.budgets?.[key];
      if (v === undefined) return `registry has no budgets.${key} for ${owner.id}`;
      return { limit: { value: v }, source: `budget ${key} of ${owner.id} (registry)` };
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
      const scope: AlertScope = { park: ctx.park.id };
      if (ctx.tenant) scope.tenant = ctx.tenant.id;
      if (ctx.meter) scope.meter = ctx.meter.id;
      if (ctx.metric !== undefined) scope.metric = ctx.metric;
      const m = merged(spec, ctx);
      if (m.disabled) continue;
      const lim = resolveLimit(m.limit, spec.op, ctx, m.source ?? spec.source);
      if (typeof lim === 'string') {
        skipped.push({ ruleId: spec.id, scope, reason: lim });
        continue;
      }
      const kind = spec.kind === 'deadman' ? 'deadman' : spec.kind === 'exceedance-share' ? 'share' : 'compare';
      const levels = resolveLevels(kind, rule.levelOp, m.levels, lim.limit, spec.hysteresis);
      if (typeof levels === 'string') {
        skipped.push({ ruleId: spec.id, scope, reason: levels });
        continue;
      }
      const key = JSON.stringify(levels);
      const shared = levelCache.get(key) ?? levels;
      levelCache.set(key, shared);
      let o2Ref: number | undefined;
      if (rule.o2MaxAgeMs !== undefined) {
        o2Ref = ctx.meter?.o2ReferencePercent;
        if (o2Ref === undefined) {
          skipped.push({ ruleId: spec.id, scope, reason: 'o2Correction needs the meter\'s o2ReferencePercent' });
          continue;
        }
      }
      let mult = 1;
      const multiplier = spec.kind === 'budget' || spec.kind === 'ratio' ? spec.params.multiplier : undefined;
      if (multiplier === 'emission-factor') {
        const f = ctx.tenant ? ctx.park.emissionFactors[ctx.tenant.supplySource] : undefined;
        if (!f) {
          skipped.push({ ruleId: spec.id, scope, reason: 'no emission factor for the tenant\'s supply source' });
          continue;
        }
        mult = f.kgCo2ePerKwh;
      }
      bindings.push({
        rule,
        fp: fingerprint(spec.id, scope),
        scope,
        levels: shared,
        forMs: m.forMs,
        limitSource: lim.source,
        hourLimit: spec.kind === 'exceedance-share' ? (lim.limit?.value ?? Number.POSITIVE_INFINITY) : 0,
        o2Ref,
        mult,
        tz: ctx.park.timezone,
        register: spec.kind === 'register' ? registerOf(ctx) : undefined,
        st: freshState(),
        active: true,
      });
    }
  }
  return { rules, bindings, skipped };
}
