import { Counter, Gauge, type Registry } from '../../shared/observability/metrics.ts';
import { createSinkMetrics } from '../../shared/observability/sink-metrics.ts';

export type ReportingMetrics = ReturnType<typeof createReportingMetrics>;

export function createReportingMetrics(registry: Registry) {
  const r = { registers: [registry] };
  return {
    sinks: createSinkMetrics(registry),
    records: new Counter({ name: 'eip_reporting_records_total', help: 'readings and aggregate records consumed, by topic and outcome (used, ignored, invalid, too-old)', labelNames: ['topic', 'outcome'], ...r }),
    attempts: new Counter({ name: 'eip_reporting_attempts_total', help: 'delivery attempts by kind and outcome (sent, failed, refused)', labelNames: ['kind', 'outcome'], ...r }),
    revisions: new Counter({ name: 'eip_reporting_revisions_total', help: 'periods whose content changed after an attempt (late records, revised windows): sent again as a new revision', labelNames: ['kind'], ...r }),
    outbox: new Gauge({ name: 'eip_reporting_outbox', help: 'submissions in the outbox by kind and state', labelNames: ['kind', 'state'], ...r }),
    hourCompleteness: new Gauge({ name: 'eip_reporting_sparing_hour_completeness', help: 'records over 30 of the last hour sent per SPARING station', labelNames: ['station'], ...r }),
  };
}
