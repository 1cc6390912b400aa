import { EipError } from '../../errors.ts';
import type { AggregatePoint, AlertEventPoint, ReadingPoint } from '../../ports/time-series.ts';

/**
 * The same checks the InfluxDB adapter makes while building line protocol, so
 * both refuse the same batches (REJECTED, not retriable, nothing written) rather than
 * SQLite storing what InfluxDB would reject.
 */

function invalid(kind: string, index: number, reason: string): EipError {
  return new EipError('REJECTED', `${kind} #${index}: ${reason}`, { details: { index } });
}

function text(value: unknown, key: string, kind: string, index: number): void {
  if (typeof value !== 'string' || value.length === 0) throw invalid(kind, index, `tag ${key} must be a non-empty string`);
}

function finite(value: unknown, key: string, kind: string, index: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(kind, index, `field ${key} must be a finite number`);
}

function integer(value: unknown, key: string, kind: string, index: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(kind, index, `${key} must be an integer`);
}

export function checkReadings(points: readonly ReadingPoint[]): void {
  points.forEach((p, i) => {
    const k = 'reading';
    text(p.park, 'park', k, i); text(p.tenant, 'tenant', k, i); text(p.meter, 'meter', k, i);
    text(p.metric, 'metric', k, i); text(p.unit, 'unit', k, i);
    finite(p.value, 'value', k, i); integer(p.ts, 'time', k, i);
  });
}

export function checkAggregates(points: readonly AggregatePoint[]): void {
  points.forEach((p, i) => {
    const k = 'aggregate';
    text(p.scope, 'scope', k, i); text(p.park, 'park', k, i); text(p.metric, 'metric', k, i);
    text(p.unit, 'unit', k, i); text(p.window, 'window', k, i);
    integer(p.count, 'count', k, i); integer(p.start, 'time', k, i);
    finite(p.sum, 'sum', k, i); finite(p.min, 'min', k, i); finite(p.max, 'max', k, i);
    finite(p.mean, 'mean', k, i); finite(p.last, 'last', k, i);
    if (p.consumption !== undefined) finite(p.consumption, 'consumption', k, i);
    if (p.completeness !== undefined) finite(p.completeness, 'completeness', k, i);
    if (p.expected !== undefined) finite(p.expected, 'expected', k, i);
    if (p.lastAt !== undefined) finite(p.lastAt, 'lastAt', k, i);
    if (p.revision !== undefined) integer(p.revision, 'revision', k, i);
  });
}

export function checkAlertEvents(events: readonly AlertEventPoint[]): void {
  events.forEach((e, i) => {
    const k = 'alert event';
    text(e.fingerprint, 'fingerprint', k, i); text(e.ruleId, 'rule', k, i); text(e.state, 'state', k, i);
    text(e.severity, 'severity', k, i); text(e.park, 'park', k, i);
    if (typeof e.summary !== 'string') throw invalid(k, i, 'summary must be a string');
    if (e.value !== undefined) finite(e.value, 'value', k, i);
    if (e.transition !== undefined) integer(e.transition, 'transition', k, i);
    if (e.by !== undefined && typeof e.by !== 'string') throw invalid(k, i, 'field by must be a string');
    if (e.threshold !== undefined) finite(e.threshold, 'threshold', k, i);
    if (e.windowStart !== undefined) integer(e.windowStart, 'window_start', k, i);
    if (e.windowEnd !== undefined) integer(e.windowEnd, 'window_end', k, i);
    if (e.detail !== undefined && typeof e.detail !== 'string') throw invalid(k, i, 'field detail must be a string');
    integer(e.at, 'time', k, i);
  });
}
