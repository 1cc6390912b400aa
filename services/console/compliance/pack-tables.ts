/**
 * The pack as named tables of cells: one CSV file each, and the PDF's tables.
 * Times are ISO 8601 in the park's zone, with its offset.
 */
import { zoneOffsetMs } from '../../../shared/time-zones.ts';
import type { CompliancePack } from './compliance-pack.ts';

export type Cell = string | number | boolean | null | undefined;

export interface PackTable {
  /** File name without extension. */
  name: string;
  title: string;
  columns: readonly string[];
  rows: Cell[][];
}

export function isoInZone(t: number, timezone: string): string {
  const off = zoneOffsetMs(timezone, t);
  const local = new Date(t + off).toISOString().slice(0, 19);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off) / 60_000;
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const round = (v: number | undefined, digits = 4): number | undefined => (v === undefined ? undefined : Number(v.toFixed(digits)));

export function packTables(pack: CompliancePack): PackTable[] {
  const tz = pack.park.timezone;
  const time = (t: number | undefined): string | undefined => (t === undefined ? undefined : isoInZone(t, tz));
  return [
    {
      name: 'pack', title: 'About this pack', columns: ['key', 'value'],
      rows: [
        ['park', pack.park.id], ['park name', pack.park.name], ['tenant', pack.tenant?.id ?? '(whole park)'], ['month', pack.month],
        ['time zone', tz], ['from', time(pack.from)], ['to (exclusive)', time(pack.to)], ['generated at', time(pack.generatedAt)],
        ['minimum completeness', pack.minCompleteness],
      ],
    },
    {
      name: 'exceedances', title: 'Exceedance hours per parameter',
      columns: ['tenant', 'meter', 'metric', 'unit', 'limit_min', 'limit_max', 'limit_source', 'o2_reference_percent', 'hours', 'valid_hours', 'exceeded_hours', 'incomplete_hours', 'exceeded_incomplete_hours', 'missing_hours', 'no_o2_hours', 'max_hourly_mean'],
      rows: pack.exceedances.summary.map((r) => [r.tenant, r.meter, r.metric, r.unit, r.limitMin, r.limitMax, r.limitSource, r.o2Reference, r.hours, r.valid, r.exceeded, r.incomplete, r.exceededIncomplete, r.missing, r.noO2, round(r.maxMean)]),
    },
    {
      name: 'exceedance-hours', title: 'Hours outside the limit',
      columns: ['hour_start', 'tenant', 'meter', 'metric', 'unit', 'hourly_mean', 'judged_mean', 'o2_percent', 'limit_min', 'limit_max', 'count', 'expected', 'completeness', 'incomplete'],
      rows: pack.exceedances.hours.map((r) => [time(r.hour), r.tenant, r.meter, r.metric, r.unit, round(r.mean), round(r.judged), round(r.o2), r.limitMin, r.limitMax, r.count, r.expected, round(r.completeness), r.incomplete]),
    },
    {
      name: 'completeness', title: 'Completeness per stream per day',
      columns: ['date', 'tenant', 'meter', 'metric', 'hours', 'records', 'expected', 'completeness', 'incomplete_hours', 'missing_hours'],
      rows: pack.completeness.map((r) => [r.date, r.tenant, r.meter, r.metric, r.hours, r.records, round(r.expected), round(r.completeness), r.incompleteHours, r.missingHours]),
    },
    {
      name: 'alerts', title: 'Alerts',
      columns: ['fingerprint', 'rule', 'severity', 'tenant', 'meter', 'metric', 'first_at', 'last_at', 'state', 'summary', 'threshold', 'peak_value', 'acknowledged_by', 'acknowledged_at', 'resolved_by', 'resolved_at', 'transitions'],
      rows: pack.alerts.alerts.map((r) => [r.fingerprint, r.ruleId, r.severity, r.tenant, r.meter, r.metric, time(r.firstAt), time(r.lastAt), r.state, r.summary, r.threshold, r.peak, r.acknowledgedBy, time(r.acknowledgedAt), r.resolvedBy, time(r.resolvedAt), r.transitions]),
    },
    {
      name: 'alert-transitions', title: 'Alert transitions and their provenance',
      columns: ['at', 'fingerprint', 'transition', 'state', 'previous_state', 'severity', 'rule', 'rule_version', 'tenant', 'meter', 'metric', 'values', 'threshold', 'window_start', 'window_end', 'detail', 'summary', 'by'],
      rows: pack.alerts.transitions.map((r) => [time(r.at), r.fingerprint, r.transition, r.state, r.previousState, r.severity, r.ruleId, r.ruleVersion, r.tenant, r.meter, r.metric, r.values, r.threshold, time(r.windowStart), time(r.windowEnd), r.detail, r.summary, r.by]),
    },
    {
      name: 'submissions', title: 'Submissions and receipts',
      columns: ['kind', 'station', 'tenant', 'meter', 'period_start', 'period_end', 'records', 'expected', 'state', 'attempts', 'revision', 'sent_at', 'receipt', 'last_error', 'updated_at'],
      rows: pack.submissions.map((r) => [r.kind, r.station, r.tenant, r.meter, time(r.periodStart), time(r.periodEnd), r.records, r.expected, r.state, r.attempts, r.revision, time(r.sentAt), r.receipt, r.lastError, time(r.updatedAt)]),
    },
  ];
}
