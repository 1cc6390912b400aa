/** How times and numbers read on the board: short, and the same everywhere. */

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

// A 24-hour clock, as control rooms and permits use, in the browser's language and time zone.
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

export const formatDateTime = (ms: number): string => dateTimeFormat.format(ms);

export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(digits)} G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(digits)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(digits)} k`;
  if (abs >= 100) return value.toFixed(0);
  return value.toFixed(abs >= 10 ? 1 : 2).replace(/\.?0+$/, '');
}

export function formatPercent(part: number | null, whole: number | null): string {
  if (part === null || whole === null || whole <= 0) return '–';
  return `${Math.round((part / whole) * 100)} %`;
}
