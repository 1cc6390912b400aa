/**
 * The rules service's runtime. Inputs (readings, aggregates, meter status,
 * alert commands) go to the pure RulesEngine; each batch's transitions and the
 * engine's changed state records are written to Kafka together (eip.alerts.v1
 * and the compacted eip.alert-state.v1) before the batch's offsets commit. On
 * start the state is restored from the compacted topic, and the engine treats
 * replayed input as already seen: a restart neither repeats nor loses a
 * transition. Notifications (MQTT, webhooks) and history (time series) follow.
 */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import {
  aggregateEventSchema, alertCommandSchema, meterStatusSchema, readingBatchEventSchema,
  type AlertEvent,
} from '../../shared/contracts/events.ts';
import { deadLetterMessage, parseRecord, recordSource, type Parsed } from '../../shared/dead-letters.ts';
import { alertTopic } from '../../shared/contracts/mqtt-topics.ts';
import type { ConsumedBatch, EventBus, OutgoingMessage, Subscription } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { writeUntilDone } from '../../shared/write-until-done.ts';
import { Serial } from '../../shared/runtime/serial.ts';
import type { MqttClient } from '../../shared/adapters/mqtt/connect.ts';
import type { RulesEngine, Transition } from './domain/index.ts';
import { toAlertmanager } from './alertmanager.ts';
import type { RulesMetrics } from './metrics.ts';

export interface RulesRuntimeOptions {
  engine: RulesEngine;
  bus: EventBus;
  store: TimeSeriesStore;
  mqtt?: MqttClient;
  webhooks: string[];
  webhookTimeoutMs: number;
  metrics: RulesMetrics;
  logger: Logger;
  group: string;
  tickIntervalMs: number;
  batchMax: number;
  now?: () => number;
}

const stateKey = (fp: string): string => `state:${fp}`;
const silenceKey = (id: string): string => `silence:${id}`;

export class RulesRuntime {
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Batches and ticks take turns: the engine is not re-entrant. */
  private readonly turns = new Serial();
  private readonly abort = new AbortController();
  private readonly now: () => number;
  /** When each open alert started, for the webhook's startsAt. */
  private readonly startedAt = new Map<string, number>();

