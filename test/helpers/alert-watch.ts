/** Collects the alert transitions of one park from eip.alerts.v1 (from the topic's end when started), for tests that judge what rules emitted. */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { alertEventSchema, type AlertEvent } from '../../shared/contracts/events.ts';
import type { EventBus, Subscription } from '../../shared/ports/event-bus.ts';
import { watchFromEnd } from './kafka-groups.ts';

export class AlertWatch {
  events: AlertEvent[] = [];
  private sub: Subscription | undefined;
  private readonly bus: EventBus;
  private readonly park: string;
  constructor(bus: EventBus, park: string) {
    this.bus = bus;
    this.park = park;
  }
  async start(): Promise<void> {
    this.sub = await watchFromEnd(this.bus, 'alert-watch', [topics.alerts.name], (_topic, json) => {
      const e = alertEventSchema.parse(json);
      if (e.park === this.park) this.events.push(e);
    });
  }
  of(rule: string): AlertEvent[] { return this.events.filter((e) => e.ruleId === rule); }
  async stop(): Promise<void> { await this.sub?.stop(); }
}
