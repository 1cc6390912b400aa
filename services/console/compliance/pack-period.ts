/**
 * The pack's period: a calendar month in the park's time zone, and its local
 * days. Pure: zone rules from the runtime's ICU data, no clock.
 */
import { periodBounds } from '../../../shared/time-zones.ts';

export interface PackDay {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  from: number;
  to: number;
}

export interface PackPeriod {
  /** YYYY-MM. */
  month: string;
  timezone: string;
  /** [from, to) epoch ms: local midnight of the 1st to local midnight of the next month's 1st. */
  from: number;
  to: number;
  days: PackDay[];
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(s: string): boolean {
  const m = MONTH.exec(s);
  return m !== null && Number(m[1]) >= 1970 && Number(m[1]) <= 2200;
}

/** The month (YYYY-MM) containing t in the zone. */
export function monthOf(t: number, timezone: string): string {
  const [from] = periodBounds(t, 'month', timezone);
  // Noon of the first day, read in the zone, names the month whatever the offset.
  const local = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit' }).format(from + 12 * 3_600_000);
  return local.slice(0, 7);
}

export function monthPeriod(month: string, timezone: string): PackPeriod {
  const m = MONTH.exec(month);
  if (!m || !isMonth(month)) throw new RangeError(`month must be YYYY-MM (1970-2200), not "${month}"`);
  // The 15th at noon UTC is inside the local month in every zone (offsets are within ±14 h).
  const [from, to] = periodBounds(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15, 12), 'month', timezone);
  const days: PackDay[] = [];
  for (let start = from, n = 1; start < to; n++) {
    const [, end] = periodBounds(start, 'day', timezone);
    days.push({ date: `${month}-${String(n).padStart(2, '0')}`, from: start, to: end });
    start = end;
  }
  return { month, timezone, from, to, days };
}
