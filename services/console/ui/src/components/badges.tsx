/** Severity, alert state and meter health as words with colour: colour is never the only cue. */
import type { AlertView, MeterHealth } from '../../../api/schemas.ts';

const severityLabel: Record<AlertView['severity'], string> = { critical: 'Critical', warning: 'Warning', info: 'Info', 'data-quality': 'Data quality' };
export const severities: ReadonlyArray<AlertView['severity']> = ['critical', 'warning', 'data-quality', 'info'];
export const severityName = (s: AlertView['severity']): string => severityLabel[s];

export function SeverityBadge({ severity }: { severity: AlertView['severity'] }) {
  return <span class={`badge sev-${severity}`} data-testid="severity">{severityLabel[severity]}</span>;
}

export function StateBadge({ alert }: { alert: AlertView }) {
  return (
    <span class="state-cell">
      <span class={`badge state-${alert.state}`} data-testid="alert-state">{alert.state}</span>
      {alert.silenced && <span class="badge silenced" title="A silence matches: notifications are muted">silenced</span>}
    </span>
  );
}

export function HealthBadge({ health }: { health: MeterHealth }) {
  return <span class={`badge health-${health.status}`} data-testid="meter-status">{health.status}</span>;
}

/** Counts of open alerts by severity, most severe first; nothing when there are none. */
export function AlertCounts({ counts }: { counts: Partial<Record<AlertView['severity'], number>> }) {
  const shown = severities.filter((s) => (counts[s] ?? 0) > 0);
  if (shown.length === 0) return <span class="muted">none</span>;
  return (
    <span class="counts">
      {shown.map((s) => <span key={s} class={`badge sev-${s}`} title={`${counts[s] ?? 0} open ${severityLabel[s]}`}>{counts[s]} {severityLabel[s]}</span>)}
    </span>
  );
}
