/**
 * What a loop does with an error it did not expect. Every loop of a service (the
 * ingest drain loop, each consumer's batches and assignment hooks, timers) reports
 * its errors here: one it expects (a retriable error, or CLOSED when its
 * partitions moved away) is logged and the loop tries again; anything else is a
 * failure of the process, which the supervisor (shutdown.ts) turns into "not
 * ready", a fatal log line with the cause, a bounded graceful shutdown and exit
 * code 1, so that systemd, Kubernetes or Docker restarts it instead of it
 * staying up with a dead loop.
 */
import { EipError, isRetriable } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { CheckOutcome } from '../observability/ops-server.ts';

export interface LoopFailure {
  component: string;
  message: string;
  at: number;
}

export interface Supervisor {
  /** Not ready from now on, logs the cause as fatal, shuts down gracefully (bounded) and exits 1. The first failure wins. */
  fail(component: string, err: unknown): void;
  readonly failure: LoopFailure | undefined;
}

/** Errors a loop may meet in normal operation and retry: transient ones, and CLOSED (revoked, stopping). */
export function isExpectedLoopError(err: unknown): boolean {
  return isRetriable(err) || (err instanceof EipError && err.code === 'CLOSED');
}

/** For a loop's catch: logs an expected error (the loop retries), fails the process on any other. */
export function reportLoopError(supervisor: Supervisor, logger: Logger, component: string, err: unknown, message: string): void {
  if (isExpectedLoopError(err)) logger.error({ err, component }, message);
  else supervisor.fail(component, err);
}

/** The readiness check every ops server carries: not ready once a loop has failed, saying which and why. */
export function failureCheck(supervisor: Supervisor): () => CheckOutcome {
  return () => {
    const f = supervisor.failure;
    if (!f) return true;
    return { ok: false, reason: `${f.component} failed at ${new Date(f.at).toISOString()}: ${f.message}`, details: { component: f.component, at: new Date(f.at).toISOString(), message: f.message } };
  };
}
