/** The rule pack as the console shows it: validated by the rules service's own parser, shown as written. */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { parseRulePack } from '../rules/domain/index.ts';
import type { RegistryIndex } from '../../shared/contracts/park-registry.ts';
import type { RulePackView } from './api/schemas.ts';

export function loadRulePackView(path: string): { view: RulePackView; deadmanRules: Set<string> } {
  const text = readFileSync(path, 'utf8');
  // Same parser, same errors as the rules service: a pack it would refuse stops the console too.
  const pack = parseRulePack(text, path);
  const raw = parseDocument(text, { merge: true }).toJS({ maxAliasCount: 1000 }) as { rules?: Array<Record<string, unknown>> };
  const view: RulePackView = {
    name: pack.name ?? path,
    ...(pack.description !== undefined && { description: pack.description }),
    path,
    rules: pack.rules.map((r, i) => ({
      id: r.id,
      version: r.version,
      kind: r.kind,
      description: r.description,
      ...(r.source !== undefined && { source: r.source }),
      ...(r.selector.metric !== undefined && { metric: r.selector.metric }),
      severities: Object.keys(r.levels),
      spec: raw.rules?.[i] ?? {},
    })),
  };
  return { view, deadmanRules: new Set(pack.rules.filter((r) => r.kind === 'deadman').map((r) => r.id)) };
}

type Ref = { park?: unknown; tenant?: unknown; meter?: unknown };
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);

/**
 * The pack as a caller limited to `parks` may read it: rules whose selector
 * names only other parks (or their tenants and meters) are left out, and so are
 * the names and overrides (another park's permit limits) that are not theirs.
 */
export function packFor(view: RulePackView, parks: ReadonlySet<string> | null, registry: RegistryIndex): RulePackView {
  if (parks === null) return view;
  const parkOf = (ref: Ref): string | undefined => {
    if (typeof ref.park === 'string') return ref.park;
    if (typeof ref.tenant === 'string') return registry.tenant(ref.tenant)?.park.id;
    if (typeof ref.meter === 'string') return registry.meter(ref.meter)?.park.id;
    return undefined;
  };
  const mine = (ref: Ref): boolean => {
    const p = parkOf(ref);
    return p !== undefined && parks.has(p);
  };
  const rules = view.rules.flatMap((rule) => {
    const selector = isRecord(rule.spec.selector) ? rule.spec.selector : {};
    const named: Ref[] = [
      ...strings(selector.parks).map((park) => ({ park })),
      ...strings(selector.tenants).map((tenant) => ({ tenant })),
      ...strings(selector.meters).map((meter) => ({ meter })),
    ];
    if (named.length > 0 && !named.some(mine)) return [];
    const spec: Record<string, unknown> = { ...rule.spec };
    if (named.length > 0) {
      const narrowed: Record<string, unknown> = { ...selector };
      for (const [key, as] of [['parks', 'park'], ['tenants', 'tenant'], ['meters', 'meter']] as const) {
        if (selector[key] !== undefined) narrowed[key] = strings(selector[key]).filter((id) => mine({ [as]: id }));
      }
      spec.selector = narrowed;
    }
    if (Array.isArray(rule.spec.overrides)) spec.overrides = rule.spec.overrides.filter((o) => isRecord(o) && mine(o));
    return [{ ...rule, spec }];
  });
  return { ...view, rules };
}
