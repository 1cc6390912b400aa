/**
 * The reading envelope v1 checked by hand, for the hot path: exactly as strict
 * as `readingEnvelopeSchema` (shared/contracts/payloads.ts), which stays the
 * definition and gives the error text of anything refused here
 * (envelope-check.test.ts holds the two to the same verdicts). zod's checks
 * allocate about 3 KB a message (its parse contexts, issue lists and the
 * stripped copy of every object), a tenth of what ingest allocated.
 */
import type { ReadingEnvelope } from '../../../shared/contracts/payloads.ts';

const maxReadings = 500;

/** zod measures strings in code points: a surrogate pair counts once. */
function codePoints(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

/** A string of min 1 and at most max code points (zod's `z.string().min(1).max(max)`). */
const boundedString = (v: unknown, max: number): boolean =>
  typeof v === 'string' && v.length >= 1 && (v.length <= max || codePoints(v) <= max);

/** zod's number: finite (JSON.parse turns 1e999 into Infinity). */
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `timestampSchema`: a string of 1 to 64 code points, or a finite number >= 0. */
const timestamp = (v: unknown): boolean => (typeof v === 'number' ? Number.isFinite(v) && v >= 0 : boundedString(v, 64));

/** An object in zod's sense: not null, not an array. */
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function reading(r: unknown): boolean {
  return isObject(r) && boundedString(r.metric, 64) && finite(r.value) && boundedString(r.unit, 32) && (r.ts === undefined || timestamp(r.ts));
}

/**
 * The parsed JSON as an envelope when `readingEnvelopeSchema` accepts it,
 * else undefined (ask the schema why). Keys the schema does not name are left
 * in place where zod would strip them: decode reads only the named ones.
 */
export function checkEnvelope(json: unknown): ReadingEnvelope | undefined {
  if (!isObject(json)) return undefined;
  const { v, ts, seq, readings, simulated } = json;
  if (v !== 1 || !timestamp(ts)) return undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  if (simulated !== undefined && typeof simulated !== 'boolean') return undefined;
  if (!Array.isArray(readings) || readings.length < 1 || readings.length > maxReadings) return undefined;
  for (const r of readings) if (!reading(r)) return undefined;
  return json as unknown as ReadingEnvelope;
}
