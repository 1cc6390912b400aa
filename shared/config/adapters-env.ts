/**
 * Variables that pick and configure the adapters, shared by every service.
 * The defaults are the embedded mode (SQLite files under DATA_DIR, no servers).
 */
import { envBool, envEnum, envInt, envList, envString, envUrl } from './env.ts';

type Loaded = Readonly<Record<string, unknown>>;

/**
 * PEM files for one TLS client: the CA(s) that signed the server's certificate
 * (empty: the system's CAs) and an optional client certificate with its key.
 * Each is refused when the connection would not use TLS (`plain` names why),
 * so a CA set beside a plain URL cannot pass for an encrypted connection.
 */
function tlsFilesEnv<P extends string>(prefix: P, server: string, plain: (c: Loaded) => string | undefined) {
  const onlyWithTls = (value: string, c: Loaded): string | undefined => (value === '' ? undefined : plain(c));
  const pair = (other: string) => (value: string, c: Loaded): string | undefined => onlyWithTls(value, c) ?? (value !== '' && c[other] === '' ? `needs ${other} too` : undefined);
  return {
    [`${prefix}_CA_FILE`]: envString(`PEM file of the CA(s) that signed the certificate of ${server} (empty: the system's CAs)`, { default: '', minLength: 0, check: onlyWithTls }),
    [`${prefix}_CERT_FILE`]: envString(`PEM client certificate, for ${server} requiring one (with ${prefix}_KEY_FILE)`, { default: '', minLength: 0, check: pair(`${prefix}_KEY_FILE`) }),
    [`${prefix}_KEY_FILE`]: envString(`PEM private key of ${prefix}_CERT_FILE`, { default: '', minLength: 0, check: pair(`${prefix}_CERT_FILE`) }),
  } as Record<`${P}_${'CA' | 'CERT' | 'KEY'}_FILE`, ReturnType<typeof envString>>;
}

const saslOn = (c: Loaded): boolean => c.KAFKA_SASL_MECHANISM !== undefined && c.KAFKA_SASL_MECHANISM !== 'none';
const requiredWithSasl = (value: string, c: Loaded): string | undefined => (saslOn(c) && value === '' ? `is required when KAFKA_SASL_MECHANISM is ${String(c.KAFKA_SASL_MECHANISM)}` : undefined);

/** Kafka transport security (TLS, SASL); shared by every Kafka client of the project. */
export const kafkaSecurityEnv = {
  KAFKA_SSL: envBool('connect to Kafka over TLS (BUS=kafka)', { default: false }),
  ...tlsFilesEnv('KAFKA_SSL', 'the Kafka brokers', (c) => (c.KAFKA_SSL === true ? undefined : 'is set but KAFKA_SSL is not true, so the connection would not use TLS')),
  KAFKA_SASL_MECHANISM: envEnum('SASL authentication to Kafka: scram-sha-256 or scram-sha-512, or plain (over TLS only)', ['none', 'scram-sha-256', 'scram-sha-512', 'plain'] as const, {
    default: 'none',
    check: (value, c) => (value === 'plain' && c.KAFKA_SSL !== true ? 'plain sends the password in clear: only with KAFKA_SSL=true' : undefined),
  }),
  KAFKA_SASL_USERNAME: envString('SASL username (with KAFKA_SASL_MECHANISM)', { default: '', minLength: 0, check: requiredWithSasl }),
  KAFKA_SASL_PASSWORD: envString('SASL password (with KAFKA_SASL_MECHANISM)', { default: '', minLength: 0, secret: true, usedWhen: (c) => c.BUS !== 'sqlite' && saslOn(c), check: requiredWithSasl }),
};

export const dataEnv = {
  DATA_DIR: envString('folder for the embedded mode\'s SQLite files and the ingest spool', { default: '.data' }),
};

export const busEnv = {
  ...dataEnv,
  BUS: envEnum('event bus adapter: real Kafka, or the embedded SQLite bus (DATA_DIR/bus.sqlite)', ['kafka', 'sqlite'] as const, { default: 'sqlite' }),
  KAFKA_BROKERS: envList('Kafka bootstrap servers (BUS=kafka)', { default: '127.0.0.1:9092', item: /^[^:\s]+:\d{1,5}$/, itemHint: 'host:port' }),
  ...kafkaSecurityEnv,
};

export const timeSeriesEnv = {
  ...dataEnv,
  TIMESERIES: envEnum('time-series adapter: InfluxDB 2.x, or embedded SQLite (DATA_DIR/timeseries.sqlite)', ['influxdb', 'sqlite'] as const, { default: 'sqlite' }),
  INFLUX_URL: envUrl('InfluxDB base URL (TIMESERIES=influxdb)', ['http', 'https'], { default: 'http://127.0.0.1:8086' }),
  INFLUX_TOKEN: envString('InfluxDB API token (TIMESERIES=influxdb)', { default: 'eip-dev-token', secret: true, usedWhen: (c) => c.TIMESERIES === 'influxdb' }),
  INFLUX_ORG: envString('InfluxDB organisation', { default: 'eip' }),
  INFLUX_BUCKET: envString('InfluxDB bucket for raw readings and alert events', { default: 'telemetry' }),
  INFLUX_AGGREGATES_BUCKET: envString('InfluxDB bucket for downsampled window aggregates', { default: 'telemetry_downsampled' }),
  INFLUX_TIMEOUT_MS: envInt('timeout of one InfluxDB request', { default: 10_000, min: 100, max: 300_000 }),
  ...tlsFilesEnv('INFLUX', 'InfluxDB', (c) => (String(c.INFLUX_URL).startsWith('https:') ? undefined : 'is set but INFLUX_URL is not https://, so the connection would not use TLS')),
};

export const mqttEnv = (user: string) => ({
  MQTT_URL: envUrl('MQTT broker URL', ['mqtt', 'mqtts', 'ws', 'wss'], { default: 'mqtt://127.0.0.1:1883' }),
  MQTT_USERNAME: envString('MQTT username', { default: user }),
  // Unused only by a rules service that publishes no alerts over MQTT.
  MQTT_PASSWORD: envString('MQTT password', { default: `${user}-dev-secret`, secret: true, usedWhen: (c) => c.ALERTS_MQTT !== false }),
  MQTT_PROTOCOL_VERSION: envEnum('MQTT protocol: 5, or 4 (3.1.1) for brokers without MQTT 5 such as the embedded aedes', ['5', '4'] as const, { default: '5' }),
  ...tlsFilesEnv('MQTT', 'the MQTT broker', (c) => (/^(mqtts|wss):/.test(String(c.MQTT_URL)) ? undefined : 'is set but MQTT_URL is not mqtts:// or wss://, so the connection would not use TLS')),
});

export const registryEnv = {
  PARK_REGISTRY: envString('park registry file (JSON): parks, tenants, meters, limits', { default: 'shared/parks/demo-park.json' }),
};
