/**
 * Node writes process warnings to stderr as plain text, outside the service's
 * JSON log; this sends them through the logger instead, with their name and code.
 *
 * One is known and harmless: kafkajs' request queue arms its throttle check with
 * `throttledUntil - Date.now()` while nothing is throttled, a negative delay that
 * setTimeout has always run as 1 ms; Node 24 reports it as TimeoutNegativeWarning.
 * That one is logged at debug.
 */
import type { Logger } from '../observability/logger.ts';

const harmless = new Set(['TimeoutNegativeWarning']);

export function logProcessWarnings(logger: Logger, proc: NodeJS.Process = process): void {
  proc.removeAllListeners('warning');
  proc.on('warning', (warning: Error & { code?: string }) => {
    const fields = { warning: warning.name, code: warning.code };
    if (harmless.has(warning.name)) logger.debug(fields, warning.message);
    else logger.warn(fields, warning.message);
  });
}
