/**
 * The two bus records that arrive by the thousand per second (reading batches
 * and aggregates), checked without building zod's result objects, for every
 * stage that consumes them (aggregator, rules, reporting). A check says yes
 * only to a value the zod schema takes unchanged: every field it requires
 * present (defaults included), no key it does not know (zod would strip it),
 * every constraint the same. Anything else goes to zod, which gives the same
 * result as before, or the same reason for refusing it.
 */
import type { z } from 'zod';
import { aggregateEventSchema, readingBatchEventSchema, type AggregateEvent, type ReadingBatchEvent } from './contracts/events.ts';
import { parseRecord, type Parsed } from './dead-letters.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const idPattern = /^[a-z0-9][a-z0-9_-]*$/;
const isId = (v: unknown): boolean => typeof v === 'string' && v.length >= 1 && v.length <= 64 && idPattern.test(v);
const isText = (v: unknown): boolean => typeof v === 'string' && v.length >= 1;
const isFinite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Every own key is one of `known`. */
function onlyKnown(o: Obj, known: ReadonlySet<string>): boolean {
  for (const k in o) if (!known.has(k)) return false;
  // Keys `for in` does not list (non-enumerable ones cannot come from JSON; symbols neither).
  return true;
}

const readingKeys = new Set(['metric', 'unit', 'value', 'ts']);
const batchKeys = new Set(['v', 'park', 'tenant', 'meter', 'seq', 'receivedAt', 'simulated', 'readings']);

/** A readings event v1 exactly as readingBatchEventSchema returns it. */
export function isPlainReadingBatch(v: unknown): v is ReadingBatchEvent {
  if (!isObj(v) || !onlyKnown(v, batchKeys)) return false;
  if (v.v !== 1 || !isId(v.park) || !isId(v.tenant) || !isId(v.meter) || !isCount(v.seq) || !isCount(v.receivedAt) || typeof v.simulated !== 'boolean') return false;
  const readings = v.readings;
  if (!Array.isArray(readings) || readings.length === 0) return false;
  for (const r of readings as unknown[]) {
    if (!isObj(r) || !onlyKnown(r, readingKeys) || !isText(r.metric) || !isText(r.unit) || !isFinite(r.value) || !isCount(r.ts)) return false;
  }
  return true;
}

const aggregateKeys = new Set(['v', 'windowId', 'revision', 'scope', 'park', 'tenant', 'meter', 'metric', 'unit', 'window', 'start', 'end', 'count', 'sum', 'min', 'max', 'mean', 'last', 'consumption', 'registerEvents', 'completeness', 'expected', 'lastAt', 'simulated']);
const scopes = new Set(['meter', 'tenant', 'park']);
const windows = new Set(['1m', '15m', '1h', '1d']);
const registerEvents = new Set(['rollover', 'reset', 'swap', 'declared-swap', 'declared-reset']);

/** An aggregate event v1 exactly as aggregateEventSchema returns it. */
export function isPlainAggregate(v: unknown): v is AggregateEvent {
  if (!isObj(v) || !onlyKnown(v, aggregateKeys)) return false;
  if (v.v !== 1 || !isText(v.windowId) || !isCount(v.revision) || !scopes.has(v.scope as string) || !isId(v.park)) return false;
  if ((v.tenant !== undefined && !isId(v.tenant)) || (v.meter !== undefined && !isId(v.meter))) return false;
  if (!isText(v.metric) || !isText(v.unit) || !windows.has(v.window as string) || !isCount(v.start) || !isCount(v.end) || !isCount(v.count)) return false;
  if (!isFinite(v.sum) || !isFinite(v.min) || !isFinite(v.max) || !isFinite(v.mean) || !isFinite(v.last)) return false;
  if (v.consumption !== undefined && !isFinite(v.consumption)) return false;
  if (v.completeness !== undefined && !(typeof v.completeness === 'number' && Number.isFinite(v.completeness) && v.completeness >= 0)) return false;
  if (v.expected !== undefined && !(isFinite(v.expected) && (v.expected as number) > 0)) return false;
  if (v.lastAt !== undefined && !isCount(v.lastAt)) return false;
  if (typeof v.simulated !== 'boolean' || !Array.isArray(v.registerEvents)) return false;
  for (const e of v.registerEvents as unknown[]) if (!registerEvents.has(e as string)) return false;
  return true;
}

/** parseRecord with a fast yes: what the check takes is used as parsed; the rest is zod's to take or refuse. */
function parseHot<S extends z.ZodType>(value: Buffer | null, check: (v: unknown) => v is z.infer<S>, schema: S, what: string): Parsed<z.infer<S>> {
  if (value) {
    let json: unknown;
    try {
      json = JSON.parse(value.toString('utf8'));
    } catch {
      json = undefined;
    }
    if (json !== undefined && check(json)) return { ok: true, value: json };
  }
  return parseRecord(value, schema, what);
}

export const parseReadingBatch = (value: Buffer | null): Parsed<ReadingBatchEvent> => parseHot(value, isPlainReadingBatch, readingBatchEventSchema, 'readings event v1');
export const parseAggregate = (value: Buffer | null): Parsed<AggregateEvent> => parseHot(value, isPlainAggregate, aggregateEventSchema, 'aggregate event v1');
