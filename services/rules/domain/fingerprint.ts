import { createHash } from 'node:crypto';

export interface AlertScope {
  park: string;
  tenant?: string;
  meter?: string;
  metric?: string;
}

/** Stable across restarts and pack edits: only the rule id and the scope ids go in. */
export function fingerprint(ruleId: string, scope: AlertScope): string {
  const key = [ruleId, scope.park, scope.tenant ?? '', scope.meter ?? '', scope.metric ?? ''].join('\u0000');
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
