import './partition-grouping.ts';
import './record-encoding.ts';
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../../observability/logger.ts';

export type KafkajsLogLevel = 'error' | 'warn' | 'info' | 'debug';

export const kafkajsLevels: Record<KafkajsLogLevel, logLevel> = {
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

// Deliberate settings of ours that kafkajs warns about on every start.
const expectedWarnings = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);

/**
 * Routes kafkajs logs into pino one level lower than kafkajs files them:
 * kafkajs logs an ERROR for every retried request and crash-restart, which the
 * adapter reports itself (as EipErrors, or its own log lines) when it matters.
 */
export function pinoLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
      const target = expectedWarnings.has(message) ? 'debug'
        : level === logLevel.ERROR ? 'warn'
        : level === logLevel.WARN ? 'info'
        : level === logLevel.INFO ? 'debug'
        : 'trace';
      child[target]({ namespace, ...fields }, message);
    };
}
