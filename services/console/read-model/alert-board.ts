/**
 * The console's view of alerts: the latest transition per fingerprint, folded
 * from eip.alerts.v1. The rules service is the only writer of alert state; this
 * is a read model, rebuilt by replaying the topic, so replays and duplicates
 * (at-least-once delivery) must not change it: transitions are numbered per
 * fingerprint and anything not newer than what is held is dropped.
 */
import type { AlertEvent, AlertState, Severity } from '../../../shared/contracts/events.ts';
import type { AlertView } from '../api/schemas.ts';

export interface AlertFilter {
  parks?: ReadonlySet<string> | undefined;
  tenant?: string | undefined;
  meter?: string | undefined;
  severities?: readonly Severity[] | undefined;
  states?: readonly AlertState[] | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

interface Entry {
  view: AlertView;
  history: AlertEvent[];
}

export const openStates: readonly AlertState[] = ['pending', 'firing', 'acknowledged'];
const severityRank: Record<Severity, number> = { critical: 0, warning: 1, 'data-quality': 2, info: 3 };

export class AlertBoard {
  private readonly entries = new Map<string, Entry>();
  /** The open ones only: far fewer than all, and what the park and health views count on every request. */
  private readonly open = new Map<string, AlertView>();

  private readonly historyPerAlert: number;
  constructor(historyPerAlert = 50) {
    this.historyPerAlert = historyPerAlert;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Returns the new view, or undefined when the event is a replay of one already applied. */
  apply(event: AlertEvent): AlertView | undefined {
    const held = this.entries.get(event.fingerprint);
    if (held && event.transition <= held.view.transition) return undefined;
    const prev = held?.view;
    // A new episode starts when an alert leaves "resolved" (or was never seen).
    const newEpisode = !prev || prev.state === 'resolved';
    const view: AlertView = {
      ...event,
      since: newEpisode ? event.at : prev.since,
      silenced: prev?.silenced ?? false,
      ...(!newEpisode && prev.acknowledgedBy !== undefined && { acknowledgedBy: prev.acknowledgedBy, acknowledgedAt: prev.acknowledgedAt }),
    };
    if (event.state === 'acknowledged') {
      view.acknowledgedBy = event.by ?? 'unknown';
      view.acknowledgedAt = event.at;
    }
    if (event.state === 'resolved' && event.by) view.resolvedBy = event.by;
    const history = held?.history ?? [];
    history.push(event);
    if (history.length > this.historyPerAlert) history.splice(0, history.length - this.historyPerAlert);
    this.entries.set(event.fingerprint, { view, history });
    this.track(view);
    return view;
  }

  get(fingerprint: string): { view: AlertView; history: readonly AlertEvent[] } | undefined {
    return this.entries.get(fingerprint);
  }

  /** Transitions held of a park (or one tenant of it) in [from, to), as kept per alert (the latest CONSOLE_ALERT_HISTORY). */
  transitionsIn(park: string, tenant: string | undefined, from: number, to: number): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const { view, history } of this.entries.values()) {
      if (view.park !== park || (tenant !== undefined && view.tenant !== tenant)) continue;
      for (const e of history) if (e.at >= from && e.at < to) out.push(e);
    }
    return out;
  }

  /** Matching alerts, most severe first, then newest first. */
  list(filter: AlertFilter, limit = Number.POSITIVE_INFINITY): { alerts: AlertView[]; total: number } {
    const out: AlertView[] = [];
    for (const { view } of this.entries.values()) if (matches(view, filter)) out.push(view);
    out.sort(byRank);
    return { alerts: out.slice(0, limit), total: out.length };
  }

  /** Open alerts per severity for a park, or one tenant of it. */
  openCounts(park: string, tenant?: string): Record<Severity, number> {
    const counts: Record<Severity, number> = { critical: 0, warning: 0, 'data-quality': 0, info: 0 };
    for (const view of this.open.values()) {
      if (view.park !== park || (tenant !== undefined && view.tenant !== tenant)) continue;
      counts[view.severity] += 1;
    }
    return counts;
  }

  /** Re-marks every alert against the silences in force; returns those whose mark changed. */
  markSilenced(isSilenced: (view: AlertView) => boolean): AlertView[] {
    const changed: AlertView[] = [];
    for (const entry of this.entries.values()) {
      const silenced = isSilenced(entry.view);
      if (silenced !== entry.view.silenced) {
        entry.view = { ...entry.view, silenced };
        this.track(entry.view);
        changed.push(entry.view);
      }
    }
    return changed;
  }

  setSilenced(fingerprint: string, silenced: boolean): AlertView | undefined {
    const entry = this.entries.get(fingerprint);
    if (!entry) return undefined;
    entry.view = { ...entry.view, silenced };
    this.track(entry.view);
    return entry.view;
  }

  /** Open alerts of one meter raised by the given rules (deadman rules, for meter health). */
  openFor(meter: string, ruleIds: ReadonlySet<string>): AlertView | undefined {
    for (const view of this.open.values()) if (view.meter === meter && ruleIds.has(view.ruleId)) return view;
    return undefined;
  }

  private track(view: AlertView): void {
    if (openStates.includes(view.state)) this.open.set(view.fingerprint, view);
    else this.open.delete(view.fingerprint);
  }
}

/** Most severe first, then newest first. */
export function byRank(a: AlertView, b: AlertView): number {
  return severityRank[a.severity] - severityRank[b.severity] || b.at - a.at || a.fingerprint.localeCompare(b.fingerprint);
}

function matches(v: AlertView, f: AlertFilter): boolean {
  if (f.parks && !f.parks.has(v.park)) return false;
  if (f.tenant !== undefined && v.tenant !== f.tenant) return false;
  if (f.meter !== undefined && v.meter !== f.meter) return false;
  if (f.severities && !f.severities.includes(v.severity)) return false;
  if (f.states && !f.states.includes(v.state)) return false;
  if (f.from !== undefined && v.at < f.from) return false;
  if (f.to !== undefined && v.at >= f.to) return false;
  return true;
}
