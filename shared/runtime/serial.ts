/**
 * Runs async tasks one at a time, in call order. A consumer's batches and its
 * timer take turns this way on state that is not re-entrant (window state, rule
 * state); a failed task does not block the ones after it.
 */
export class Serial {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn);
    this.tail = next.then(() => undefined, () => undefined);
    return next;
  }

  /** Resolves when every task queued so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}
