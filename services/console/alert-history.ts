/**
 * Alert history beyond the bus. The console folds eip.alerts.v1, which keeps
 * 90 days; the rules' outputs stage also writes every transition to the
 * time-series store (`alert_event`), kept as long as the store keeps it. For a
 * period older than the topic holds, or an alert the read model does not have,
 * history comes from the store, merged with what the read model holds.
 */
import { alertStateSchema, severitySchema, type AlertEvent, type AlertState } from '../../shared/contracts/events.ts';
import type { AlertEventPoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { AlertBoard } from './read-model/alert-board.ts';

/** How far back the detail view looks in the store for an alert the read model does not have. */
export const storedAlertLookbackMs = 400 * 86_400_000;

/**
 * Store points as transitions, oldest first. Points written before the store
 * kept transition numbers get their rank per fingerprint; unreadable states or
 * severities are left out.
 */
export function eventsOfPoints(points: readonly AlertEventPoint[]): AlertEvent[] {
  const sorted = [...points].sort((a, b) => a.at - b.at || (a.transition ?? 0) - (b.transition ?? 0));
  const last = new Map<string, { n: number; state: AlertState }>();
  const out: AlertEvent[] = [];
  for (const p of sorted) {
    const state = alertStateSchema.safeParse(p.state);
    const severity = severitySchema.safeParse(p.severity);
    if (!state.success || !severity.success) continue;
    const prev = last.get(p.fingerprint);
    const transition = p.transition ?? (prev ? prev.n + 1 : 1);
    last.set(p.fingerprint, { n: transition, state: state.data });
    out.push({
      v: 1, fingerprint: p.fingerprint, transition, state: state.data, previousState: prev?.state ?? null, severity: severity.data,
      ruleId: p.ruleId, ruleVersion: 0, park: p.park, summary: p.summary, at: p.at, simulated: p.simulated === true,
      ...(p.tenant !== undefined && { tenant: p.tenant }), ...(p.meter !== undefined && { meter: p.meter }), ...(p.metric !== undefined && { metric: p.metric }),
      ...(p.by !== undefined && { by: p.by }),
      provenance: {
        values: p.value === undefined ? [] : [p.value],
        ...(p.threshold !== undefined && { threshold: p.threshold }),
        ...(p.windowStart !== undefined && p.windowEnd !== undefined && { window: { start: p.windowStart, end: p.windowEnd } }),
        ...(p.detail !== undefined && { detail: p.detail }),
      },
    });
  }
  return out;
}

/** The read model's transitions, and the store's that it does not hold (same fingerprint and number, or same time and state). */
export function mergeHistory(fromBus: readonly AlertEvent[], fromStore: readonly AlertEvent[]): AlertEvent[] {
  const seen = new Set<string>();
  for (const e of fromBus) {
    seen.add(`${e.fingerprint}#${e.transition}`);
    seen.add(`${e.fingerprint}@${e.at}@${e.state}`);
  }
  const out = [...fromBus];
  for (const e of fromStore) if (!seen.has(`${e.fingerprint}#${e.transition}`) && !seen.has(`${e.fingerprint}@${e.at}@${e.state}`)) out.push(e);
  return out.sort((a, b) => a.at - b.at || a.transition - b.transition);
}

export interface HistoryScope {
  park: string;
  tenant?: string | undefined;
  from: number;
  to: number;
}

/** Every transition of the scope in [from, to): the read model's (if given) and the store's. */
export async function readAlertHistory(store: TimeSeriesStore, board: AlertBoard | undefined, scope: HistoryScope): Promise<AlertEvent[]> {
  const points = await store.queryAlertEvents({ scope: { park: scope.park, ...(scope.tenant !== undefined && { tenant: scope.tenant }) }, from: scope.from, to: scope.to });
  return mergeHistory(board?.transitionsIn(scope.park, scope.tenant, scope.from, scope.to) ?? [], eventsOfPoints(points));
}

/** The transitions folded as the console folds the topic: views with since, who acknowledged, who resolved. */
export function foldHistory(events: readonly AlertEvent[], historyPerAlert: number): AlertBoard {
  const board = new AlertBoard(historyPerAlert);
  for (const e of events) board.apply(e);
  return board;
}
