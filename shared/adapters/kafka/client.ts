import './partition-grouping.ts';
import './record-encoding.ts';
import './codecs.ts';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, type SASLOptions } from 'kafkajs';
import type { Logger } from '../../observability/logger.ts';
import { kafkajsLevels, pinoLogCreator, type KafkajsLogLevel } from './log-creator.ts';

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** What kafkajs itself logs (each entry goes to pino one level lower). Default 'warn'. */
  kafkajsLogLevel?: KafkajsLogLevel;
  /** TCP connect timeout per broker. Default 3 s. */
  connectionTimeoutMs?: number;
  /** Timeout of one request. Default 30 s. */
  requestTimeoutMs?: number;
  /** TLS to the brokers: true for the system's CAs, or Node's TLS options (ca, cert, key). Default off. */
  ssl?: boolean | ConnectionOptions;
  /** SASL authentication (SCRAM-SHA-256/512, or PLAIN over TLS). Default none. */
  sasl?: SASLOptions;
}

export function createKafkaClient(options: KafkaConnectionOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    logLevel: kafkajsLevels[options.kafkajsLogLevel ?? 'warn'],
    logCreator: pinoLogCreator(options.logger),
    ...(options.ssl !== undefined && options.ssl !== false && { ssl: options.ssl }),
    ...(options.sasl && { sasl: options.sasl }),
  });
}
