/**
 * Who may publish and subscribe where. The same rules are rendered into
 * Mosquitto's ACL file (infra/mosquitto/acl) and enforced by the embedded broker,
 * so the embedded mode refuses exactly what production refuses.
 * A tenant's MQTT username is its tenant id.
 */
import { ingestProbeRoot, topicMatches, topicRoot } from './mqtt-topics.ts';

export type MqttRole = 'tenant' | 'ingest' | 'rules' | 'console' | 'simulator';

export interface MqttPrincipal {
  username: string;
  role: MqttRole;
}

const serviceRoles: Record<string, MqttRole> = { ingest: 'ingest', rules: 'rules', console: 'console', simulator: 'simulator' };

export function roleOf(username: string): MqttRole {
  return serviceRoles[username] ?? 'tenant';
}

function tenantOwns(username: string, topic: string): boolean {
  const parts = topic.split('/');
  return parts.length === 5 && parts[0] === topicRoot && parts[2] === username && (parts[4] === 'telemetry' || parts[4] === 'status');
}

/** Strips an MQTT 5 shared-subscription prefix: the ACL applies to the filter itself. */
function plainFilter(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  return filter.split('/').slice(2).join('/');
}

/** True when every topic `filter` matches is matched by `granted` too (a narrowing of it). */
function narrows(granted: string, filter: string): boolean {
  const g = granted.split('/');
  const f = filter.split('/');
  return g.length === f.length && g.every((part, i) => part === f[i] || (part === '+' && f[i] !== '#'));
}

const ingestProbeFilter = `${ingestProbeRoot}/+`;

export function mayPublish(p: MqttPrincipal, topic: string): boolean {
  switch (p.role) {
    case 'tenant': return tenantOwns(p.username, topic);
    case 'simulator': return topic.startsWith(`${topicRoot}/`);
    case 'rules': return topicMatches(`${topicRoot}/+/alerts/#`, topic);
    // Ingest publishes only its own subscription probes.
    case 'ingest': return topicMatches(ingestProbeFilter, topic);
    case 'console': return false;
  }
}

export function maySubscribe(p: MqttPrincipal, filter: string): boolean {
  const f = plainFilter(filter);
  switch (p.role) {
    case 'tenant': return f.split('/')[2] === p.username && f.startsWith(`${topicRoot}/`) && !f.split('/').slice(0, 3).some((s) => s === '+' || s === '#');
    case 'ingest': return narrows(`${topicRoot}/+/+/+/telemetry`, f) || narrows(`${topicRoot}/+/+/+/status`, f) || narrows(ingestProbeFilter, f);
    case 'console': return (f.split('/')[0] === topicRoot && f.split('/')[2] === 'alerts') || f === `${topicRoot}/+/+/+/status`;
    case 'rules': return f === `${topicRoot}/+/+/+/status`;
    case 'simulator': return f.startsWith(`${topicRoot}/`);
  }
}
