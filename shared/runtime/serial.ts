/**
 * Runs async tasks one at a time, in call order. A consumer's batches and its
 * timer take turns this way on state that is not re-entrant (window state, rule
 * state); a failed task does not block the ones after it.
 */
export class Serial {
  private tail: Promise<void> = Promise.resolve();

  run(fn: () => Promise<void>): Promise<void> {
    const next = this.tail.then(fn);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every task queued so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}
