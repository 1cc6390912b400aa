import { Counter, Gauge, type Registry } from 'prom-client';
import type { ConsoleModels } from './console-models.ts';

export function createConsoleMetrics(registry: Registry, models: ConsoleModels) {
  return {
    recordsSkipped: new Counter({ name: 'eip_console_records_skipped_total', help: 'records on the bus the console skipped, by topic and reason (unreadable: not its schema; not-applied: a read model failed on it)', labelNames: ['topic', 'reason'], registers: [registry] }),
    alertsKnown: new Gauge({ name: 'eip_console_alerts_known', help: 'alerts (fingerprints) held by the console', registers: [registry], collect() { this.set(models.alerts.size); } }),
    submissionsKnown: new Gauge({ name: 'eip_console_submissions_known', help: 'regulatory submissions (kind, station, period) held by the console', registers: [registry], collect() { this.set(models.submissions.size); } }),
  };
}
