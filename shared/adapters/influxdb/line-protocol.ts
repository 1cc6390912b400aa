import { escape } from '@influxdata/influxdb-client';
import { EipError } from '../../errors.ts';
import type { AggregatePoint, AlertEventPoint, ReadingPoint } from '../../ports/time-series.ts';

/**
 * Line protocol for the schema in README.md, built by string concatenation:
 * ingest writes tens of thousands of readings a second, and a Point object per
 * reading would be most of the cost. Tags are written sorted by key, which
 * spares InfluxDB from sorting them on every line.
 */

export const measurements = { reading: 'reading', aggregate: 'aggregate', alertEvent: 'alert_event' } as const;

// Anything that may need escaping or rejecting; most values take the fast path.
const SPECIAL = /[ ,=\\\p{Cc}]/u;
const CONTROL = /\p{Cc}/u;

function invalid(kind: string, index: number, reason: string): EipError {
  return new EipError('REJECTED', `${kind} #${index}: ${reason}`, { details: { index } });
}

function tagValue(value: unknown, key: string, kind: string, index: number): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(kind, index, `tag ${key} must be a non-empty string`);
  if (!SPECIAL.test(value)) return value;
  // Line protocol cannot carry these in a tag: escape.tag would store "\n" as two
  // characters, and a trailing backslash would escape the separator after it.
  if (CONTROL.test(value) || value.endsWith('\\')) throw invalid(kind, index, `tag ${key} has a control character or ends with a backslash`);
  return escape.tag(value);
}

function optionalTag(value: string | undefined, key: string, kind: string, index: number): string {
  return value === undefined || value === '' ? '' : `,${key}=${tagValue(value, key, kind, index)}`;
}

function float(value: unknown, key: string, kind: string, index: number): string {
  // String(number) is valid line protocol (InfluxDB parses exponents); NaN and Infinity are not.
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(kind, index, `field ${key} must be a finite number`);
  return String(value);
}

function integer(value: unknown, key: string, kind: string, index: number): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(kind, index, `field ${key} must be an integer`);
  return `${value}i`;
}

function quoted(value: unknown, key: string, kind: string, index: number): string {
  if (typeof value !== 'string') throw invalid(kind, index, `field ${key} must be a string`);
  return escape.quoted(value);
}

function timestamp(value: unknown, kind: string, index: number): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(kind, index, 'time must be an integer epoch ms');
  return String(value);
}

export function readingLine(p: ReadingPoint, i: number): string {
  const k = 'reading';
  return 'reading,meter=' + tagValue(p.meter, 'meter', k, i)
    + ',metric=' + tagValue(p.metric, 'metric', k, i)
    + ',park=' + tagValue(p.park, 'park', k, i)
    + (p.simulated === true ? ',simulated=true' : '')
    + ',tenant=' + tagValue(p.tenant, 'tenant', k, i)
    + ',unit=' + tagValue(p.unit, 'unit', k, i)
    + ' value=' + float(p.value, 'value', k, i)
    + ' ' + timestamp(p.ts, k, i);
}

export function aggregateLine(p: AggregatePoint, i: number): string {
  const k = 'aggregate';
  return 'aggregate'
    + optionalTag(p.meter, 'meter', k, i)
    + ',metric=' + tagValue(p.metric, 'metric', k, i)
    + ',park=' + tagValue(p.park, 'park', k, i)
    + ',scope=' + tagValue(p.scope, 'scope', k, i)
    + (p.simulated === true ? ',simulated=true' : '')
    + optionalTag(p.tenant, 'tenant', k, i)
    + ',unit=' + tagValue(p.unit, 'unit', k, i)
    + ',window=' + tagValue(p.window, 'window', k, i)
    + ' count=' + integer(p.count, 'count', k, i)
    + ',sum=' + float(p.sum, 'sum', k, i)
    + ',min=' + float(p.min, 'min', k, i)
    + ',max=' + float(p.max, 'max', k, i)
    + ',mean=' + float(p.mean, 'mean', k, i)
    + ',last=' + float(p.last, 'last', k, i)
    + (p.consumption === undefined ? '' : ',consumption=' + float(p.consumption, 'consumption', k, i))
    + (p.completeness === undefined ? '' : ',completeness=' + float(p.completeness, 'completeness', k, i))
    + (p.expected === undefined ? '' : ',expected=' + float(p.expected, 'expected', k, i))
    + (p.lastAt === undefined ? '' : ',last_at=' + integer(p.lastAt, 'lastAt', k, i))
    + (p.revision === undefined ? '' : ',revision=' + integer(p.revision, 'revision', k, i))
    + (p.registerEvents === undefined || p.registerEvents.length === 0 ? '' : ',register_events=' + escape.quoted(p.registerEvents.join(',')))
    + ' ' + timestamp(p.start, k, i);
}

export function alertEventLine(e: AlertEventPoint, i: number): string {
  const k = 'alert event';
  if (typeof e.summary !== 'string') throw invalid(k, i, 'summary must be a string');
  return 'alert_event,fingerprint=' + tagValue(e.fingerprint, 'fingerprint', k, i)
    + optionalTag(e.meter, 'meter', k, i)
    + optionalTag(e.metric, 'metric', k, i)
    + ',park=' + tagValue(e.park, 'park', k, i)
    + ',rule=' + tagValue(e.ruleId, 'rule', k, i)
    + ',severity=' + tagValue(e.severity, 'severity', k, i)
    + (e.simulated === true ? ',simulated=true' : '')
    + ',state=' + tagValue(e.state, 'state', k, i)
    + optionalTag(e.tenant, 'tenant', k, i)
    + ' summary=' + escape.quoted(e.summary)
    + (e.value === undefined ? '' : ',value=' + float(e.value, 'value', k, i))
    + (e.transition === undefined ? '' : ',transition=' + integer(e.transition, 'transition', k, i))
    + (e.by === undefined || e.by === '' ? '' : ',by=' + quoted(e.by, 'by', k, i))
    + (e.threshold === undefined ? '' : ',threshold=' + float(e.threshold, 'threshold', k, i))
    + (e.windowStart === undefined ? '' : ',window_start=' + integer(e.windowStart, 'window_start', k, i))
    + (e.windowEnd === undefined ? '' : ',window_end=' + integer(e.windowEnd, 'window_end', k, i))
    + (e.detail === undefined || e.detail === '' ? '' : ',detail=' + quoted(e.detail, 'detail', k, i))
    + ' ' + timestamp(e.at, k, i);
}

/**
 * Serialises a whole batch into request bodies of at most `linesPerBody` lines.
 * Throws REJECTED (as InfluxDB answers a bad line) before anything is sent, so a bad point never leaves
 * half a batch written.
 */
export interface WriteBody {
  body: string;
  lines: number;
}

export function toBodies<T>(points: readonly T[], line: (p: T, i: number) => string, linesPerBody: number): WriteBody[] {
  const bodies: WriteBody[] = [];
  let body = '';
  let n = 0;
  for (let i = 0; i < points.length; i++) {
    body += (n === 0 ? '' : '\n') + line(points[i] as T, i);
    if (++n === linesPerBody) {
      bodies.push({ body, lines: n });
      body = '';
      n = 0;
    }
  }
  if (n > 0) bodies.push({ body, lines: n });
  return bodies;
}
