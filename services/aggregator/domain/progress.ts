/**
 * Event-time progress over several sources (readings partitions, or the
 * partitions feeding the roll-up stage): the watermark follows the slowest
 * source still delivering, so a fast one cannot make a slow one's data late,
 * and a source silent for the idle period stops holding it back. Pure: the
 * caller passes the time.
 */
export interface SourceProgress {
  /**
   * The source's event-time position (newest event time, or its own watermark);
   * -Infinity for a source known to exist that has not reported one yet, which
   * holds everything back while it is active.
   */
  at: number;
  /** When it last delivered (the caller's clock). */
  seenAt: number;
}

/**
 * The slowest active source's position; when every source is idle, the most
 * advanced one's; undefined with no sources (or none with a position yet).
 */
export function slowestActive(sources: Iterable<SourceProgress>, now: number, idleMs: number): number | undefined {
  const cutoff = now - idleMs;
  let active = Infinity;
  let newest = -Infinity;
  for (const s of sources) {
    if (s.seenAt >= cutoff) active = Math.min(active, s.at);
    newest = Math.max(newest, s.at);
  }
  if (active !== Infinity) return Number.isFinite(active) ? active : undefined;
  return Number.isFinite(newest) ? newest : undefined;
}
