/**
 * At most `concurrent` expensive jobs at once and `queued` waiting; beyond that
 * a job is refused at once. A password hash at the current cost takes 128 MiB
 * and a noticeable share of a core, so sign-ins from many addresses at once must
 * queue or be turned away rather than exhaust memory.
 */
export class WorkGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  private readonly concurrent: number;
  private readonly queued: number;
  constructor(concurrent: number, queued: number) {
    this.concurrent = concurrent;
    this.queued = queued;
  }

  /** The job's result, or undefined when the gate is full. */
  async run<T>(job: () => Promise<T>): Promise<T | undefined> {
    if (this.running >= this.concurrent) {
      if (this.waiting.length >= this.queued) return undefined;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await job();
    } finally {
      // Hand the slot to the next in line, or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
