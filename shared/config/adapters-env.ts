/**
 * Variables that pick and configure the adapters, shared by every service.
 * The defaults are the embedded mode (SQLite files under DATA_DIR, no servers).
 */
import { envEnum, envInt, envList, envString, envUrl } from './env.ts';

export const dataEnv = {
  DATA_DIR: envString('folder for the embedded mode\'s SQLite files and the ingest spool', { default: '.data' }),
};

export const busEnv = {
  ...dataEnv,
  BUS: envEnum('event bus adapter: real Kafka, or the embedded SQLite bus (DATA_DIR/bus.sqlite)', ['kafka', 'sqlite'] as const, { default: 'sqlite' }),
  KAFKA_BROKERS: envList('Kafka bootstrap servers (BUS=kafka)', { default: '127.0.0.1:9092', item: /^[^:\s]+:\d{1,5}$/, itemHint: 'host:port' }),
};

export const timeSeriesEnv = {
  ...dataEnv,
  TIMESERIES: envEnum('time-series adapter: InfluxDB 2.x, or embedded SQLite (DATA_DIR/timeseries.sqlite)', ['influxdb', 'sqlite'] as const, { default: 'sqlite' }),
  INFLUX_URL: envUrl('InfluxDB base URL (TIMESERIES=influxdb)', ['http', 'https'], { default: 'http://127.0.0.1:8086' }),
  INFLUX_TOKEN: envString('InfluxDB API token (TIMESERIES=influxdb)', { default: 'eip-dev-token', secret: true }),
  INFLUX_ORG: envString('InfluxDB organisation', { default: 'eip' }),
  INFLUX_BUCKET: envString('InfluxDB bucket for raw readings and alert events', { default: 'telemetry' }),
  INFLUX_AGGREGATES_BUCKET: envString('InfluxDB bucket for downsampled window aggregates', { default: 'telemetry_downsampled' }),
  INFLUX_TIMEOUT_MS: envInt('timeout of one InfluxDB request', { default: 10_000, min: 100, max: 300_000 }),
};

export const mqttEnv = (user: string) => ({
  MQTT_URL: envUrl('MQTT broker URL', ['mqtt', 'mqtts', 'ws', 'wss'], { default: 'mqtt://127.0.0.1:1883' }),
  MQTT_USERNAME: envString('MQTT username', { default: user }),
  MQTT_PASSWORD: envString('MQTT password', { default: `${user}-dev-secret`, secret: true }),
  MQTT_PROTOCOL_VERSION: envEnum('MQTT protocol: 5, or 4 (3.1.1) for brokers without MQTT 5 such as the embedded aedes', ['5', '4'] as const, { default: '5' }),
});

export const registryEnv = {
  PARK_REGISTRY: envString('park registry file (JSON): parks, tenants, meters, limits', { default: 'shared/parks/demo-park.json' }),
};
