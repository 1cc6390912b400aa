/** The real Mosquitto started by infra/ enforces the per-tenant ACL and the service users. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { connect } from '../helpers/mqtt.ts';
import { mqttUrl, servicePassword, tenantPassword } from '../helpers/servers.ts';

const id = (p: string): string => `${p}-${randomBytes(4).toString('hex')}`;
/** A client id of this user's own (the broker refuses another user's). */
const cid = (user: string, p: string): string => `${user}:${id(p)}`;

describe('Mosquitto ACL (real broker)', () => {
  let watcher: MqttClient;
  const received: string[] = [];

  before(async () => {
    watcher = await connect(mqttUrl, { username: 'ingest', password: servicePassword('ingest'), protocolVersion: 5, clientId: cid('ingest', 'acl-watch'), clean: true });
    watcher.on('message', (topic, payload) => { received.push(`${topic} ${payload.toString()}`); });
    await watcher.subscribeAsync('$share/acl-test/eip/+/+/+/telemetry', { qos: 1 });
  });
  after(async () => { await watcher.endAsync(); });

  const waitForMessage = async (needle: string, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (received.some((r) => r.includes(needle))) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return false;
  };

  it('accepts a tenant publishing under its own topics and refuses another tenant\'s', async () => {
    const tenant = await connect(mqttUrl, { username: 'sulawesi-nickel', password: tenantPassword('sulawesi-nickel'), protocolVersion: 5, clientId: cid('sulawesi-nickel', 'acl-tenant') });
    try {
      const own = id('own');
      const foreign = id('foreign');
      await tenant.publishAsync('eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry', own, { qos: 1 });
      // MQTT 5: Mosquitto answers the refused QoS 1 publish with "not authorized" (135).
      const refused = await tenant.publishAsync('eip/nusantara-eip/celebes-battery/cbr-elec-main/telemetry', foreign, { qos: 1 }).then(() => null, (err: Error) => err);
      assert.ok(await waitForMessage(own, 5000), 'own topic delivered');
      assert.equal(await waitForMessage(foreign, 1000), false, 'foreign topic not delivered');
      assert.ok(refused === null || /authori/i.test(refused.message), `refusal: ${refused?.message}`);
    } finally {
      await tenant.endAsync();
    }
  });

  it('refuses a wrong password and anonymous clients', async () => {
    await assert.rejects(connect(mqttUrl, { username: 'sulawesi-nickel', password: 'guess', protocolVersion: 5, clientId: cid('sulawesi-nickel', 'acl-bad') }));
    await assert.rejects(connect(mqttUrl, { protocolVersion: 5, clientId: id('acl-anon') }));
  });

  it('does not let ingest publish readings or a tenant read the whole park', async () => {
    const ingest = await connect(mqttUrl, { username: 'ingest', password: servicePassword('ingest'), protocolVersion: 5, clientId: cid('ingest', 'acl-ingest') });
    const marker = id('from-ingest');
    await ingest.publishAsync('eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry', marker, { qos: 1 }).catch(() => undefined);
    assert.equal(await waitForMessage(marker, 1000), false);
    await ingest.endAsync();
    const tenant = await connect(mqttUrl, { username: 'celebes-battery', password: tenantPassword('celebes-battery'), protocolVersion: 5, clientId: cid('celebes-battery', 'acl-peek') });
    const seen: string[] = [];
    tenant.on('message', (t) => seen.push(t));
    await tenant.subscribeAsync('eip/+/+/+/telemetry', { qos: 1 }).catch(() => undefined);
    const other = await connect(mqttUrl, { username: 'sulawesi-nickel', password: tenantPassword('sulawesi-nickel'), protocolVersion: 5, clientId: cid('sulawesi-nickel', 'acl-other') });
    await other.publishAsync('eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry', 'x', { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(seen.filter((t) => t.includes('sulawesi-nickel')), [], 'a tenant does not read another tenant\'s readings');
    await other.endAsync();
    await tenant.endAsync();
  });
});
