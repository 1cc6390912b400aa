/**
 * The development secrets this repository ships, so that a production start
 * can refuse them: the passwords of infra/dev-credentials.json (and its tenant
 * password pattern), the console's development users (services/console/dev-users.json),
 * and the InfluxDB token and passwords the infra scripts and earlier compose files
 * used. Everything here is public by being in the repository.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Files whose secrets are development ones; a copy of either is as known as the original. */
export const devCredentialFiles = ['infra/dev-credentials.json', 'services/console/dev-users.json'] as const;

/**
 * Values set outside those files: the InfluxDB operator token and admin password
 * of infra/influxdb/influxdb.sh, the Kafka SCRAM password of infra/kafka/kafka.sh,
 * the session key docker-compose.yml used to ship, and the SPARING signing
 * secret of the reporting service and the stand-in receiver.
 */
const fixedDevValues: Readonly<Record<string, string>> = {
  'eip-dev-token': 'the development InfluxDB token',
  'eip-dev-password': 'the development InfluxDB password',
  'eip-kafka-dev-secret': 'the development Kafka SCRAM password',
  'change-me-compose-dev-session-key': 'the session key of an earlier docker-compose.yml',
  'sparing-dev-secret': 'the development SPARING signing secret (services/reporting, simulators/receiver)',
};

interface DevValues {
  exact: Map<string, string>;
  patterns: Array<{ re: RegExp; kind: string }>;
}

let cached: DevValues | undefined;

function stringLeaves(value: unknown, key: string, out: Array<{ key: string; value: string }>): void {
  if (typeof value === 'string') out.push({ key, value });
  else if (Array.isArray(value)) for (const v of value) stringLeaves(v, key, out);
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) stringLeaves(v, k, out);
}

function readLeaves(path: string): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  try {
    stringLeaves(JSON.parse(readFileSync(path, 'utf8')), '', out);
  } catch {
    // Missing or not JSON: nothing to learn from it.
  }
  return out;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function devValues(): DevValues {
  if (cached) return cached;
  const exact = new Map(Object.entries(fixedDevValues));
  const patterns: DevValues['patterns'] = [];
  for (const { key, value } of readLeaves(`${root}infra/dev-credentials.json`)) {
    if (key === 'note') continue;
    if (value.includes('{tenant}')) {
      const re = new RegExp(`^${value.split('{tenant}').map(escapeRe).join('[A-Za-z0-9_.-]+')}$`);
      patterns.push({ re, kind: `a development password (pattern ${value} of infra/dev-credentials.json)` });
      exact.set(value, 'the development password pattern of infra/dev-credentials.json');
    } else exact.set(value, 'a development password of infra/dev-credentials.json');
  }
  // The users file holds salted hashes: one equal to a development user's comes from that file.
  for (const { key, value } of readLeaves(`${root}services/console/dev-users.json`)) {
    if (/hash$/i.test(key)) exact.set(value, 'a development user\'s hash of services/console/dev-users.json');
  }
  cached = { exact, patterns };
  return cached;
}

/** What development secret this value is, or undefined. */
export function devValueKind(value: string): string | undefined {
  const known = devValues();
  return known.exact.get(value) ?? known.patterns.find((p) => p.re.test(value))?.kind;
}

/**
 * Whether a credentials file (JSON) holds any development secret or hash (the
 * originals, a copy, or a file extended from one), or is shaped like the
 * development MQTT template: one `{tenant}` pattern for every tenant's
 * password, whatever the pattern, lets any tenant derive every other's.
 */
export function fileHoldsDevCredentials(path: string): boolean {
  return readLeaves(path).some(({ key, value }) => key !== 'note' && (devValueKind(value) !== undefined || (key === 'tenantPassword' && value.includes('{tenant}'))));
}
