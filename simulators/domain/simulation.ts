/**
 * The park in simulated time: every meter ticks at its cadence from the start;
 * advanceTo() returns the messages due up to a time. No I/O and no clock, so
 * the same seed, start and scenario always give the same messages.
 */
import type { MeterEntry } from '../../shared/contracts/park-registry.ts';
import { telemetryTopic } from '../../shared/contracts/mqtt-topics.ts';
import { createMeterState, nextReadings, type MeterState } from './meter-state.ts';
import { HeldMessages } from './held-messages.ts';
import { placeRollover } from './rollover.ts';
import { planTick, type TimedEntry } from './scenario.ts';

export interface OutboundMessage {
  tenant: string;
  meter: string;
  topic: string;
  payload: string;
  /** When the reading was taken (true time, whatever the meter's clock says). */
  eventTimeMs: number;
  /** When the meter sends it: the event time, or later for a held message. */
  sendAtMs: number;
}

interface Scheduled {
  state: MeterState;
  nextMs: number;
  fired: Set<number>;
  held: HeldMessages;
}

export class ParkSimulation {
  readonly startMs: number;
  private readonly meters: Scheduled[];
  private readonly scenario: readonly TimedEntry[];

  constructor(entries: readonly MeterEntry[], options: { seed: number; startMs: number; scenario?: readonly TimedEntry[] }) {
    this.startMs = options.startMs;
    this.scenario = options.scenario ?? [];
    this.meters = entries.map((entry) => {
      const state = createMeterState(entry, options.seed);
      for (const e of this.scenario) {
        if (e.fault !== 'rollover' || e.meter !== entry.meter.id || e.metric === undefined || e.modulus === undefined) continue;
        placeRollover(state, options.seed, options.startMs, { metric: e.metric, modulus: e.modulus, atMs: e.fromMs });
      }
      return { state, nextMs: options.startMs, fired: new Set<number>(), held: new HeldMessages(options.seed, entry.meter.id) };
    });
  }

  /** Messages sent before untilMs (exclusive, so runs of a duration have no extra tick), in send order. */
  advanceTo(untilMs: number): OutboundMessage[] {
    const out: OutboundMessage[] = [];
    for (const m of this.meters) {
      const { park, tenant, meter } = m.state.entry;
      const cadenceMs = meter.cadenceSeconds * 1000;
      const topic = telemetryTopic(park.id, tenant.id, meter.id);
      while (m.nextMs < untilMs) {
        const t = m.nextMs;
        m.nextMs += cadenceMs;
        // A span that ends now releases its backlog before the tick of that moment.
        out.push(...m.held.release((at) => at <= t));
        const plan = planTick(this.scenario, meter.id, t - this.startMs, m.fired);
        if (plan.silent) {
          // The meter keeps counting while it cannot send: registers jump when it returns.
          nextReadings(m.state, t, plan.effects);
          m.state.seq -= 1;
          continue;
        }
        let envelope = nextReadings(m.state, t, plan.effects);
        if (plan.clockOffsetMs !== 0) envelope = { ...envelope, ts: new Date(t + plan.clockOffsetMs).toISOString() };
        let payload = JSON.stringify(envelope);
        // A truncated payload, as from a logger that lost power mid-write.
        if (plan.malformed) payload = payload.slice(0, Math.floor(payload.length / 2));
        const msg: OutboundMessage = { tenant: tenant.id, meter: meter.id, topic, payload, eventTimeMs: t, sendAtMs: t };
        const copies = plan.duplicate ? [msg, { ...msg }] : [msg];
        if (plan.hold) for (const c of copies) m.held.hold(plan.hold, this.startMs + plan.hold.releaseMs, c);
        else out.push(...copies);
      }
      out.push(...m.held.release((at) => at < untilMs));
    }
    // Stable: messages sent at the same moment keep the order they were made in.
    return out.sort((a, b) => a.sendAtMs - b.sendAtMs);
  }

  /** Whatever is still held (the run ends inside an out-of-order or late-burst span), sent at atMs. */
  drain(atMs: number): OutboundMessage[] {
    return this.meters.flatMap((m) => m.held.drain(atMs));
  }

  /** When the next message of any meter is due: a tick or a release of held messages. */
  nextDueMs(): number {
    return Math.min(...this.meters.map((m) => Math.min(m.nextMs, m.held.nextReleaseMs())));
  }
}
