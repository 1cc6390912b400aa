/**
 * Dated versions of a registry value (a permit limit, an emission factor): when
 * each is in force, and the one lookup every consumer uses to pick the version
 * for an event time. A past hour is judged by the version in force then, not by
 * today's, so a permit revision does not rewrite history.
 *
 * Bounds are ISO 8601: a date (`2026-11-15`) is midnight in the park's time
 * zone; a date-time needs its offset (`2026-11-15T12:00:00+08:00`, or `Z`), as a
 * local time without one is ambiguous. `from` is inclusive, `to` exclusive.
 */
import { z } from 'zod';
import { zoneOffsetMs } from '../time-zones.ts';

const dateRe = /^(\d{4})-(\d{2})-(\d{2})$/;
const dateTimeRe = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export const instantSchema = z.string().refine((s) => dateRe.test(s) || dateTimeRe.test(s), {
  message: 'an ISO 8601 date (YYYY-MM-DD, midnight in the park\'s time zone) or date-time with an offset (YYYY-MM-DDTHH:MM[:SS]Z or +HH:MM)',
});

/** Epoch ms of a bound, or NaN when it is not a real date or time. */
export function instantMs(s: string, timeZone: string): number {
  const d = dateRe.exec(s);
  if (d) {
    const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    const local = Date.UTC(y, m - 1, day);
    const check = new Date(local);
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== day) return Number.NaN;
    // Offset at the boundary itself (read twice: the offset near local midnight may differ from the one at UTC midnight).
    const guess = local - zoneOffsetMs(timeZone, local);
    return local - zoneOffsetMs(timeZone, guess);
  }
  if (!dateTimeRe.test(s)) return Number.NaN;
  const t = Date.parse(s);
  // Date.parse rolls 2026-02-30 over to March: refuse a date that does not round-trip.
  if (!Number.isFinite(t)) return Number.NaN;
  const [datePart] = s.split('T');
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(s);
  const offMs = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000 : 0;
  return new Date(t + offMs).toISOString().slice(0, 10) === datePart ? t : Number.NaN;
}

/** One version with its validity resolved: [fromMs, toMs), unbounded for the undated form. */
export interface Dated<T> {
  readonly value: T;
  readonly fromMs: number;
  readonly toMs: number;
  /** As written in the registry (absent for the undated form, which is always in force). */
  readonly from?: string;
  readonly to?: string;
  readonly reference: string;
}

/**
 * The version in force at an event time, or undefined when none is (before the
 * first, after one that ended, in a gap). Versions are sorted by fromMs and do
 * not overlap (the registry schema refuses overlaps), so the first whose span
 * holds t is the only one.
 */
export function versionAt<V extends { readonly fromMs: number; readonly toMs: number }>(versions: readonly V[], eventTime: number): V | undefined {
  let lo = 0;
  let hi = versions.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = versions[mid]!;
    if (eventTime < v.fromMs) hi = mid - 1;
    else if (eventTime >= v.toMs) lo = mid + 1;
    else return v;
  }
  return undefined;
}

/** The instants in (from, to) where the version in force changes: where a total must be split to give each part its own version. */
export function changesWithin(versions: readonly Dated<unknown>[], from: number, to: number): number[] {
  const out = new Set<number>();
  for (const v of versions) for (const t of [v.fromMs, v.toMs]) if (t > from && t < to) out.add(t);
  return [...out].sort((a, b) => a - b);
}

interface RawVersion {
  from?: string | undefined;
  to?: string | undefined;
  reference?: string | undefined;
  source?: string | undefined;
}

/**
 * A registry entry (one undated value, or a list of dated versions) as sorted
 * versions with epoch bounds. Call on a registry the schema accepted: bounds are
 * then valid and versions disjoint.
 */
export function datedVersions<T extends RawVersion>(entry: T | readonly T[], timeZone: string): Dated<T>[] {
  const list: readonly T[] = Array.isArray(entry) ? entry : [entry as T];
  return list
    .map((value) => ({
      value,
      fromMs: value.from === undefined ? Number.NEGATIVE_INFINITY : instantMs(value.from, timeZone),
      toMs: value.to === undefined ? Number.POSITIVE_INFINITY : instantMs(value.to, timeZone),
      ...(value.from !== undefined && { from: value.from }),
      ...(value.to !== undefined && { to: value.to }),
      reference: value.reference ?? value.source ?? '',
    }))
    .sort((a, b) => a.fromMs - b.fromMs);
}

/** A readable validity, for provenance and the console: "from 2026-11-15 to 2027-01-01", or "undated". */
export function validityText(v: { from?: string | undefined; to?: string | undefined }): string {
  if (v.from === undefined) return 'undated';
  return v.to === undefined ? `from ${v.from}` : `from ${v.from} to ${v.to}`;
}

/** Issues of a list of versions: bounds that are not real instants, from >= to, overlaps; paths relative to the list. */
export function versionIssues(list: readonly RawVersion[], timeZone: string): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const spans: Array<{ i: number; from: number; to: number }> = [];
  list.forEach((v, i) => {
    const from = v.from === undefined ? Number.NaN : instantMs(v.from, timeZone);
    const to = v.to === undefined ? Number.POSITIVE_INFINITY : instantMs(v.to, timeZone);
    if (v.from !== undefined && Number.isNaN(from)) issues.push({ path: [i, 'from'], message: `"${v.from}" is not a real date or time` });
    if (v.to !== undefined && Number.isNaN(to)) issues.push({ path: [i, 'to'], message: `"${v.to}" is not a real date or time` });
    if (Number.isNaN(from) || Number.isNaN(to)) return;
    if (from >= to) {
      issues.push({ path: [i, 'to'], message: `to (${v.to ?? ''}) must be after from (${v.from ?? ''})` });
      return;
    }
    spans.push({ i, from, to });
  });
  spans.sort((a, b) => a.from - b.from);
  // Against the version reaching furthest so far, so one long version is not hidden behind a short one.
  let reach: (typeof spans)[number] | undefined;
  for (const cur of spans) {
    if (reach && cur.from < reach.to) {
      issues.push({ path: [cur.i, 'from'], message: `overlaps version ${reach.i} (${validityText(list[reach.i]!)}): versions of one value must not overlap` });
    }
    if (!reach || cur.to > reach.to) reach = cur;
  }
  return issues;
}
