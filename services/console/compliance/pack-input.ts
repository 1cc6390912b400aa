/** What the table builders are given: the scope, the period and the data read for it (by pack-sources.ts). */
import type { Park, Tenant } from '../../../shared/contracts/park-registry.ts';
import type { AlertEvent } from '../../../shared/contracts/events.ts';
import type { SubmissionRecord } from '../../../shared/contracts/submissions.ts';
import type { AggregatePoint } from '../../../shared/ports/time-series.ts';
import { isMetricName, metricCatalogue } from '../../../shared/contracts/metric-catalogue.ts';
import type { PackPeriod } from './pack-period.ts';

export interface PackInput {
  park: Park;
  /** Absent: the whole park. */
  tenant?: Tenant | undefined;
  period: PackPeriod;
  /** Hours that end after this are not judged yet (the pack of the current month stops at now). */
  now: number;
  /** Stored 1-hour meter windows of the scope's meters over the period, any metric. */
  hours: readonly AggregatePoint[];
  /** Every alert transition in the period for the scope, from the alerts topic and the store. */
  alerts: readonly AlertEvent[];
  /** Submission records of the scope (the latest per key). */
  submissions: readonly SubmissionRecord[];
  minCompleteness: number;
}

export const HOUR = 3_600_000;

/** The tenants in scope. */
export function tenantsOf(input: Pick<PackInput, 'park' | 'tenant'>): Tenant[] {
  return input.tenant ? [input.tenant] : input.park.tenants;
}

/** Clock hours of the period that have ended by now: [start, start + 1 h). */
export function judgedHours(input: Pick<PackInput, 'period' | 'now'>, from = input.period.from, to = input.period.to): number[] {
  const out: number[] = [];
  const end = Math.min(to, Math.floor(input.now / HOUR) * HOUR);
  // Stepping from the period's local midnight gives the zone's clock hours, where the stored 1-hour windows start.
  for (let h = from; h + HOUR <= end; h += HOUR) out.push(h);
  return out;
}

/** Windows by meter, metric and start. */
export function indexHours(hours: readonly AggregatePoint[]): Map<string, AggregatePoint> {
  const out = new Map<string, AggregatePoint>();
  for (const w of hours) if (w.meter !== undefined) out.set(hourKey(w.meter, w.metric, w.start), w);
  return out;
}

export const hourKey = (meter: string, metric: string, start: number): string => `${meter}\u0000${metric}\u0000${start}`;

export const unitOf = (metric: string): string => (isMetricName(metric) ? metricCatalogue[metric].unit : '');
