/**
 * The park in simulated time: every meter ticks at its cadence from the start;
 * advanceTo() returns the messages due up to a time. No I/O and no clock, so
 * the same seed, start and scenario always give the same messages.
 */
import type { MeterEntry } from '../../shared/contracts/park-registry.ts';
import { telemetryTopic } from '../../shared/contracts/mqtt-topics.ts';
import { createMeterState, nextReadings, type MeterState } from './meter-state.ts';
import { planTick, type TimedEntry } from './scenario.ts';

export interface OutboundMessage {
  tenant: string;
  meter: string;
  topic: string;
  payload: string;
  eventTimeMs: number;
}

interface Scheduled {
  state: MeterState;
  nextMs: number;
  fired: Set<number>;
}

export class ParkSimulation {
  readonly startMs: number;
  private readonly meters: Scheduled[];
  private readonly scenario: readonly TimedEntry[];

  constructor(entries: readonly MeterEntry[], options: { seed: number; startMs: number; scenario?: readonly TimedEntry[] }) {
    this.startMs = options.startMs;
    this.scenario = options.scenario ?? [];
    this.meters = entries.map((entry) => ({ state: createMeterState(entry, options.seed), nextMs: options.startMs, fired: new Set<number>() }));
  }

  /** Messages for every tick with eventTime < untilMs (exclusive, so runs of a duration have no extra tick), in time order. */
  advanceTo(untilMs: number): OutboundMessage[] {
    const out: OutboundMessage[] = [];
    for (const m of this.meters) {
      const { park, tenant, meter } = m.state.entry;
      const cadenceMs = meter.cadenceSeconds * 1000;
      const topic = telemetryTopic(park.id, tenant.id, meter.id);
      while (m.nextMs < untilMs) {
        const t = m.nextMs;
        m.nextMs += cadenceMs;
        const plan = planTick(this.scenario, meter.id, t - this.startMs, m.fired);
        if (plan.silent) {
          // The meter keeps counting while it cannot send: registers jump when it returns.
          nextReadings(m.state, t, plan.effects);
          m.state.seq -= 1;
          continue;
        }
        const envelope = nextReadings(m.state, t, plan.effects);
        let payload = JSON.stringify(envelope);
        // A truncated payload, as from a logger that lost power mid-write.
        if (plan.malformed) payload = payload.slice(0, Math.floor(payload.length / 2));
        const msg = { tenant: tenant.id, meter: meter.id, topic, payload, eventTimeMs: t };
        out.push(msg);
        if (plan.duplicate) out.push({ ...msg });
      }
    }
    return out.sort((a, b) => a.eventTimeMs - b.eventTimeMs);
  }

  /** When the next tick of any meter is due. */
  nextDueMs(): number {
    return Math.min(...this.meters.map((m) => m.nextMs));
  }
}
