/** Durations as people write them in flags and scenarios: "90m", "+30m", "1h30m", "45s", "2d". */
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or null when the text is not a duration. A leading "+" is allowed (relative offsets). */
export function parseDuration(text: string): number | null {
  const body = text.trim().replace(/^\+/, '');
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(body)) return null;
  let total = 0;
  for (const m of body.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * (unitMs[m[2] ?? ''] ?? 0);
  return Math.round(total);
}

/** A duration that must carry its sign, "+10m" or "-2h" (a clock ahead or behind); null otherwise. */
export function parseSignedDuration(text: string): number | null {
  const t = text.trim();
  if (!/^[+-]\d/.test(t)) return null;
  const ms = parseDuration(t.slice(1));
  if (ms === null) return null;
  return t.startsWith('-') ? -ms : ms;
}
