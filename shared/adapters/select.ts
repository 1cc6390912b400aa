/**
 * Picks the adapters a composition root asked for. Only composition roots
 * import this: domain code sees the ports alone.
 */
import { join } from 'node:path';
import type { EventBus } from '../ports/event-bus.ts';
import type { TimeSeriesStore } from '../ports/time-series.ts';
import type { Logger } from '../observability/logger.ts';
import { createSqliteBus } from './sqlite-bus/sqlite-bus.ts';
import { createKafkaBus } from './kafka/index.ts';
import { createSqliteStore } from './sqlite-timeseries/index.ts';
import { createInfluxStore } from './influxdb/index.ts';
import type { KafkaConnectionOptions } from './kafka/client.ts';
import { readTlsFiles } from './tls-files.ts';

/** The variables of kafkaSecurityEnv (shared/config/adapters-env.ts). */
export interface KafkaSecuritySettings {
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE: string;
  KAFKA_SSL_CERT_FILE: string;
  KAFKA_SSL_KEY_FILE: string;
  KAFKA_SASL_MECHANISM: 'none' | 'scram-sha-256' | 'scram-sha-512' | 'plain';
  KAFKA_SASL_USERNAME: string;
  KAFKA_SASL_PASSWORD: string;
}

export interface BusSettings extends KafkaSecuritySettings {
  BUS: 'kafka' | 'sqlite';
  KAFKA_BROKERS: string[];
  DATA_DIR: string;
}

export interface TimeSeriesSettings {
  TIMESERIES: 'influxdb' | 'sqlite';
  DATA_DIR: string;
  INFLUX_URL: string;
  INFLUX_TOKEN: string;
  INFLUX_ORG: string;
  INFLUX_BUCKET: string;
  INFLUX_AGGREGATES_BUCKET: string;
  INFLUX_TIMEOUT_MS: number;
  INFLUX_CA_FILE: string;
  INFLUX_CERT_FILE: string;
  INFLUX_KEY_FILE: string;
}

/** kafkajs' ssl and sasl options from the settings; reads the PEM files. */
export function kafkaSecurity(settings: KafkaSecuritySettings): Pick<KafkaConnectionOptions, 'ssl' | 'sasl'> {
  const tls = readTlsFiles({ ...settings }, 'KAFKA_SSL');
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = settings;
  return {
    ...(settings.KAFKA_SSL && { ssl: Object.keys(tls).length ? { ...tls, rejectUnauthorized: true } : true }),
    ...(mechanism !== 'none' && { sasl: { mechanism, username, password } }),
  };
}

export const busPath = (dataDir: string): string => join(dataDir, 'bus.sqlite');
export const timeSeriesPath = (dataDir: string): string => join(dataDir, 'timeseries.sqlite');

export function createBus(settings: BusSettings, clientId: string, logger: Logger): EventBus {
  if (settings.BUS === 'kafka') return createKafkaBus({ brokers: settings.KAFKA_BROKERS, clientId, logger: logger.child({ adapter: 'kafka' }), ...kafkaSecurity(settings) });
  return createSqliteBus({ path: busPath(settings.DATA_DIR), logger: logger.child({ adapter: 'sqlite-bus' }) });
}

export function createStore(settings: TimeSeriesSettings, logger: Logger): TimeSeriesStore {
  if (settings.TIMESERIES === 'influxdb') {
    return createInfluxStore({ url: settings.INFLUX_URL, token: settings.INFLUX_TOKEN, org: settings.INFLUX_ORG, bucket: settings.INFLUX_BUCKET, aggregatesBucket: settings.INFLUX_AGGREGATES_BUCKET, timeoutMs: settings.INFLUX_TIMEOUT_MS, tls: readTlsFiles({ ...settings }, 'INFLUX'), logger: logger.child({ adapter: 'influxdb' }) });
  }
  return createSqliteStore({ path: timeSeriesPath(settings.DATA_DIR), logger: logger.child({ adapter: 'sqlite-timeseries' }) });
}
