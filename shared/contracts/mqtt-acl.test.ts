import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientIdFor, filterCovers, mayPublish, mayReceive, maySubscribe, ownsClientId, type MqttPrincipal } from './mqtt-acl.ts';

const nickel: MqttPrincipal = { username: 'sulawesi-nickel', role: 'tenant', park: 'nusantara-eip', tenant: 'sulawesi-nickel' };
const gateway: MqttPrincipal = { username: 'sulawesi-nickel.gw-2', role: 'tenant', park: 'nusantara-eip', tenant: 'sulawesi-nickel' };

describe('MQTT access rules', () => {
  it('lets a tenant publish only under its own park and tenant', () => {
    assert.ok(mayPublish(nickel, 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry'));
    assert.ok(mayPublish(nickel, 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/status'));
    assert.ok(mayPublish(gateway, 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry'));
    assert.ok(!mayPublish(nickel, 'eip/other-park/sulawesi-nickel/snk-elec-main/telemetry'), 'another park');
    assert.ok(!mayPublish(nickel, 'eip/nusantara-eip/celebes-battery/cbr-elec-main/telemetry'));
    assert.ok(!mayPublish(nickel, 'eip/nusantara-eip/alerts/critical'));
    assert.ok(!mayPublish(nickel, 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry/extra'));
  });
  it('refuses retained telemetry to everyone, keeps retained status', () => {
    assert.ok(!mayPublish(nickel, 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry', true));
    assert.ok(!mayPublish({ username: 'simulator', role: 'simulator' }, 'eip/p/t/m/telemetry', true));
    assert.ok(mayPublish(nickel, 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/status', true));
  });
  it('lets a tenant subscribe only inside its own tree, in one rule for both brokers', () => {
    assert.ok(maySubscribe(nickel, 'eip/nusantara-eip/sulawesi-nickel/#'));
    assert.ok(maySubscribe(nickel, 'eip/nusantara-eip/sulawesi-nickel/+/telemetry'));
    assert.ok(!maySubscribe(nickel, 'eip/+/sulawesi-nickel/#'), 'wider than its park');
    assert.ok(!maySubscribe(nickel, 'eip/+/+/+/telemetry'));
    assert.ok(!maySubscribe(nickel, 'eip/#'));
    assert.ok(!maySubscribe(nickel, '#'));
    assert.ok(!maySubscribe(nickel, 'eip/nusantara-eip/alerts/#'));
    assert.ok(!maySubscribe(nickel, '$share/g/eip/nusantara-eip/sulawesi-nickel/#'), 'shared subscriptions are for ingest');
    assert.ok(mayReceive(nickel, 'eip/nusantara-eip/sulawesi-nickel/m/telemetry'));
    assert.ok(!mayReceive(nickel, 'eip/nusantara-eip/celebes-battery/m/telemetry'));
  });
  it('gives services their own rights', () => {
    const ingest: MqttPrincipal = { username: 'ingest', role: 'ingest' };
    assert.ok(maySubscribe(ingest, '$share/ingest/eip/+/+/+/telemetry'));
    assert.ok(maySubscribe(ingest, 'eip/+/+/+/status'));
    assert.ok(!maySubscribe(ingest, '$share/+/eip/+/+/+/telemetry'), 'a share group is a name');
    assert.ok(!mayPublish(ingest, 'eip/p/t/m/telemetry'));
    const rules: MqttPrincipal = { username: 'rules', role: 'rules' };
    assert.ok(mayPublish(rules, 'eip/p/alerts/critical'));
    assert.ok(!mayPublish(rules, 'eip/p/t/m/telemetry'));
    const consoleUser: MqttPrincipal = { username: 'console', role: 'console' };
    assert.ok(maySubscribe(consoleUser, 'eip/+/alerts/#'));
    assert.ok(!maySubscribe(consoleUser, 'eip/+/+/+/telemetry'));
  });
  it('decides coverage of one filter by another', () => {
    const table: [string, string, boolean][] = [
      ['eip/#', 'eip', true], ['eip/#', 'eip/a/b', true], ['eip/+/x', 'eip/a/x', true], ['eip/+/x', 'eip/+/x', true],
      ['eip/a/x', 'eip/+/x', false], ['eip/+/x', 'eip/#', false], ['eip/+', 'eip/a/b', false], ['eip/a/#', 'eip/+/#', false],
    ];
    for (const [grant, filter, covered] of table) assert.equal(filterCovers(grant, filter), covered, `${grant} covers ${filter}`);
  });
  it('binds a client id to its user', () => {
    assert.ok(ownsClientId('ingest', 'ingest'));
    assert.ok(ownsClientId('ingest', clientIdFor('ingest', 'host-1')));
    assert.ok(!ownsClientId('ingest', 'ingest:'));
    assert.ok(!ownsClientId('sulawesi-nickel', 'ingest:host-1'));
    assert.ok(!ownsClientId('sulawesi-nickel', 'ingest-host-1'));
    // A tenant whose id is a prefix of another's does not share its client ids.
    assert.ok(!ownsClientId('park', 'park-wwtp:logger'));
    assert.ok(!ownsClientId('sulawesi-nickel', 'sulawesi-nickel.gw-2:x'), 'a gateway account owns its own ids');
    assert.ok(!ownsClientId('a:b', 'a:b'), 'no separator in a username');
  });
});
