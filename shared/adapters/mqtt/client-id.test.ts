import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ownedClientId, serviceClientId } from './client-id.ts';

describe('service client ids', () => {
  it('default to the user\'s namespace, stable per host, not guessable without the secret', () => {
    const a = serviceClientId('ingest', 'secret-1', 'host-a');
    assert.match(a, /^ingest:host-a-[0-9a-f]{16}$/);
    assert.equal(serviceClientId('ingest', 'secret-1', 'host-a'), a, 'stable: the session and the spool folder follow it');
    assert.notEqual(serviceClientId('ingest', 'secret-2', 'host-a'), a);
    assert.notEqual(serviceClientId('ingest', 'secret-1', 'host-b').slice(-16), a.slice(-16));
    assert.match(serviceClientId('rules', 's', 'odd host:name'), /^rules:odd-host-name-[0-9a-f]{16}$/);
  });
  it('refuse a configured id the broker would refuse, naming the variable', () => {
    assert.equal(ownedClientId({ username: 'ingest', password: 'p', configured: 'ingest:1', variable: 'MQTT_CLIENT_ID' }), 'ingest:1');
    assert.throws(() => ownedClientId({ username: 'ingest', password: 'p', configured: 'ingest-1', variable: 'MQTT_CLIENT_ID' }), /MQTT_CLIENT_ID must be the MQTT username or start with "ingest:"/);
  });
});
