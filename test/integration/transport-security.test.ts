/**
 * Transport security against real servers of our own, started here through the
 * infra scripts on free ports and a throwaway run folder (the shared servers are
 * left alone): a Kafka with SCRAM on SASL_PLAINTEXT and SASL_SSL, a Mosquitto
 * with a TLS listener and one requiring a client certificate, both with the test
 * CA of infra/dev-tls.sh. Then ingest itself runs on MQTT over TLS and Kafka over
 * SASL_SSL, configured by its variables alone.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaClient } from '../../shared/adapters/kafka/client.ts';
import { kafkaSecurity, type KafkaSecuritySettings } from '../../shared/adapters/select.ts';
import { connectMqtt } from '../../shared/adapters/mqtt/connect.ts';
import { readTlsFiles } from '../../shared/adapters/tls-files.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { repoRoot, servicePassword, tenantPassword } from '../helpers/servers.ts';
import { osFreePort, startService, type ServiceProcess } from '../helpers/service-process.ts';
import { waitFor } from '../helpers/bus.ts';

const logger = quietLogger('transport-security-test');
const runDir = mkdtempSync(join(tmpdir(), 'eip-secure-'));
const scram = { user: 'eip-test', password: `scram-${randomBytes(6).toString('hex')}` };
const ports: Record<string, number> = {};
let infraEnv: Record<string, string> = {};

function infra(script: string, command: 'up' | 'down'): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [`infra/${script}`, command], { cwd: repoRoot, env: { ...process.env, ...infraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

const ca = (): string => join(runDir, 'kafka', 'tls', 'ca.crt');
const mqttTls = (): string => join(runDir, 'mosquitto', 'tls');

function kafkaSettings(over: Partial<KafkaSecuritySettings>): KafkaSecuritySettings {
  return { KAFKA_SSL: false, KAFKA_SSL_CA_FILE: '', KAFKA_SSL_CERT_FILE: '', KAFKA_SSL_KEY_FILE: '', KAFKA_SASL_MECHANISM: 'none', KAFKA_SASL_USERNAME: '', KAFKA_SASL_PASSWORD: '', ...over };
}

async function listTopics(port: number, settings: KafkaSecuritySettings): Promise<string[]> {
  const admin = createKafkaClient({ brokers: [`127.0.0.1:${port}`], clientId: 'transport-test', logger, connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000, ...kafkaSecurity(settings) }).admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

describe('transport security on servers of our own (Kafka SCRAM and TLS, Mosquitto TLS)', { timeout: 600_000 }, () => {
  before(async () => {
    for (const name of ['kafka', 'controller', 'scram', 'ssl', 'mqtt', 'mqttTls', 'mqttMtls']) ports[name] = await osFreePort();
    infraEnv = {
      EIP_RUN_DIR: runDir,
      EIP_KAFKA_PORT: String(ports.kafka), EIP_KAFKA_CONTROLLER_PORT: String(ports.controller),
      EIP_KAFKA_SCRAM_PORT: String(ports.scram), EIP_KAFKA_SSL_PORT: String(ports.ssl),
      EIP_KAFKA_SCRAM_USER: scram.user, EIP_KAFKA_SCRAM_PASSWORD: scram.password,
      EIP_MQTT_PORT: String(ports.mqtt), EIP_MQTT_TLS_PORT: String(ports.mqttTls), EIP_MQTT_MTLS_PORT: String(ports.mqttMtls),
    };
    const [kafka, mosquitto] = await Promise.all([infra('kafka/kafka.sh', 'up'), infra('mosquitto/mosquitto.sh', 'up')]);
    assert.equal(kafka.code, 0, kafka.output);
    assert.equal(mosquitto.code, 0, mosquitto.output);
  });

  after(async () => {
    await Promise.all([infra('kafka/kafka.sh', 'down'), infra('mosquitto/mosquitto.sh', 'down')]);
    rmSync(runDir, { recursive: true, force: true });
  });

  it('Kafka: SCRAM-SHA-256 and SCRAM-SHA-512 on SASL_PLAINTEXT with the right password; a wrong one or none is refused', async () => {
    for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
      const topics = await listTopics(ports.scram ?? 0, kafkaSettings({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: scram.user, KAFKA_SASL_PASSWORD: scram.password }));
      assert.ok(topics.includes('eip.readings.v1'), `${mechanism}: ${topics.join(',')}`);
    }
    await assert.rejects(listTopics(ports.scram ?? 0, kafkaSettings({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: scram.user, KAFKA_SASL_PASSWORD: 'not-the-password' })), /authentication failed/i);
    await assert.rejects(listTopics(ports.scram ?? 0, kafkaSettings({})));
  });

  it('Kafka: SASL_SSL verifies the broker with KAFKA_SSL_CA_FILE; without that CA the handshake is refused', async () => {
    const sasl = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: scram.user, KAFKA_SASL_PASSWORD: scram.password } as const;
    const topics = await listTopics(ports.ssl ?? 0, kafkaSettings({ KAFKA_SSL: true, KAFKA_SSL_CA_FILE: ca(), ...sasl }));
    assert.ok(topics.includes('eip.readings.v1'));
    // The system's CAs do not know the test CA.
    await assert.rejects(listTopics(ports.ssl ?? 0, kafkaSettings({ KAFKA_SSL: true, ...sasl })), /certificate|self.signed|verify/i);
  });

  it('Mosquitto: mqtts:// with MQTT_CA_FILE connects; without the CA it does not; the client-certificate listener needs MQTT_CERT_FILE', async () => {
    const dir = mqttTls();
    const user = { username: 'simulator', password: servicePassword('simulator'), protocolVersion: 5 as const, clean: true, logger, connectTimeoutMs: 3_000 };
    const verified = await connectMqtt({ ...user, url: `mqtts://127.0.0.1:${ports.mqttTls}`, clientId: `simulator:tls-${randomBytes(3).toString('hex')}`, tls: readTlsFiles({ MQTT_CA_FILE: join(dir, 'ca.crt') }, 'MQTT') });
    await verified.endAsync();
    await assert.rejects(connectMqtt({ ...user, connectTimeoutMs: 1_000, url: `mqtts://127.0.0.1:${ports.mqttTls}`, clientId: `simulator:tls-noca-${randomBytes(3).toString('hex')}`, tls: {} }));
    await assert.rejects(connectMqtt({ ...user, connectTimeoutMs: 1_000, url: `mqtts://127.0.0.1:${ports.mqttMtls}`, clientId: `simulator:mtls-nocert-${randomBytes(3).toString('hex')}`, tls: readTlsFiles({ MQTT_CA_FILE: join(dir, 'ca.crt') }, 'MQTT') }));
    const withCert = await connectMqtt({ ...user, url: `mqtts://127.0.0.1:${ports.mqttMtls}`, clientId: `simulator:mtls-${randomBytes(3).toString('hex')}`, tls: readTlsFiles({ MQTT_CA_FILE: join(dir, 'ca.crt'), MQTT_CERT_FILE: join(dir, 'client.crt'), MQTT_KEY_FILE: join(dir, 'client.key') }, 'MQTT') });
    await withCert.endAsync();
  });

  describe('ingest configured for TLS and SCRAM by its variables', () => {
    let ingest: ServiceProcess | undefined;
    const dataDir = join(runDir, 'ingest-data');
    after(async () => { await ingest?.stop(); });

    it('takes a reading over mqtts:// and produces it to Kafka over SASL_SSL', async () => {
      ingest = await startService('ingest', {
        DATA_DIR: dataDir, TIMESERIES: 'sqlite', MQTT_CLIENT_ID: `ingest:tls-${randomBytes(3).toString('hex')}`,
        MQTT_URL: `mqtts://127.0.0.1:${ports.mqttTls}`, MQTT_CA_FILE: join(mqttTls(), 'ca.crt'),
        BUS: 'kafka', KAFKA_BROKERS: `127.0.0.1:${ports.ssl}`, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: ca(),
        KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: scram.user, KAFKA_SASL_PASSWORD: scram.password,
      }, await osFreePort(), 120_000);
      const tenant = await connectMqtt({
        url: `mqtts://127.0.0.1:${ports.mqttTls}`, username: 'park-wwtp', password: tenantPassword('park-wwtp'), clientId: `park-wwtp:wwtp-${randomBytes(3).toString('hex')}`,
        protocolVersion: 5, clean: true, logger, tls: readTlsFiles({ MQTT_CA_FILE: join(mqttTls(), 'ca.crt') }, 'MQTT'),
      });
      const value = 7 + Number(`0.${Date.now() % 1000}1`);
      await tenant.publishAsync('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', JSON.stringify({ v: 1, ts: Date.now(), seq: 1, readings: [{ metric: 'ph', value, unit: 'pH' }] }), { qos: 1 });
      await tenant.endAsync();

      const consumer = createKafkaClient({ brokers: [`127.0.0.1:${ports.ssl}`], clientId: 'transport-test', logger, ...kafkaSecurity(kafkaSettings({ KAFKA_SSL: true, KAFKA_SSL_CA_FILE: ca(), KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: scram.user, KAFKA_SASL_PASSWORD: scram.password })) })
        .consumer({ groupId: `transport-test-${randomBytes(3).toString('hex')}` });
      const seen: string[] = [];
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: 'eip.readings.v1', fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value?.toString() ?? ''); } });
        await waitFor(async () => seen.some((v) => v.includes('wwtp-sparing-outlet') && v.includes(String(value))), 60_000, 'the reading on eip.readings.v1', 200);
      } finally {
        await consumer.disconnect().catch(() => undefined);
      }
    });
  });
});
