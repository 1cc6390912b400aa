/**
 * Drops a message whose (meter, sequence) was seen recently. The window per
 * meter is bounded (a ring of the last N sequence numbers), and so is the
 * number of meters, so memory stays flat whatever meters send.
 */
export class DedupWindow {
  private readonly meters = new Map<string, { seen: Set<number>; ring: number[]; next: number }>();

  private readonly perMeter: number;
  private readonly maxMeters: number;
  constructor(
    perMeter = 1024,
    maxMeters = 100_000,
  ) {
    this.perMeter = perMeter;
    this.maxMeters = maxMeters;
  }

  /** True the first time (meter, seq) is offered within the window; false for a duplicate. */
  firstSeen(meter: string, seq: number): boolean {
    let entry = this.meters.get(meter);
    if (!entry) {
      if (this.meters.size >= this.maxMeters) {
        const oldest = this.meters.keys().next().value;
        if (oldest !== undefined) this.meters.delete(oldest);
      }
      entry = { seen: new Set(), ring: [], next: 0 };
      this.meters.set(meter, entry);
    }
    if (entry.seen.has(seq)) return false;
    if (entry.ring.length < this.perMeter) entry.ring.push(seq);
    else {
      entry.seen.delete(entry.ring[entry.next]!);
      entry.ring[entry.next] = seq;
      entry.next = (entry.next + 1) % this.perMeter;
    }
    entry.seen.add(seq);
    return true;
  }

  get size(): number {
    return this.meters.size;
  }
}
