/**
 * How long after one checkpoint the next may be written. The interval is the
 * floor; a state grown large (many meters, fast ones) waits longer, so that
 * encoding checkpoints takes at most `share` of the CPU time (the cost is the
 * CPU time the last one took) and the rest is left for the readings. A longer wait only means a restart replays more: offsets
 * are committed through the last checkpoint written, never past it.
 */
export const defaultCheckpointShare = 0.1;

export function checkpointWaitMs(intervalMs: number, lastCostMs: number, share = defaultCheckpointShare): number {
  // 0 asks for one after every batch, whatever it costs.
  if (intervalMs === 0) return 0;
  return Math.max(intervalMs, lastCostMs * (1 / share - 1));
}
