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

export interface BusSettings {
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
}

export const busPath = (dataDir: string): string => join(dataDir, 'bus.sqlite');
export const timeSeriesPath = (dataDir: string): string => join(dataDir, 'timeseries.sqlite');

export function createBus(settings: BusSettings, clientId: string, logger: Logger): EventBus {
  if (settings.BUS === 'kafka') return createKafkaBus({ brokers: settings.KAFKA_BROKERS, clientId, logger: logger.child({ adapter: 'kafka' }) });
  return createSqliteBus({ path: busPath(settings.DATA_DIR), logger: logger.child({ adapter: 'sqlite-bus' }) });
}

export function createStore(settings: TimeSeriesSettings, logger: Logger): TimeSeriesStore {
  if (settings.TIMESERIES === 'influxdb') {
    return createInfluxStore({ url: settings.INFLUX_URL, token: settings.INFLUX_TOKEN, org: settings.INFLUX_ORG, bucket: settings.INFLUX_BUCKET, aggregatesBucket: settings.INFLUX_AGGREGATES_BUCKET, timeoutMs: settings.INFLUX_TIMEOUT_MS, logger: logger.child({ adapter: 'influxdb' }) });
  }
  return createSqliteStore({ path: timeSeriesPath(settings.DATA_DIR), logger: logger.child({ adapter: 'sqlite-timeseries' }) });
}
