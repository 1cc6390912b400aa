/**
 * Every alert of the period with its provenance and who acknowledged or
 * resolved it: one row per alert (fingerprint), and one per transition.
 */
import type { AlertEvent, AlertState, Severity } from '../../../shared/contracts/events.ts';
import type { PackInput } from './pack-input.ts';

export interface AlertRow {
  fingerprint: string;
  ruleId: string;
  severity: Severity;
  tenant: string | undefined;
  meter: string | undefined;
  metric: string | undefined;
  firstAt: number;
  lastAt: number;
  state: AlertState;
  summary: string;
  threshold: number | undefined;
  /** The largest value any transition's provenance carried. */
  peak: number | undefined;
  acknowledgedBy: string | undefined;
  acknowledgedAt: number | undefined;
  resolvedBy: string | undefined;
  resolvedAt: number | undefined;
  transitions: number;
}

export interface AlertTransitionRow {
  fingerprint: string;
  transition: number;
  at: number;
  state: AlertState;
  previousState: AlertState | null;
  severity: Severity;
  ruleId: string;
  ruleVersion: number;
  tenant: string | undefined;
  meter: string | undefined;
  metric: string | undefined;
  values: string;
  threshold: number | undefined;
  windowStart: number | undefined;
  windowEnd: number | undefined;
  detail: string | undefined;
  summary: string;
  by: string | undefined;
}

export interface AlertTables {
  alerts: AlertRow[];
  transitions: AlertTransitionRow[];
}

const byTime = (a: AlertEvent, b: AlertEvent): number => a.at - b.at || a.transition - b.transition || (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0);

export function buildAlerts(input: Pick<PackInput, 'alerts'>): AlertTables {
  const ordered = [...input.alerts].sort(byTime);
  const rows = new Map<string, AlertRow>();
  const transitions: AlertTransitionRow[] = [];
  for (const e of ordered) {
    const values = e.provenance.values.filter(Number.isFinite);
    const peak = values.length ? Math.max(...values) : undefined;
    let row = rows.get(e.fingerprint);
    if (!row) {
      row = {
        fingerprint: e.fingerprint, ruleId: e.ruleId, severity: e.severity, tenant: e.tenant, meter: e.meter, metric: e.metric,
        firstAt: e.at, lastAt: e.at, state: e.state, summary: e.summary, threshold: e.provenance.threshold, peak,
        acknowledgedBy: undefined, acknowledgedAt: undefined, resolvedBy: undefined, resolvedAt: undefined, transitions: 0,
      };
      rows.set(e.fingerprint, row);
    }
    row.lastAt = e.at;
    row.state = e.state;
    row.severity = e.severity;
    row.transitions++;
    if (e.state !== 'resolved') row.summary = e.summary;
    if (e.provenance.threshold !== undefined) row.threshold = e.provenance.threshold;
    if (peak !== undefined && (row.peak === undefined || peak > row.peak)) row.peak = peak;
    if (e.state === 'acknowledged') {
      row.acknowledgedBy = e.by ?? 'unknown';
      row.acknowledgedAt = e.at;
    }
    if (e.state === 'resolved') {
      // No name: the rules resolved it when the condition cleared.
      row.resolvedBy = e.by ?? 'rules (condition cleared)';
      row.resolvedAt = e.at;
    }
    transitions.push({
      fingerprint: e.fingerprint, transition: e.transition, at: e.at, state: e.state, previousState: e.previousState, severity: e.severity,
      ruleId: e.ruleId, ruleVersion: e.ruleVersion, tenant: e.tenant, meter: e.meter, metric: e.metric, values: values.join(' '),
      threshold: e.provenance.threshold, windowStart: e.provenance.window?.start, windowEnd: e.provenance.window?.end,
      detail: e.provenance.detail, summary: e.summary, by: e.by,
    });
  }
  return { alerts: [...rows.values()].sort((a, b) => a.firstAt - b.firstAt || (a.fingerprint < b.fingerprint ? -1 : 1)), transitions };
}
