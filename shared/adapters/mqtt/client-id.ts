/**
 * Client ids of the services. A client id names a session (and, for ingest, its
 * queued readings), so it must be the service's own (`<username>:...`, which
 * the brokers enforce) and not guessable: the default is derived from the
 * account's secret and the host, stable across restarts of one instance.
 */
import { createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import { clientIdFor, clientIdSeparator, ownsClientId } from '../../contracts/mqtt-acl.ts';
import { EipError } from '../../errors.ts';

/** `<username>:<host>-<16 hex of HMAC(secret, host)>`. */
export function serviceClientId(username: string, secret: string, instance = hostname()): string {
  const host = instance.replace(/[^A-Za-z0-9_.-]/g, '-') || 'host';
  const digest = createHmac('sha256', secret).update(`eip mqtt client id\0${host}`).digest('hex').slice(0, 16);
  return clientIdFor(username, `${host}-${digest}`);
}

/** The configured client id, or the derived default; refuses one the broker would refuse. */
export function ownedClientId(o: { username: string; password: string; configured: string; variable: string }): string {
  const id = o.configured || serviceClientId(o.username, o.password);
  if (!ownsClientId(o.username, id)) {
    throw new EipError('CONFIG_INVALID', `${o.variable} must be the MQTT username or start with "${o.username}${clientIdSeparator}" (a client id belongs to its user); got ${JSON.stringify(id)}`);
  }
  return id;
}
