/**
 * Calendar periods (day, month) in a park's time zone, for budgets. Shared by the rules
 * service (budget periods) and the console (month to date). Pure: the
 * zone rules come from the runtime's ICU data, not from any clock.
 */
const formats = new Map<string, Intl.DateTimeFormat>();

function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(tz, f);
  }
  return f;
}

/** Local time minus UTC at instant t, in ms. */
export function zoneOffsetMs(tz: string, t: number): number {
  const p: Record<string, number> = {};
  for (const part of format(tz).formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, (p.hour ?? 0) % 24, p.minute ?? 0, p.second ?? 0);
  return asUtc - Math.floor(t / 1000) * 1000;
}

export type Period = 'day' | 'month';

/** [start, end) of the local day or month containing t, as epoch ms. */
export function periodBounds(t: number, period: Period, tz: string): [number, number] {
  const off = zoneOffsetMs(tz, t);
  const local = new Date(t + off);
  const y = local.getUTCFullYear();
  const m = local.getUTCMonth();
  const d = local.getUTCDate();
  const startLocal = period === 'day' ? Date.UTC(y, m, d) : Date.UTC(y, m, 1);
  const endLocal = period === 'day' ? Date.UTC(y, m, d + 1) : Date.UTC(y, m + 1, 1);
  // Re-read the offset at the boundary itself, so a DST change inside the period lands right.
  const toUtc = (l: number) => l - zoneOffsetMs(tz, l - off);
  return [toUtc(startLocal), toUtc(endLocal)];
}
