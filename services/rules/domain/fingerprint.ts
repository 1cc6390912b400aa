import { createHash } from 'node:crypto';

export interface AlertScope {
  park: string;
  tenant?: string;
  meter?: string;
  metric?: string;
}

/**
 * Stable across restarts and pack edits: only the rule id and the scope ids go in.
 * The first 16 bytes of the digest as hex, encoded on their own: a slice of the
 * full hex digest would keep the 64-character parent alive with every binding.
 */
export function fingerprint(ruleId: string, scope: AlertScope): string {
  const key = [ruleId, scope.park, scope.tenant ?? '', scope.meter ?? '', scope.metric ?? ''].join('\u0000');
  return createHash('sha256').update(key).digest().toString('hex', 0, 16);
}
