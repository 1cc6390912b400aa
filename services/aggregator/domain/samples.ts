/**
 * One window's samples, compactly: event times (as offsets from the window's
 * start) and values interleaved in one array of numbers, kept in event-time
 * order, instead of a map of one object per sample. V8 holds such an array as
 * unboxed doubles, 16 bytes a sample, where a map entry, its boxed key and its
 * sample object cost several times that: the samples are most of the
 * aggregator's state (a meter sending every second holds 60 per minute).
 *
 * Same semantics as a map keyed by event time: a redelivered sample is a no-op,
 * a new value (or simulated flag) for a time already held replaces it.
 */
export type SetOutcome = 'added' | 'replaced' | 'same';

export class SampleRun {
  /** Event times are held as `ts - base`. */
  readonly base: number;
  /** [dt, value, dt, value, ...], dt strictly increasing. */
  private data: number[] = [];
  /** 1 where a sample is simulated; allocated with the first simulated sample. */
  private sim: number[] | undefined;

  constructor(base: number) {
    this.base = base;
  }

  get size(): number {
    return this.data.length >> 1;
  }

  timeAt(i: number): number {
    return this.base + this.data[2 * i]!;
  }

  valueAt(i: number): number {
    return this.data[2 * i + 1]!;
  }

  simulatedAt(i: number): boolean {
    return this.sim !== undefined && this.sim[i] === 1;
  }

  /** Index of the sample at offset `dt`, or -(insertion point) - 1 when none is held. */
  private find(dt: number): number {
    const d = this.data;
    let lo = 0;
    let hi = (d.length >> 1) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = d[2 * mid]!;
      if (t < dt) lo = mid + 1;
      else if (t > dt) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  set(ts: number, value: number, simulated: boolean): SetOutcome {
    const dt = ts - this.base;
    const d = this.data;
    const n = d.length >> 1;
    if (n === 0) {
      // Exactly two slots: a push would reserve room for 16 more, and most windows of a meter reading once a minute hold one sample.
      this.data = [dt, value];
      this.flag(0, simulated);
      return 'added';
    }
    // In-order data appends: no search.
    const i = d[2 * n - 2]! < dt ? -n - 1 : this.find(dt);
    if (i >= 0) {
      if (d[2 * i + 1] === value && this.simulatedAt(i) === simulated) return 'same';
      d[2 * i + 1] = value;
      this.flag(i, simulated);
      return 'replaced';
    }
    const at = -i - 1;
    if (at === n) d.push(dt, value);
    else d.splice(2 * at, 0, dt, value);
    if (this.sim) this.sim.splice(at, 0, 0);
    this.flag(at, simulated);
    return 'added';
  }

  private flag(i: number, simulated: boolean): void {
    if (!simulated) {
      if (this.sim) this.sim[i] = 0;
      return;
    }
    if (!this.sim) this.sim = new Array<number>(this.size).fill(0);
    this.sim[i] = 1;
  }
}
