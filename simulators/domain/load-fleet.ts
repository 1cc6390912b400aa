/**
 * The meters of a load run, taking turns: next(nowMs) is the next meter's
 * envelope read at nowMs, with the same seeded profiles and registers as the
 * other modes. The caller passes the time; nothing here reads a clock.
 */
import type { MeterEntry } from '../../shared/contracts/park-registry.ts';
import { telemetryTopic } from '../../shared/contracts/mqtt-topics.ts';
import { createMeterState, nextReadings, type MeterState } from './meter-state.ts';
import type { OutboundMessage } from './simulation.ts';

export interface LoadMessage extends OutboundMessage {
  /** Readings in the envelope (a stack sends seven, a gas meter one). */
  readings: number;
}

export class LoadFleet {
  private readonly meters: { state: MeterState; topic: string }[];
  private turn = 0;
  /** The furthest a timestamp ran ahead of the clock (more than 1000 messages a second for one meter). */
  maxLeadMs = 0;

  constructor(entries: readonly MeterEntry[], seed: number) {
    if (entries.length === 0) throw new Error('a load fleet needs at least one meter');
    this.meters = entries.map((e) => ({ state: createMeterState(e, seed), topic: telemetryTopic(e.park.id, e.tenant.id, e.meter.id) }));
  }

  get size(): number {
    return this.meters.length;
  }

  /** Readings in the message that next() will return: what a paced sender must budget for. */
  peekReadings(): number {
    return this.meters[this.turn]!.state.metrics.length;
  }

  next(nowMs: number): LoadMessage {
    const m = this.meters[this.turn]!;
    this.turn = (this.turn + 1) % this.meters.length;
    // Strictly later than the meter's last reading: a store keyed by time would merge two equal ones.
    const t = Math.max(nowMs, (m.state.lastTickMs ?? -Infinity) + 1);
    this.maxLeadMs = Math.max(this.maxLeadMs, t - nowMs);
    const envelope = nextReadings(m.state, t);
    const { tenant, meter } = m.state.entry;
    return { tenant: tenant.id, meter: meter.id, topic: m.topic, payload: JSON.stringify(envelope), eventTimeMs: t, sendAtMs: nowMs, readings: envelope.readings.length };
  }
}