  constructor(private readonly o: RulesRuntimeOptions) {
    this.now = o.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.restore();
    this.subscription = await this.o.bus.subscribe({
      groupId: this.o.group,
      topics: [topics.readings.name, topics.aggregates.name, topics.meterStatus.name, topics.alertCommands.name],
      fromBeginning: true,
      maxBatchSize: this.o.batchMax,
      handleBatch: (batch) => this.exclusive(() => this.handle(batch)),
    });
    this.timer = setInterval(() => {
      void this.exclusive(() => this.commit(this.o.engine.tick(this.now()), [])).catch((err: unknown) => this.o.logger.error({ err }, 'tick failed'));
    }, this.o.tickIntervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.subscription?.stop();
    await this.turns.idle();
    this.abort.abort();
  }

  private exclusive(fn: () => Promise<void>): Promise<void> {
    return this.turns.run(fn);
  }

  private async restore(): Promise<void> {
    const saved = await this.o.bus.readCompacted(topics.alertState.name);
    const states: unknown[] = [];
    const silences: unknown[] = [];
    for (const [key, value] of saved) {
      try {
        const json = JSON.parse(value.toString('utf8')) as unknown;
        if (key.startsWith('state:')) states.push(json);
        else if (key.startsWith('silence:')) silences.push(json);
      } catch (err) {
        this.o.logger.warn({ key, err: (err as Error).message }, 'unreadable state record ignored');
      }
    }
    const r = this.o.engine.restore({ states, silences });
    this.o.engine.takeChanges();
    for (const a of this.o.engine.alerts()) this.startedAt.set(a.fingerprint, a.since);
    this.o.logger.info({ ...r, silences: silences.length }, 'restored alert state');
    this.updateGauges();
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    const done = this.o.metrics.batchSeconds.startTimer();
    const transitions: Transition[] = [];
    const deadLetters: OutgoingMessage[] = [];
    for (const m of batch.messages) {
      this.o.metrics.inputs.inc({ topic: batch.topic });
      const now = this.now();
      const out = this.dispatch(batch.topic, m.value, now);
      if ('transitions' in out) {
        transitions.push(...out.transitions);
        continue;
      }
      this.o.metrics.invalid.inc({ topic: batch.topic });
      deadLetters.push(deadLetterMessage({ stage: 'rules', reason: 'bad-event', detail: out.error, source: recordSource(batch.topic, batch.partition, m.offset), payload: m.value, receivedAt: now }));
    }
    await this.commit(transitions, deadLetters);
    done();
  }

  private dispatch(topic: string, value: Buffer | null, now: number): { transitions: Transition[] } | { error: string } {
    const { engine } = this.o;
    const run = <T>(p: Parsed<T>, fn: (v: T) => Transition[]) => (p.ok ? { transitions: fn(p.value) } : { error: p.detail });
    switch (topic) {
      case topics.readings.name: return run(parseRecord(value, readingBatchEventSchema, 'readings event v1'), (v) => engine.onReading(v, now));
      case topics.aggregates.name: return run(parseRecord(value, aggregateEventSchema, 'aggregate event v1'), (v) => engine.onAggregate(v, now));
      case topics.meterStatus.name: return run(parseRecord(value, meterStatusSchema, 'meter status v1'), (v) => engine.onMeterStatus(v, now));
      case topics.alertCommands.name: return run(parseRecord(value, alertCommandSchema, 'alert command v1'), (v) => engine.onCommand(v, now));
      default: return { error: `unexpected topic ${topic}` };
    }
  }

  /** Writes transitions and changed state together, then notifies: all before the caller's offsets commit. */
  private async commit(transitions: Transition[], extra: OutgoingMessage[]): Promise<void> {
    const changes = this.o.engine.takeChanges();
    const messages: OutgoingMessage[] = [
      ...transitions.map((t) => ({ topic: topics.alerts.name, key: t.event.fingerprint, value: JSON.stringify(t.event) })),
      ...changes.states.map((s) => ({ topic: topics.alertState.name, key: stateKey(s.fp), value: JSON.stringify(s) })),
      ...changes.silences.map((s) => ({ topic: topics.alertState.name, key: silenceKey(s.id), value: JSON.stringify(s) })),
      ...changes.removedSilences.map((id) => ({ topic: topics.alertState.name, key: silenceKey(id), value: null })),
      ...extra,
    ];
    if (messages.length === 0) return;
    await writeUntilDone('bus', () => this.o.bus.publish(messages), this.o.logger, undefined, this.abort.signal);
    if (transitions.length === 0) return;
    const events = transitions.map((t) => t.event);
    for (const e of events) {
      this.o.metrics.transitions.inc({ state: e.state, severity: e.severity });
      if (e.previousState === null) this.startedAt.set(e.fingerprint, e.at);
      this.o.logger.info({ fingerprint: e.fingerprint, rule: e.ruleId, state: e.state, severity: e.severity, park: e.park, tenant: e.tenant, meter: e.meter, summary: e.summary }, 'alert transition');
    }
    await writeUntilDone('timeseries', () => this.o.store.writeAlertEvents(events.map((e) => ({
      fingerprint: e.fingerprint, ruleId: e.ruleId, state: e.state, severity: e.severity, park: e.park, tenant: e.tenant, meter: e.meter, metric: e.metric,
      summary: e.summary, value: e.provenance.values.at(-1), at: e.at, ...(e.simulated && { simulated: true }),
    }))), this.o.logger, undefined, this.abort.signal);
    await this.notify(transitions.filter((t) => !t.silencedBy).map((t) => t.event));
    for (const e of events) if (e.state === 'resolved') this.startedAt.delete(e.fingerprint);
    this.updateGauges();
  }

  /** Notifications are best effort: the alerts topic is the record, and the console reads it. */
  private async notify(events: AlertEvent[]): Promise<void> {
    const mqtt = this.o.mqtt;
    await Promise.all(events.flatMap((e) => [
      ...(mqtt ? [mqtt.publishAsync(alertTopic(e.park, e.severity), JSON.stringify(e), { qos: 1 }).then(
        () => this.o.metrics.notifications.inc({ channel: 'mqtt', outcome: 'sent' }),
        (err: unknown) => { this.o.metrics.notifications.inc({ channel: 'mqtt', outcome: 'failed' }); this.o.logger.warn({ err: (err as Error).message }, 'MQTT alert publish failed'); },
      )] : []),
      ...this.o.webhooks.map((url) => this.postWebhook(url, e)),
    ]));
  }

  private async postWebhook(url: string, e: AlertEvent): Promise<void> {
    try {
      const res = await fetch(url, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(toAlertmanager(e, this.startedAt.get(e.fingerprint) ?? e.at)),
        signal: AbortSignal.timeout(this.o.webhookTimeoutMs),
      });
      this.o.metrics.notifications.inc({ channel: 'webhook', outcome: res.ok ? 'sent' : 'failed' });
      if (!res.ok) this.o.logger.warn({ url, status: res.status }, 'webhook refused the alert');
    } catch (err) {
      this.o.metrics.notifications.inc({ channel: 'webhook', outcome: 'failed' });
      this.o.logger.warn({ url, err: (err as Error).message }, 'webhook failed');
    }
  }

  private updateGauges(): void {
    this.o.metrics.states.set(this.o.engine.size);
    let open = 0;
    for (const _ of this.o.engine.alerts()) open++;
    this.o.metrics.firing.set(open);
  }
}
