import { isRetriable, EipError } from './errors.ts';

export interface RetryPolicy {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** Give up after this many attempts; Infinity retries while the error stays retriable. */
  maxAttempts: number;
  jitter: number;
}

export const defaultRetryPolicy: RetryPolicy = { initialMs: 300, factor: 2, maxMs: 30_000, maxAttempts: Infinity, jitter: 0.2 };

export function backoffDelay(attempt: number, policy: RetryPolicy = defaultRetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/** Longest wait a remote side's Retry-After can impose: a hostile or broken header must not park a stage for days. */
export const maxRetryAfterMs = 300_000;

/**
 * The wait before retry `attempt` (1-based) of a failed call: the backoff, or
 * longer when the error carries the remote side's Retry-After (capped).
 */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy = defaultRetryPolicy, random: () => number = Math.random): number {
  const hinted = err instanceof EipError && err.retryAfterMs !== undefined && Number.isFinite(err.retryAfterMs) ? Math.min(maxRetryAfterMs, Math.max(0, err.retryAfterMs)) : 0;
  return Math.max(hinted, backoffDelay(attempt, policy, random));
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new EipError('CLOSED', 'aborted'));
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(timer); reject(new EipError('CLOSED', 'aborted')); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs fn until it succeeds, retrying only errors that say they are retriable. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = { ...defaultRetryPolicy, ...options.policy };
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetriable(err) || attempt >= policy.maxAttempts || options.signal?.aborted) throw err;
      const delay = retryDelay(err, attempt, policy);
      options.onRetry?.(err, attempt, delay);
      await wait(delay, options.signal);
    }
  }
}
