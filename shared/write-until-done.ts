import { errorMessage, isRetriable } from './errors.ts';
import { backoffDelay, sleep, type RetryPolicy } from './retry.ts';
import type { Logger } from './observability/logger.ts';

const policy: RetryPolicy = { initialMs: 200, factor: 2, maxMs: 10_000, maxAttempts: Infinity, jitter: 0.2 };

/**
 * Retries a sink write until it succeeds: a pipeline that must not lose data
 * holds its input (and so applies backpressure) rather than dropping a batch.
 * A refused (non-retriable) write is a bug or a misconfiguration, not bad input:
 * it is retried too, and logged as an error.
 */
export async function writeUntilDone(sink: string, fn: () => Promise<void>, logger: Logger, onRetry?: () => void, signal?: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fn();
      return;
    } catch (err) {
      if (signal?.aborted) throw err;
      onRetry?.();
      const delayMs = backoffDelay(attempt, policy);
      const log = { sink, attempt, delayMs, err: errorMessage(err) };
      if (isRetriable(err)) logger.warn(log, 'write failed, retrying');
      else logger.error(log, 'write refused (not retriable); holding the batch and retrying');
      await sleep(delayMs, signal);
    }
  }
}
