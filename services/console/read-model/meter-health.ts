/**
 * Meter health: online or offline from the meter's own birth and last will
 * (eip.meter-status.v1), overridden by an open deadman alert (a meter can be
 * connected and still send nothing), and when a reading of it last arrived.
 */
import type { MeterStatusEvent } from '../../../shared/contracts/events.ts';
import type { MeterHealth } from '../api/schemas.ts';

interface Known {
  status?: MeterStatusEvent;
  lastSeen?: number;
}

export class MeterHealthBook {
  private readonly meters = new Map<string, Known>();

  applyStatus(event: MeterStatusEvent): void {
    const k = this.entry(event.meter);
    if (!k.status || k.status.at <= event.at) k.status = event;
  }

  seen(meter: string, at: number): void {
    const k = this.entry(meter);
    if (k.lastSeen === undefined || at > k.lastSeen) k.lastSeen = at;
  }

  lastSeen(meter: string): number | undefined {
    return this.meters.get(meter)?.lastSeen;
  }

  /** `deadmanSince`: when an open deadman alert on this meter started, if one is open. */
  health(meter: string, deadmanSince?: number): MeterHealth {
    const k = this.meters.get(meter);
    const lastSeen = k?.lastSeen ?? null;
    if (deadmanSince !== undefined) return { status: 'offline', cause: 'deadman', lastSeen, statusAt: deadmanSince };
    if (k?.status) return { status: k.status.status, cause: k.status.cause, lastSeen, statusAt: k.status.at };
    // No birth or will seen: a meter that sends readings is online in all but name.
    if (lastSeen !== null) return { status: 'online', cause: 'none', lastSeen, statusAt: null };
    return { status: 'unknown', cause: 'none', lastSeen, statusAt: null };
  }

  private entry(meter: string): Known {
    let k = this.meters.get(meter);
    if (!k) this.meters.set(meter, (k = {}));
    return k;
  }
}
