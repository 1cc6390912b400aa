import { HttpError, RequestTimedOutError } from '@influxdata/influxdb-client';
import { EipError, errorMessage } from '../../errors.ts';

/** InfluxDB's answers and transport failures, as the project's one error family. */

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/** Retry-After is seconds or an HTTP date; either becomes milliseconds from now. */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function fromStatus(status: number, message: string, what: string, retryAfter?: string | string[]): EipError {
  const details = { status };
  const text = `${what}: InfluxDB answered ${status}: ${message}`;
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return new EipError('THROTTLED', text, retryAfterMs === undefined ? { details } : { details, retryAfterMs });
  }
  if (status === 401 || status === 403) return new EipError('UNAUTHORIZED', text, { details });
  if (status === 404) return new EipError('NOT_FOUND', text, { details });
  if (status === 408) return new EipError('TIMEOUT', text, { details });
  if (status === 413) return new EipError('TOO_LARGE', text, { details });
  if (status >= 500) return new EipError('UNAVAILABLE', text, { details });
  // 400 (bad line protocol or Flux), 422 (field type conflict, beyond retention), redirects.
  return new EipError('REJECTED', text, { details });
}

/**
 * `fallback` decides what an error that is neither an HTTP answer nor a known
 * network failure means: for a write it is the connection, for a query it may
 * be a Flux runtime error that no retry fixes.
 */
export function toEipError(err: unknown, what: string, options: { timedOut?: boolean; fallback?: 'UNAVAILABLE' | 'INTERNAL' } = {}): EipError {
  if (err instanceof EipError) return err;
  if (err instanceof HttpError) return fromStatus(err.statusCode, err.message, what, err.headers?.['retry-after']);
  if (options.timedOut === true || err instanceof RequestTimedOutError) {
    return new EipError('TIMEOUT', `${what}: InfluxDB did not answer in time`, { cause: err });
  }
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if ((typeof code === 'string' && networkCodes.has(code)) || options.fallback !== 'INTERNAL') {
    return new EipError('UNAVAILABLE', `${what}: InfluxDB unreachable: ${errorMessage(err)}`, { cause: err });
  }
  return new EipError('INTERNAL', `${what}: ${errorMessage(err)}`, { cause: err });
}
