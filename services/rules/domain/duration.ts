/** Durations in rule packs: "90s", "10m", "1h", "90d", "500ms", or a number of milliseconds. */
const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(v.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * unitMs[m[2] as keyof typeof unitMs];
  return Number.isInteger(ms) && ms > 0 ? ms : undefined;
}

export function formatDuration(ms: number): string {
  for (const [u, f] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) if (ms % f === 0) return `${ms / f}${u}`;
  return `${ms}ms`;
}
