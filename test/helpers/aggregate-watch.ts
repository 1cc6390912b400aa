/** Collects one park's aggregates from eip.aggregates.v1, from the topic's end when started: the latest revision per window, and every event. */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { aggregateEventSchema, type AggregateEvent } from '../../shared/contracts/events.ts';
import type { EventBus, Subscription } from '../../shared/ports/event-bus.ts';
import { watchFromEnd } from './kafka-groups.ts';

export class AggregateWatch {
  readonly byId = new Map<string, AggregateEvent>();
  readonly all: AggregateEvent[] = [];
  private sub: Subscription | undefined;
  private readonly bus: EventBus;
  private readonly park: string;
  constructor(bus: EventBus, park: string) {
    this.bus = bus;
    this.park = park;
  }
  async start(): Promise<void> {
    this.sub = await watchFromEnd(this.bus, 'agg-watch', [topics.aggregates.name], (_topic, json) => {
      const a = aggregateEventSchema.parse(json);
      if (a.park !== this.park) return;
      this.all.push(a);
      const prev = this.byId.get(a.windowId);
      if (!prev || prev.revision <= a.revision) this.byId.set(a.windowId, a);
    });
  }
  get(id: string): AggregateEvent | undefined { return this.byId.get(id); }
  async stop(): Promise<void> { await this.sub?.stop(); }
}
