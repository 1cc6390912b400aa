/**
 * Tells a backlog that is being worked off from one that is stuck. Fed samples
 * of (pending, processed): processed is a counter that moves whenever the stage
 * finishes something. A stage with something pending whose counter has not
 * moved for timeoutMs is stalled, whether its loop is wedged, retrying a write
 * that never lands, or redelivering a batch its handler keeps refusing. A
 * backlog that grows while the counter moves is overload, not a stall. Pure:
 * the caller brings the clock.
 */
export interface ProgressSample {
  /** Work waiting, in whatever unit the stage counts (messages, records). */
  pending: number;
  /** Monotonic count of work finished. */
  processed: number;
}

export interface ProgressStatus {
  stalled: boolean;
  pending: number;
  /** Epoch ms of the last sample that showed progress (or nothing pending). */
  progressAt: number;
}

export class ProgressWatchdog {
  private lastProcessed: number | undefined;
  private progressAt = 0;
  private last: ProgressStatus | undefined;

  /** timeoutMs 0 turns the detection off (samples are still recorded). */
  private readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  observe(sample: ProgressSample, now: number): ProgressStatus {
    const pending = Number.isFinite(sample.pending) ? Math.max(0, sample.pending) : 0;
    // Any change counts, a reset to a lower count included: only "unchanged" is suspicious.
    if (this.lastProcessed === undefined || sample.processed !== this.lastProcessed || pending === 0) this.progressAt = now;
    this.lastProcessed = sample.processed;
    const stalled = this.timeoutMs > 0 && pending > 0 && now - this.progressAt >= this.timeoutMs;
    this.last = { stalled, pending, progressAt: this.progressAt };
    return this.last;
  }

  /** The status of the latest sample, without taking a new one. */
  get status(): ProgressStatus | undefined {
    return this.last;
  }
}
