/**
 * The MQTT topic scheme, in one place:
 *   eip/{park}/{tenant}/{meter}/telemetry   readings (envelope v1 or SenML)
 *   eip/{park}/{tenant}/{meter}/status      birth ("online") and last will ("offline"), retained
 *   eip/{park}/alerts/{severity}            alert transitions for the park
 */
import type { Severity } from './events.ts';

export const topicRoot = 'eip';

export type MeterTopicKind = 'telemetry' | 'status';

export interface MeterTopic {
  kind: MeterTopicKind;
  park: string;
  tenant: string;
  meter: string;
}

export const telemetryTopic = (park: string, tenant: string, meter: string): string => `${topicRoot}/${park}/${tenant}/${meter}/telemetry`;
export const statusTopic = (park: string, tenant: string, meter: string): string => `${topicRoot}/${park}/${tenant}/${meter}/status`;
export const alertTopic = (park: string, severity: Severity): string => `${topicRoot}/${park}/alerts/${severity}`;

/** Filters ingest subscribes to. */
export const telemetryFilter = `${topicRoot}/+/+/+/telemetry`;
export const statusFilter = `${topicRoot}/+/+/+/status`;
export const alertFilter = (park = '+'): string => `${topicRoot}/${park}/alerts/#`;

const segment = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Ingest's static split of the topic space: each instance takes the scopes it
 * is given, a park (`park-a`), a park's tenant (`park-a/tenant-b`), or `+` for
 * every park, with plain (non-shared) subscriptions, which a broker restores
 * with the session.
 */
export const ingestScopePattern = /^(\+|[a-z0-9][a-z0-9_-]*)(\/(\+|[a-z0-9][a-z0-9_-]*))?$/;

export function ingestFilters(scopes: readonly string[]): string[] {
  const filters = new Set<string>();
  for (const scope of scopes) {
    if (!ingestScopePattern.test(scope)) throw new Error(`not an ingest scope: ${scope}`);
    const [park, tenant = '+'] = scope.split('/');
    filters.add(`${topicRoot}/${park}/${tenant}/+/telemetry`);
    filters.add(`${topicRoot}/${park}/${tenant}/+/status`);
  }
  return [...filters];
}

/**
 * Where an ingest instance sends the probe that proves its session still
 * delivers: outside the meter scheme, one level per client id.
 */
export const ingestProbeRoot = 'ingest/probe';
export const ingestProbeTopic = (clientId: string): string => `${ingestProbeRoot}/${clientId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

/** Parses a meter topic; null for anything outside the scheme. */
export function parseMeterTopic(topic: string): MeterTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== topicRoot) return null;
  const [, park, tenant, meter, kind] = parts as [string, string, string, string, string];
  if (kind !== 'telemetry' && kind !== 'status') return null;
  if (!segment.test(park) || !segment.test(tenant) || !segment.test(meter)) return null;
  return { kind, park, tenant, meter };
}

/** Matches an MQTT topic against a filter with + and # wildcards. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') return true;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return f.length === t.length;
}
