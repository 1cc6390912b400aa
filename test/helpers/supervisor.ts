/** A supervisor for tests: records loop failures instead of exiting, so a test can assert there were none. */
import type { LoopFailure, Supervisor } from '../../shared/runtime/supervisor.ts';

export function recordingSupervisor(): Supervisor & { failures: LoopFailure[] } {
  const failures: LoopFailure[] = [];
  return {
    failures,
    fail(component, err) { failures.push({ component, message: err instanceof Error ? err.message : String(err), at: Date.now() }); },
    get failure() { return failures[0]; },
  };
}
