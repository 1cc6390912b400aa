/**
 * Who may connect with which client id, publish and subscribe where: the one
 * source of the MQTT access rules. Mosquitto's dynamic-security roles are
 * rendered from grantsOf() (infra/mosquitto/render-dynsec.ts) and the embedded
 * broker evaluates the same grants, so both refuse the same things.
 *
 * A principal's role comes from its account (credentials file), never from
 * its name: a tenant called like a service gets no service rights (and the
 * park registry refuses such ids anyway, see reservedTenantIds).
 */
import { ingestProbeRoot, topicMatches, topicRoot } from './mqtt-topics.ts';

export type MqttRole = 'tenant' | 'ingest' | 'rules' | 'console' | 'simulator';

export const serviceRoles = ['ingest', 'rules', 'console', 'simulator'] as const;
export type ServiceRole = (typeof serviceRoles)[number];

export type MqttPrincipal =
  | { username: string; role: ServiceRole }
  /** A tenant's own account or one of its gateways' accounts. */
  | { username: string; role: 'tenant'; park: string; tenant: string };

export interface MqttGrant {
  access: 'read' | 'write';
  /** MQTT filter the grant covers. */
  filter: string;
  /** read only: also as an MQTT 5 shared subscription ($share/<group>/<filter>). */
  shared?: boolean;
}

/**
 * Topic segments a tenant id must not take: service account names (a tenant's
 * username is its id), the alerts segment (eip/{park}/alerts/...) and the root.
 * Wildcards and $-prefixed names are already outside the id syntax.
 */
export const reservedTenantIds: readonly string[] = [...serviceRoles, 'alerts', topicRoot];

/**
 * A client id belongs to the user whose name it is, or whose name it starts
 * with followed by this separator. Usernames never contain it, so the client
 * ids of two users never overlap: nobody can resume or cut another user's
 * session. Mosquitto enforces it with infra/mosquitto/client-id-guard.c.
 */
export const clientIdSeparator = ':';

export function ownsClientId(username: string, clientId: string): boolean {
  if (username === '' || username.includes(clientIdSeparator)) return false;
  if (clientId === username) return true;
  return clientId.startsWith(username + clientIdSeparator) && clientId.length > username.length + 1;
}

/** A client id for this user: `<username>:<suffix>`. */
export const clientIdFor = (username: string, suffix: string): string => `${username}${clientIdSeparator}${suffix}`;

/** Retained messages are refused on these topics for everyone: a reading is an event, not a state. */
export const noRetainFilters: readonly string[] = [`${topicRoot}/+/+/+/telemetry`];

const telemetryAll = `${topicRoot}/+/+/+/telemetry`;
const statusAll = `${topicRoot}/+/+/+/status`;
const alertsAll = `${topicRoot}/+/alerts/#`;
const ingestProbeFilter = `${ingestProbeRoot}/+`;

export function grantsOf(p: MqttPrincipal): MqttGrant[] {
  switch (p.role) {
    case 'tenant': return [
      { access: 'write', filter: `${topicRoot}/${p.park}/${p.tenant}/+/telemetry` },
      { access: 'write', filter: `${topicRoot}/${p.park}/${p.tenant}/+/status` },
      { access: 'read', filter: `${topicRoot}/${p.park}/${p.tenant}/#` },
    ];
    // Plain subscriptions to its scopes (narrowings of these), and its own
    // subscription probes, published and read back (services/ingest/README.md).
    case 'ingest': return [
      { access: 'read', filter: telemetryAll, shared: true },
      { access: 'read', filter: statusAll, shared: true },
      { access: 'write', filter: ingestProbeFilter },
      { access: 'read', filter: ingestProbeFilter },
    ];
    case 'rules': return [
      { access: 'write', filter: alertsAll },
      { access: 'read', filter: statusAll },
    ];
    case 'console': return [
      { access: 'read', filter: alertsAll },
      { access: 'read', filter: statusAll },
    ];
    // Load tests and faulty meters: anything under the root.
    case 'simulator': return [
      { access: 'write', filter: `${topicRoot}/#` },
      { access: 'read', filter: `${topicRoot}/#` },
    ];
  }
}

/** True when every topic that matches `filter` also matches `grant` (both may hold + and #). */
export function filterCovers(grant: string, filter: string): boolean {
  const g = grant.split('/');
  const f = filter.split('/');
  for (let i = 0; i < f.length; i++) {
    if (g[i] === '#') return true;
    if (i >= g.length) return false;
    if (f[i] === '#') return false;
    if (f[i] === '+') {
      if (g[i] !== '+') return false;
    } else if (g[i] !== '+' && g[i] !== f[i]) return false;
  }
  // "a/#" also matches "a".
  return g.length === f.length || (g.length === f.length + 1 && g[f.length] === '#');
}

/** Splits `$share/<group>/<filter>`; null group for a plain filter, null result for a malformed share. */
export function splitShared(filter: string): { group: string | null; filter: string } | null {
  if (!filter.startsWith('$share/')) return { group: null, filter };
  const [, group, ...rest] = filter.split('/');
  if (!group || rest.length === 0 || /[+#]/.test(group)) return null;
  return { group, filter: rest.join('/') };
}

export function mayPublish(p: MqttPrincipal, topic: string, retain = false): boolean {
  if (/[+#]/.test(topic)) return false;
  if (retain && noRetainFilters.some((f) => topicMatches(f, topic))) return false;
  return grantsOf(p).some((g) => g.access === 'write' && topicMatches(g.filter, topic));
}

export function maySubscribe(p: MqttPrincipal, filter: string): boolean {
  const s = splitShared(filter);
  if (!s) return false;
  return grantsOf(p).some((g) => g.access === 'read' && (s.group === null || g.shared === true) && filterCovers(g.filter, s.filter));
}

/** Delivery check: a message reaches a client only on a topic it may read. */
export function mayReceive(p: MqttPrincipal, topic: string): boolean {
  return grantsOf(p).some((g) => g.access === 'read' && topicMatches(g.filter, topic));
}
