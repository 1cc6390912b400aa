/**
 * Progress of a load run as text: a bar redrawn in place on a terminal, a
 * plain line otherwise (CI logs keep every line, and carriage returns make
 * them unreadable). Pure: the caller passes the counters and the elapsed time.
 */
export interface LoadProgress {
  sent: number;
  acknowledged: number;
  failed: number;
  readings: number;
  elapsedMs: number;
  /** Where the run stops: a message count, a wall time, either, or neither (until interrupted). */
  count: number | null;
  durationMs: number | null;
}

/** 0..1 towards whichever end comes first; null for a run without an end. */
export function fractionDone(p: LoadProgress): number | null {
  const parts: number[] = [];
  if (p.count !== null) parts.push((p.acknowledged + p.failed) / p.count);
  if (p.durationMs !== null) parts.push(p.elapsedMs / p.durationMs);
  return parts.length === 0 ? null : Math.min(1, Math.max(0, ...parts));
}

/** Milliseconds left at the mean rate so far; null when unknown. */
export function etaMs(p: LoadProgress): number | null {
  const left: number[] = [];
  const done = p.acknowledged + p.failed;
  if (p.count !== null && done > 0) left.push(((p.count - done) * p.elapsedMs) / done);
  if (p.durationMs !== null) left.push(p.durationMs - p.elapsedMs);
  return left.length === 0 ? null : Math.max(0, Math.min(...left));
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

const perSecond = (n: number, ms: number): number => Math.round(n / Math.max(ms / 1000, 1e-3));
const grouped = (n: number): string => n.toLocaleString('en-US');

/** The figures both forms show. */
function figures(p: LoadProgress, fmt: (n: number) => string): string {
  const eta = etaMs(p);
  return [
    `sent ${fmt(p.sent)}`,
    `acked ${fmt(p.acknowledged)}`,
    ...(p.failed > 0 ? [`failed ${fmt(p.failed)}`] : []),
    `${fmt(perSecond(p.acknowledged, p.elapsedMs))} msg/s`,
    `${fmt(perSecond(p.readings, p.elapsedMs))} readings/s`,
    `elapsed ${formatSeconds(p.elapsedMs)}`,
    `ETA ${eta === null ? '-' : formatSeconds(eta)}`,
  ].join('  ');
}

/** For a terminal: redraws itself (carriage return, clear to the end of the line). */
export function progressBar(p: LoadProgress, width = 24): string {
  const f = fractionDone(p);
  const bar = f === null ? '' : `[${'#'.repeat(Math.round(f * width)).padEnd(width, '-')}] ${String(Math.floor(f * 100)).padStart(3)}%  `;
  return `\r${bar}${figures(p, grouped)}\x1b[K`;
}

/** For a log: one self-contained line. */
export function progressLine(p: LoadProgress): string {
  const f = fractionDone(p);
  return `park-sim: load ${f === null ? '' : `${Math.floor(f * 100)}% `}${figures(p, String)}\n`;
}
