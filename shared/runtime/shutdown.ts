/**
 * Graceful shutdown: on SIGTERM or SIGINT run the registered steps in reverse
 * order of registration (stop taking input first, flush, then close clients),
 * each bounded by a timeout, then exit. A second signal exits at once.
 */
import type { Logger } from '../observability/logger.ts';

export type ShutdownStep = { name: string; run: () => Promise<void> | void };

export interface Shutdown {
  /** Steps run last-registered first. */
  register(name: string, run: () => Promise<void> | void): void;
  /** Runs the steps; resolves with the exit code. Idempotent. */
  shutdown(reason: string): Promise<number>;
  readonly signal: AbortSignal;
}

export function createShutdown(logger: Logger, options: { stepTimeoutMs?: number; exit?: (code: number) => void; installSignals?: boolean } = {}): Shutdown {
  const steps: ShutdownStep[] = [];
  const controller = new AbortController();
  const stepTimeoutMs = options.stepTimeoutMs ?? 15_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<number> | undefined;

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
    signal: controller.signal,
  };
}
