/**
 * Every alert the console has told this browser about, by fingerprint, fed by
 * the SSE stream and by list requests. Transitions are numbered per
 * fingerprint, so an older copy (a slow list response, a replayed backlog)
 * never overwrites a newer one. Commands the operator sent are tracked until
 * the transition they cause arrives, since the rules service applies them.
 */
import type { AlertView } from '../../api/schemas.ts';
import type { StreamStatus } from './sse.ts';

export type CommandKind = 'acknowledge' | 'resolve';
export interface SentCommand {
  kind: CommandKind;
  /** The alert's transition when the command was sent: a later one settles it. */
  transition: number;
  at: number;
  error?: string;
}

export const openStates: ReadonlySet<AlertView['state']> = new Set(['pending', 'firing', 'acknowledged']);

export class AlertStore {
  private readonly alerts = new Map<string, AlertView>();
  private readonly sent = new Map<string, SentCommand>();
  /** Fingerprints replayed by the current connection, until its "ready". */
  private backlog: Set<string> | undefined;
  private readonly listeners = new Set<() => void>();
  /** When each fingerprint was first seen live (after the first backlog), for highlighting. */
  private readonly arrivedLive = new Map<string, number>();
  private hadBacklog = false;
  status: StreamStatus = 'connecting';

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** Returns true when the alert was new or newer than what was held. */
  private put(alert: AlertView): boolean {
    const held = this.alerts.get(alert.fingerprint);
    // Equal transition: same state, but other fields (silenced, who) may have been filled in.
    if (held && held.transition > alert.transition) return false;
    this.alerts.set(alert.fingerprint, alert);
    const cmd = this.sent.get(alert.fingerprint);
    if (cmd && alert.transition > cmd.transition) this.sent.delete(alert.fingerprint);
    return true;
  }

  fromStream(alert: AlertView): void {
    this.backlog?.add(alert.fingerprint);
    const isNew = !this.alerts.has(alert.fingerprint);
    if (this.put(alert)) {
      if (isNew && this.hadBacklog && !this.backlog) this.arrivedLive.set(alert.fingerprint, Date.now());
      this.changed();
    }
  }

  /** From GET /api/alerts. */
  merge(alerts: readonly AlertView[]): void {
    let any = false;
    for (const a of alerts) any = this.put(a) || any;
    if (any) this.changed();
  }

  streamOpened(): void {
    this.backlog = new Set();
  }

  /**
   * The backlog is every open alert; one held as open but not replayed was
   * closed while this browser was away. Its final state is unknown here, so it
   * is dropped; the caller re-lists to learn it.
   */
  streamReady(): void {
    const replayed = this.backlog;
    this.backlog = undefined;
    this.hadBacklog = true;
    if (!replayed) return;
    for (const [fp, a] of this.alerts) if (openStates.has(a.state) && !replayed.has(fp)) this.alerts.delete(fp);
    this.changed();
  }

  setStatus(status: StreamStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.changed();
  }

  markSent(fingerprint: string, kind: CommandKind): void {
    const a = this.alerts.get(fingerprint);
    this.sent.set(fingerprint, { kind, transition: a?.transition ?? 0, at: Date.now() });
    this.changed();
  }

  markFailed(fingerprint: string, kind: CommandKind, error: string): void {
    const a = this.alerts.get(fingerprint);
    this.sent.set(fingerprint, { kind, transition: a?.transition ?? 0, at: Date.now(), error });
    this.changed();
  }

  clearSent(fingerprint: string): void {
    if (this.sent.delete(fingerprint)) this.changed();
  }

  sentFor(fingerprint: string): SentCommand | undefined {
    return this.sent.get(fingerprint);
  }

  arrivedAt(fingerprint: string): number | undefined {
    return this.arrivedLive.get(fingerprint);
  }

  get(fingerprint: string): AlertView | undefined {
    return this.alerts.get(fingerprint);
  }

  all(): AlertView[] {
    return [...this.alerts.values()];
  }
}

const severityRank: Record<AlertView['severity'], number> = { critical: 0, warning: 1, 'data-quality': 2, info: 3 };
const stateRank: Record<AlertView['state'], number> = { firing: 0, pending: 1, acknowledged: 2, resolved: 3 };

/** Most urgent first: severity, then state, then the newest episode. */
export function byUrgency(a: AlertView, b: AlertView): number {
  return severityRank[a.severity] - severityRank[b.severity] || stateRank[a.state] - stateRank[b.state] || b.since - a.since || a.fingerprint.localeCompare(b.fingerprint);
}
