/**
 * One MQTT connection per tenant, with the tenant's own credentials: the
 * broker's ACL lets a tenant publish only under its own topics, as it does for
 * real meters. Birth on every (re)connect, a last will, offline on the way out.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { MeterEntry } from '../shared/contracts/park-registry.ts';
import { statusTopic } from '../shared/contracts/mqtt-topics.ts';

export interface TenantConnectionOptions {
  url: string;
  protocol: 4 | 5;
  clientId: string;
  tenant: string;
  password: string;
  meters: readonly MeterEntry[];
  /** The ts of the birth and the will. */
  statusTsMs: number;
}

export function statusPayload(status: 'online' | 'offline', tsMs: number): string {
  return JSON.stringify({ status, ts: new Date(tsMs).toISOString(), simulated: true });
}

export async function connectTenant(o: TenantConnectionOptions): Promise<MqttClient> {
  const first = o.meters[0]!;
  const client = mqtt.connect(o.url, {
    clientId: o.clientId,
    username: o.tenant,
    password: o.password,
    protocolVersion: o.protocol,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    // One will per connection: the tenant's first meter goes offline if we die.
    will: { topic: statusTopic(first.park.id, o.tenant, first.meter.id), payload: Buffer.from(statusPayload('offline', o.statusTsMs)), qos: 1, retain: true },
  });
  // Birth on every (re)connect: a broker restart may have lost the retained status.
  client.on('connect', () => {
    for (const m of o.meters) client.publish(statusTopic(m.park.id, o.tenant, m.meter.id), statusPayload('online', o.statusTsMs), { qos: 1, retain: true });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tenant ${o.tenant}: no connection to ${o.url} within 10 s`)), 10_000);
      client.once('connect', () => { clearTimeout(timer); resolve(); });
      client.once('error', (err) => { clearTimeout(timer); reject(new Error(`tenant ${o.tenant}: ${err.message}`)); });
    });
  } catch (err) {
    // Otherwise it would keep reconnecting in the background.
    client.end(true);
    throw err;
  }
  client.on('error', (err) => process.stderr.write(`park-sim: tenant ${o.tenant}: ${err.message}\n`));
  return client;
}

/** Retained offline status for every meter, then a clean disconnect. */
export async function disconnectTenant(client: MqttClient, tenant: string, meters: readonly MeterEntry[], statusTsMs: number): Promise<void> {
  await Promise.all(meters.map((m) => client.publishAsync(statusTopic(m.park.id, tenant, m.meter.id), statusPayload('offline', statusTsMs), { qos: 1, retain: true }).catch(() => undefined)));
  await client.endAsync();
}

/** Connects every tenant at once; if one fails, closes the others and throws its error. */
export async function connectTenants(
  byTenant: ReadonlyMap<string, readonly MeterEntry[]>,
  passwords: ReadonlyMap<string, string>,
  base: { url: string; protocol: 4 | 5; clientIdOf: (tenant: string) => string; statusTsMs: number },
): Promise<Map<string, MqttClient>> {
  const tenants = [...byTenant];
  const results = await Promise.allSettled(tenants.map(async ([tenant, meters]) => {
    const password = passwords.get(tenant);
    if (password === undefined) throw new Error(`no MQTT password for tenant ${tenant}`);
    return connectTenant({ url: base.url, protocol: base.protocol, clientId: base.clientIdOf(tenant), tenant, password, meters, statusTsMs: base.statusTsMs });
  }));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) {
    for (const r of results) if (r.status === 'fulfilled') r.value.end(true);
    throw failure.reason;
  }
  return new Map(results.map((r, i) => [tenants[i]![0], (r as PromiseFulfilledResult<MqttClient>).value]));
}

export function groupByTenant(entries: readonly MeterEntry[]): Map<string, MeterEntry[]> {
  const byTenant = new Map<string, MeterEntry[]>();
  for (const e of entries) {
    const list = byTenant.get(e.tenant.id);
    if (list) list.push(e);
    else byTenant.set(e.tenant.id, [e]);
  }
  return byTenant;
}
