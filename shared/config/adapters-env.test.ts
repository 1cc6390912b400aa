/** The transport settings' rules across variables, checked before any connection. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfig } from './env.ts';
import { busEnv, mqttEnv, timeSeriesEnv } from './adapters-env.ts';
import { readTlsFiles } from '../adapters/tls-files.ts';
import { kafkaSecurity } from '../adapters/select.ts';

const schema = z.object({ ...busEnv, ...timeSeriesEnv, ...mqttEnv('ingest') });
const load = (env: Record<string, string>) => loadConfig(schema, { MQTT_PASSWORD: 'p-1', ...env }, 'svc');

it('refuses a CA or client certificate beside a connection that would not use TLS, naming the variable', () => {
  assert.throws(() => load({ MQTT_CA_FILE: '/ca.pem' }), /MQTT_CA_FILE: is set but MQTT_URL is not mqtts:\/\/ or wss:\/\//);
  assert.throws(() => load({ INFLUX_CA_FILE: '/ca.pem' }), /INFLUX_CA_FILE: is set but INFLUX_URL is not https:\/\//);
  assert.throws(() => load({ KAFKA_SSL_CA_FILE: '/ca.pem' }), /KAFKA_SSL_CA_FILE: is set but KAFKA_SSL is not true/);
  assert.throws(() => load({ MQTT_URL: 'mqtts://b:8883', MQTT_CERT_FILE: '/c.pem' }), /MQTT_CERT_FILE: needs MQTT_KEY_FILE too/);
  const ok = load({ MQTT_URL: 'mqtts://b:8883', MQTT_CA_FILE: '/ca.pem', INFLUX_URL: 'https://i:8086', INFLUX_CA_FILE: '/ca.pem', KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/ca.pem' });
  assert.equal(ok.MQTT_CA_FILE, '/ca.pem');
});

it('SASL needs its username and password, and PLAIN needs TLS', () => {
  assert.throws(() => load({ KAFKA_SASL_MECHANISM: 'scram-sha-256' }), (err: Error) => /KAFKA_SASL_USERNAME: is required when KAFKA_SASL_MECHANISM is scram-sha-256/.test(err.message) && /KAFKA_SASL_PASSWORD: is required/.test(err.message));
  assert.throws(() => load({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }), /KAFKA_SASL_MECHANISM: plain sends the password in clear: only with KAFKA_SSL=true/);
  const c = load({ BUS: 'kafka', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
  assert.deepEqual(kafkaSecurity(c), { sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
  assert.deepEqual(kafkaSecurity(load({ KAFKA_SSL: 'true' })), { ssl: true });
  assert.deepEqual(kafkaSecurity(load({})), {});
});

it('a TLS file that cannot be read or holds no PEM block is a configuration error naming the variable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eip-tls-files-'));
  try {
    writeFileSync(join(dir, 'not-pem.txt'), 'hello');
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    assert.throws(() => readTlsFiles({ MQTT_CA_FILE: join(dir, 'missing.pem') }, 'MQTT'), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /MQTT_CA_FILE: cannot read .*missing\.pem \(ENOENT\)/.test(e.message));
    assert.throws(() => readTlsFiles({ KAFKA_SSL_CA_FILE: join(dir, 'not-pem.txt') }, 'KAFKA_SSL'), /KAFKA_SSL_CA_FILE: .* holds no PEM block/);
    assert.deepEqual(Object.keys(readTlsFiles({ INFLUX_CA_FILE: join(dir, 'ca.pem'), INFLUX_CERT_FILE: '' }, 'INFLUX')), ['ca']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
