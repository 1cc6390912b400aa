/**
 * Alert transitions in the Alertmanager webhook format (version 4), so tools
 * that take Alertmanager's webhooks can take ours.
 */
import type { AlertEvent } from '../../shared/contracts/events.ts';
import { validityText } from '../../shared/contracts/validity.ts';

export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Array<{
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
}

const zeroTime = '0001-01-01T00:00:00Z';

export function toAlertmanager(event: AlertEvent, startedAt: number, externalURL = ''): AlertmanagerPayload {
  const status = event.state === 'resolved' ? 'resolved' : 'firing';
  const labels: Record<string, string> = { alertname: event.ruleId, severity: event.severity, park: event.park, state: event.state, rule_version: String(event.ruleVersion) };
  if (event.tenant) labels.tenant = event.tenant;
  if (event.meter) labels.meter = event.meter;
  if (event.metric) labels.metric = event.metric;
  if (event.simulated) labels.simulated = 'true';
  const annotations: Record<string, string> = { summary: event.summary };
  if (event.provenance.detail) annotations.description = event.provenance.detail;
  if (event.provenance.threshold !== undefined) annotations.threshold = String(event.provenance.threshold);
  if (event.provenance.values.length) annotations.values = event.provenance.values.join(', ');
  const limit = event.provenance.limit;
  if (limit) annotations.limit_version = `${limit.reference} (${validityText(limit)})`;
  if (event.by) annotations.by = event.by;
  return {
    version: '4',
    groupKey: `{}:{alertname="${event.ruleId}", park="${event.park}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'eip',
    groupLabels: { alertname: event.ruleId, park: event.park },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL,
    alerts: [{
      status, labels, annotations,
      startsAt: new Date(startedAt).toISOString(),
      endsAt: status === 'resolved' ? new Date(event.at).toISOString() : zeroTime,
      generatorURL: '',
      fingerprint: event.fingerprint,
    }],
  };
}
