/** The rule pack as the console shows it: validated by the rules service's own parser, shown as written. */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { parseRulePack } from '../rules/domain/index.ts';
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
