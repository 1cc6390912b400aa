/**
 * Decides, from a probe ingest publishes to a topic only its own session
 * subscribes to, whether the broker still delivers to that session. A broker
 * can restore a session (CONNACK "session present") without the subscriptions
 * it held, and then acknowledges every meter's publish and drops it; only a
 * message that comes back proves delivery. Pure: the caller owns timers and I/O.
 *
 * A probe is queued behind whatever the session already holds, so any delivery
 * counts as progress: the probe is lost only when nothing at all has arrived
 * for `timeoutMs` while it is outstanding and acknowledgements are not held.
 */

export interface SubscriptionProbeOptions {
  /** Time between probes once the last one came back. */
  intervalMs: number;
  /** Silence, with a probe outstanding, after which the subscription counts as lost. */
  timeoutMs: number;
  now: () => number;
  /** Distinguishes this process's probes from an earlier incarnation's. */
  nonce: string;
}

export type ProbeAction = { kind: 'none' } | { kind: 'send'; id: string } | { kind: 'lost'; waitedMs: number };

const none: ProbeAction = { kind: 'none' };

export class SubscriptionProbe {
  private outstanding: { id: string; sentAt: number } | undefined;
  private lastProgress: number;
  private nextSendAt: number;
  private verified = true;
  private seq = 0;

  private readonly o: SubscriptionProbeOptions;
  constructor(o: SubscriptionProbeOptions) {
    this.o = o;
    this.lastProgress = o.now();
    this.nextSendAt = this.lastProgress;
  }

  /** A (re)connection: whatever was outstanding went with the old one; probe at once. */
  connected(): void {
    this.outstanding = undefined;
    this.lastProgress = this.o.now();
    this.nextSendAt = this.lastProgress;
  }

  /** Any message delivered on the session: its queue is moving. */
  delivered(): void {
    this.lastProgress = this.o.now();
  }

  /** A probe came back; returns its round trip when it is the one outstanding. */
  returned(id: string): number | undefined {
    this.delivered();
    if (!this.outstanding || this.outstanding.id !== id) return undefined;
    const rtt = this.o.now() - this.outstanding.sentAt;
    this.nextSendAt = this.outstanding.sentAt + this.o.intervalMs;
    this.outstanding = undefined;
    this.verified = true;
    return rtt;
  }

  /**
   * The broker refused to take the probe (not authorized): nothing can be proved, and a
   * fresh connection would not change that. Not healthy; the next probe follows after an
   * interval, in case the broker's ACL is reloaded.
   */
  refused(id: string): boolean {
    if (!this.outstanding || this.outstanding.id !== id) return false;
    this.nextSendAt = this.outstanding.sentAt + this.o.intervalMs;
    this.outstanding = undefined;
    this.verified = false;
    return true;
  }

  /** Call on a timer while connected. `holding`: acknowledgements are held, so nothing can arrive. */
  tick(holding: boolean): ProbeAction {
    const now = this.o.now();
    if (holding) {
      this.lastProgress = now;
      return none;
    }
    if (this.outstanding) {
      if (now - Math.max(this.outstanding.sentAt, this.lastProgress) < this.o.timeoutMs) return none;
      const waitedMs = now - this.outstanding.sentAt;
      this.outstanding = undefined;
      this.verified = false;
      this.nextSendAt = now;
      return { kind: 'lost', waitedMs };
    }
    if (now < this.nextSendAt) return none;
    const id = `${this.o.nonce}-${++this.seq}`;
    this.outstanding = { id, sentAt: now };
    return { kind: 'send', id };
  }

  /** False from a lost or refused probe until one comes back. */
  get healthy(): boolean {
    return this.verified;
  }
}

/** The probe's payload: small JSON carrying its id. */
export const probePayload = (id: string): string => JSON.stringify({ probe: id });

export function probeIdOf(payload: Buffer): string | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && typeof (v as { probe?: unknown }).probe === 'string' ? (v as { probe: string }).probe : undefined;
  } catch {
    return undefined;
  }
}
