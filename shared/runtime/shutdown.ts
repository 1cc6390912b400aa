/**
 * Graceful shutdown: on SIGTERM or SIGINT run the registered steps in reverse
 * order of registration (stop taking input first, flush, then close clients),
 * each bounded by a timeout, then exit. A second signal exits at once.
 * fail() is the same shutdown after a loop failed: bounded as a whole, exit 1.
 */
import { errorMessage } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { LoopFailure, Supervisor } from './supervisor.ts';

export type ShutdownStep = { name: string; run: () => Promise<void> | void };

export interface Shutdown extends Supervisor {
  /** Steps run last-registered first. */
  register(name: string, run: () => Promise<void> | void): void;
  /** Runs the steps; resolves with the exit code. Idempotent. */
  shutdown(reason: string): Promise<number>;
  readonly signal: AbortSignal;
}

export interface ShutdownOptions {
  stepTimeoutMs?: number;
  /** After a failure, the whole graceful shutdown gets this long before the process exits anyway. Default 30 s. */
  failDeadlineMs?: number;
  exit?: (code: number) => void;
  installSignals?: boolean;
  now?: () => number;
}

export function createShutdown(logger: Logger, options: ShutdownOptions = {}): Shutdown {
  const steps: ShutdownStep[] = [];
  const controller = new AbortController();
  const stepTimeoutMs = options.stepTimeoutMs ?? 15_000;
  const failDeadlineMs = options.failDeadlineMs ?? 30_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const now = options.now ?? Date.now;
  let running: Promise<number> | undefined;
  let failure: LoopFailure | undefined;

  const shutdown = (reason: string): Promise<number> => {
    running ??= (async () => {
      logger.info({ reason }, 'shutting down');
      controller.abort();
      let code = 0;
      for (const step of [...steps].reverse()) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(step.run),
            new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${stepTimeoutMs} ms`)), stepTimeoutMs); }),
          ]);
          logger.debug({ step: step.name }, 'shutdown step done');
        } catch (err) {
          code = 1;
          logger.error({ err, step: step.name }, 'shutdown step failed');
        } finally {
          clearTimeout(timer);
        }
      }
      logger.info({ code }, 'stopped');
      return code;
    })();
    return running;
  };

  const fail = (component: string, err: unknown): void => {
    if (failure || running) {
      // Stopping already: a loop giving up its batch now is expected; a later failure changes nothing.
      logger.warn({ err, component }, failure ? 'another failure while stopping after a failure' : 'error while stopping');
      return;
    }
    failure = { component, message: errorMessage(err), at: now() };
    logger.fatal({ err, component }, `${component} failed: not ready; stopping the process (exit 1) so that it is restarted`);
    let exited = false;
    const exitOnce = (): void => {
      if (exited) return;
      exited = true;
      exit(1);
    };
    const deadline = setTimeout(() => {
      logger.fatal({ component, failDeadlineMs }, 'graceful shutdown after the failure did not finish in time: exiting');
      exitOnce();
    }, failDeadlineMs);
    void shutdown(`${component} failed`).then(() => {
      clearTimeout(deadline);
      exitOnce();
    });
  };

  if (options.installSignals ?? true) {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.on(sig, () => {
        if (running) {
          logger.warn({ signal: sig }, 'second signal: exiting now');
          exit(130);
          return;
        }
        void shutdown(sig).then(exit);
      });
    }
  }

  return {
    register: (name, run) => { steps.push({ name, run }); },
    shutdown,
    fail,
    get failure() { return failure; },
    signal: controller.signal,
  };
}
