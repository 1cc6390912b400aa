/**
 * One error family for the whole project. Every error a sink or source can raise
 * says whether retrying can help, so one retry helper can decide for all of them.
 */
export const errorCodes = {
  CONFIG_INVALID: { retriable: false, summary: 'a configuration variable is missing or invalid' },
  PAYLOAD_INVALID: { retriable: false, summary: 'a message does not match its schema' },
  UNAVAILABLE: { retriable: true, summary: 'a remote server cannot be reached or is not ready' },
  TIMEOUT: { retriable: true, summary: 'a remote call took too long' },
  THROTTLED: { retriable: true, summary: 'a remote server asked us to slow down' },
  UNAUTHORIZED: { retriable: false, summary: 'credentials were refused' },
  REJECTED: { retriable: false, summary: 'a remote server refused the request as invalid' },
  TOO_LARGE: { retriable: false, summary: 'a message or batch exceeds a size limit' },
  NOT_FOUND: { retriable: false, summary: 'a named thing does not exist' },
  CLOSED: { retriable: false, summary: 'the component was closed' },
  INTERNAL: { retriable: false, summary: 'an unexpected failure' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface EipErrorOptions {
  cause?: unknown;
  /** Overrides the code's default, e.g. a REJECTED batch that may pass on retry. */
  retriable?: boolean;
  /** Milliseconds the remote side asked us to wait (Retry-After). */
  retryAfterMs?: number;
  details?: Record<string, unknown>;
}

export class EipError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: EipErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EipError';
    this.code = code;
    this.retriable = options.retriable ?? errorCodes[code].retriable;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}

export function isRetriable(err: unknown): boolean {
  if (err instanceof EipError) return err.retriable;
  // kafkajs and node network errors carry their own hints.
  if (typeof err === 'object' && err !== null) {
    const e = err as { retriable?: unknown; code?: unknown };
    if (typeof e.retriable === 'boolean') return e.retriable;
    if (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(e.code)) return true;
  }
  return false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
