/**
 * One delivery to a receiver over HTTP, turned into an outcome: 2xx sent (the
 * answer is the receipt), 401/403 and other 4xx refused (a bad signature or
 * schema does not pass on retry), 408, 429 and 5xx, timeouts and network
 * errors failed (retried, honouring Retry-After).
 */
import { EipError, errorMessage } from '../../shared/errors.ts';
import type { AttemptOutcome } from './domain/outbox.ts';

export interface Delivery {
  url: string;
  body: string;
  idempotencyKey: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? at - Date.now() : undefined;
}

/** The URL without its user, password or query, for logs and errors. */
export function urlOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export async function deliver(d: Delivery): Promise<AttemptOutcome> {
  const signals = [AbortSignal.timeout(d.timeoutMs), ...(d.signal ? [d.signal] : [])];
  let res: Response;
  let text: string;
  try {
    res = await fetch(d.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': d.idempotencyKey },
      body: d.body,
      signal: AbortSignal.any(signals),
    });
    text = await res.text();
  } catch (err) {
    if (d.signal?.aborted) throw new EipError('CLOSED', 'delivery aborted', { cause: err });
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const error = new EipError(timedOut ? 'TIMEOUT' : 'UNAVAILABLE', `${urlOrigin(d.url)}: ${timedOut ? `no answer within ${d.timeoutMs} ms` : errorMessage(err)}`, { cause: err });
    return { kind: 'failed', error, message: error.message };
  }
  const summary = `HTTP ${res.status}: ${text.slice(0, 500)}`;
  if (res.ok) return { kind: 'sent', receipt: text };
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    const wait = retryAfterMs(res.headers.get('retry-after'));
    const error = new EipError(res.status === 429 ? 'THROTTLED' : 'UNAVAILABLE', summary, wait === undefined ? {} : { retryAfterMs: wait });
    return { kind: 'failed', error, message: summary };
  }
  return { kind: 'refused', message: summary };
}
