/**
 * The one way the API reads an instant from a query string (`from`, `to`):
 * epoch milliseconds, or ISO 8601 with Z or an offset. A local time without
 * an offset is refused: the console, the park and the caller may sit in three
 * different zones, and a guess would silently shift the range. A "+" sent
 * unencoded in a URL reads as a space, and is read back as the "+" it was.
 */
import { z } from 'zod';
import { maxStorableEpochMs } from '../../../shared/contracts/ids.ts';

export const instantForms = 'epoch milliseconds (e.g. 1764547200000) or ISO 8601 with Z or an offset (e.g. 2026-12-01T08:00:00+08:00)';

const epochDigits = /^\d{1,16}$/;
// Date and time, optional seconds and fraction, then Z or ±hh:mm / ±hhmm / ±hh.
const isoInstant = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;
// An unencoded "+" in a query string arrives as a space: "...T08:00:00 08:00" can only mean +08:00.
const spaceForPlus = /^([^ ]+T[\d:.]+) (\d{2}(?::?\d{2})?)$/i;

/** Epoch ms of a query value, or undefined when it is neither form or lies outside what the store can hold. */
export function parseInstant(text: string): number | undefined {
  if (epochDigits.test(text)) {
    const ms = Number(text);
    return ms <= maxStorableEpochMs ? ms : undefined;
  }
  const m = isoInstant.exec(text.replace(spaceForPlus, '$1+$2'));
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const fractionMs = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  // setUTCFullYear, not Date.UTC, which reads years 0..99 as 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, fractionMs);
  // 31 November would roll over to 1 December: the day must survive the round trip.
  if (date.getUTCDate() !== day) return undefined;
  const local = date.getTime();
  const zone = m[8]!.toUpperCase();
  let offsetMin = 0;
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const ms = local - offsetMin * 60_000;
  return ms >= 0 && ms <= maxStorableEpochMs ? ms : undefined;
}

/** A query instant; the error says what is missing or which forms are accepted. */
export const instantQuery = z
  .string({ error: (issue) => (issue.input === undefined ? `required: ${instantForms}` : `expected ${instantForms}`) })
  // On the string, not the transform: the OpenAPI document describes what a caller sends.
  .meta({ description: `an instant: ${instantForms}`, examples: ['1764547200000', '2026-12-01T00:00:00Z', '2026-12-01T08:00:00+08:00'] })
  .transform((text, ctx) => {
    const ms = parseInstant(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${text.length > 40 ? `${text.slice(0, 40)}…` : text}" is not ${instantForms}` });
      return z.NEVER;
    }
    return ms;
  });
