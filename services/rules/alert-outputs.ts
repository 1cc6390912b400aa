/**
 * What follows an alert transition once it is on eip.alerts.v1: its history
 * point in the time-series store, the MQTT alert topic and the webhooks. A
 * consumer group of its own (`<RULES_GROUP>.outputs`) reads the alerts topic and
 * commits only after the history is stored and the notifications are sent, so
 * a crash between the rules decision and its outputs loses none of them: they
 * are sent again (at least once; consumers drop repeats by fingerprint and
 * transition). Silenced transitions are recorded but not notified. A record it
 * cannot read, and a history point or MQTT message its sink refuses, become
 * dead letters (shared/write-isolating.ts), written before the offsets commit.
 */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { alertEventSchema, type AlertEvent } from '../../shared/contracts/events.ts';
import { alertTopic } from '../../shared/contracts/mqtt-topics.ts';
import type { RegistryIndex } from '../../shared/contracts/park-registry.ts';
import { deadLetterMessage, parseRecord, recordSource, sinkRefusedMessage } from '../../shared/dead-letters.ts';
import type { EipError } from '../../shared/errors.ts';
import type { ConsumedBatch, ConsumedMessage, EventBus, OutgoingMessage, Subscription } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import type { MqttClient } from '../../shared/adapters/mqtt/connect.ts';
import { mqttPublishError } from '../../shared/adapters/mqtt/publish-errors.ts';
import { deadLetterItem, publishIsolating, writeIsolating, type WriteContext } from '../../shared/write-isolating.ts';
import { urlOrigin, withOriginsOnly } from '../../shared/observability/url-origin.ts';
import { toAlertmanager } from './alertmanager.ts';
import type { RulesMetrics } from './metrics.ts';

export interface AlertOutputsOptions {
  bus: EventBus;
  store: TimeSeriesStore;
  registry: RegistryIndex;
  mqtt?: MqttClient | undefined;
  webhooks: string[];
  webhookTimeoutMs: number;
  /** Attempts per webhook and transition; a dead receiver must not hold the history and MQTT back for ever. */
  webhookAttempts?: number;
  metrics: RulesMetrics;
  logger: Logger;
  group: string;
  /** How long stop() waits for the batch in hand before giving it up. */
  stopGraceMs?: number;
  /** Transitions written to the topic longer ago than this are recorded but not notified (a first start or a long outage must not flood anyone with stale alerts). */
  notifyMaxAgeMs: number;
  now?: () => number;
}

export const outputsGroup = (rulesGroup: string): string => `${rulesGroup}.outputs`;

export class AlertOutputs {
  private subscription: Subscription | undefined;
  private readonly abort = new AbortController();
  /** When each open alert started, for the webhook's startsAt (falls back to the transition's time after a restart). */
  private readonly startedAt = new Map<string, number>();

  private readonly o: AlertOutputsOptions;
  constructor(o: AlertOutputsOptions) {
    this.o = o;
  }

  async start(): Promise<void> {
    this.subscription = await this.o.bus.subscribe({
      groupId: outputsGroup(this.o.group),
      topics: [topics.alerts.name],
      // From the beginning: history writes are idempotent, and stale transitions are not notified (notifyMaxAgeMs).
      fromBeginning: true,
      handleBatch: (batch) => this.handle(batch),
    });
  }

  /** Lets the batch in hand finish for a while, then gives it up uncommitted (it is sent again on the next start). */
  async stop(): Promise<void> {
    const giveUp = setTimeout(() => this.abort.abort(), this.o.stopGraceMs ?? 5_000);
    try {
      await this.subscription?.stop();
    } finally {
      clearTimeout(giveUp);
      this.abort.abort();
    }
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    const events: AlertEvent[] = [];
    const records = new Map<AlertEvent, ConsumedMessage>();
    const letters: OutgoingMessage[] = [];
    const stale = new Set<AlertEvent>();
    const now = this.now();
    const context: WriteContext = { stage: 'rules', logger: this.o.logger, metrics: this.o.metrics.sinks, signal: this.abort.signal };
    for (const m of batch.messages) {
      const r = parseRecord(m.value, alertEventSchema, 'alert event');
      if (!r.ok) {
        // As every stage does with a record it cannot read: a dead letter, counted.
        this.o.metrics.invalid.inc({ topic: batch.topic });
        letters.push(deadLetterMessage({ stage: 'rules', reason: 'bad-event', detail: r.detail, source: recordSource(batch.topic, batch.partition, m.offset), payload: m.value, receivedAt: now }));
        continue;
      }
      // Several parks' rules services may share one bus: each sends its own park's outputs.
      if (!this.o.registry.ownsScope(r.value.park)) continue;
      events.push(r.value);
      records.set(r.value, m);
      // The record's own time is when rules decided; the event's `at` may be the (older) reading time.
      if (now - m.timestamp > this.o.notifyMaxAgeMs) stale.add(r.value);
    }
    const refused = (e: AlertEvent, sink: string, error: EipError): void => {
      const m = records.get(e)!;
      letters.push(sinkRefusedMessage({ stage: 'rules', sink, error, source: recordSource(batch.topic, batch.partition, m.offset), payload: m.value, receivedAt: now }));
    };
    // A history point the store refuses is dead-lettered; the transition is still notified: it happened.
    if (events.length) {
      await writeIsolating(events, {
        ...context, sink: 'timeseries',
        write: (part) => this.o.store.writeAlertEvents(part.map((e) => ({
          fingerprint: e.fingerprint, ruleId: e.ruleId, state: e.state, severity: e.severity, park: e.park, tenant: e.tenant, meter: e.meter, metric: e.metric,
          summary: e.summary, value: e.provenance.values.at(-1), at: e.at, ...(e.simulated && { simulated: true }),
          // Kept with the point so the history outlives the alerts topic's retention (the console and the compliance pack read it).
          transition: e.transition, by: e.by, threshold: e.provenance.threshold,
          windowStart: e.provenance.window?.start, windowEnd: e.provenance.window?.end, detail: e.provenance.detail,
        }))),
        onRefused: ({ item, error }) => refused(item, 'timeseries', error),
      });
    }
    for (const e of events) if (e.previousState === null || e.previousState === 'resolved') this.startedAt.set(e.fingerprint, e.at);
    const notify = events.filter((e) => e.silenced !== true && !stale.has(e));
    if (stale.size) this.o.logger.info({ transitions: stale.size }, 'recorded stale transitions without notifying them');
    await Promise.all(notify.flatMap((e) => [this.publishMqtt(e, context, refused), ...this.o.webhooks.map((url) => this.postWebhook(url, e))]));
    for (const e of events) if (e.state === 'resolved') this.startedAt.delete(e.fingerprint);
    // Before the offsets commit: a dead letter is as durable as the outputs.
    if (letters.length) await publishIsolating((messages) => this.o.bus.publish(messages), letters.map(deadLetterItem), context);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** QoS 1 until the broker acknowledges: the batch (and its offsets) waits for it, unless the broker refuses that message. */
  private async publishMqtt(e: AlertEvent, context: WriteContext, refused: (e: AlertEvent, sink: string, error: EipError) => void): Promise<void> {
    const mqtt = this.o.mqtt;
    if (!mqtt) return;
    const topic = alertTopic(e.park, e.severity);
    const sent = await writeIsolating([e], {
      ...context, sink: 'mqtt',
      write: async () => {
        try {
          await mqtt.publishAsync(topic, JSON.stringify(e), { qos: 1 });
        } catch (err) {
          this.o.metrics.notifications.inc({ channel: 'mqtt', outcome: 'failed' });
          throw mqttPublishError(err, topic);
        }
      },
      onRefused: ({ error }) => refused(e, 'mqtt', error),
    });
    if (sent.length) this.o.metrics.notifications.inc({ channel: 'mqtt', outcome: 'sent' });
  }

  private async postWebhook(url: string, e: AlertEvent): Promise<void> {
    const attempts = this.o.webhookAttempts ?? 3;
    // Webhook paths often hold the receiver's token: the log names the origin only.
    const webhook = urlOrigin(url);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify(toAlertmanager(e, this.startedAt.get(e.fingerprint) ?? e.at)),
          signal: AbortSignal.any([AbortSignal.timeout(this.o.webhookTimeoutMs), this.abort.signal]),
        });
        if (res.ok) {
          this.o.metrics.notifications.inc({ channel: 'webhook', outcome: 'sent' });
          return;
        }
        this.o.logger.warn({ webhook, status: res.status, attempt }, 'webhook refused the alert');
      } catch (err) {
        this.o.logger.warn({ webhook, err: withOriginsOnly((err as Error).message, [url]), attempt }, 'webhook failed');
      }
      if (this.abort.signal.aborted) return;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
    this.o.metrics.notifications.inc({ channel: 'webhook', outcome: 'failed' });
  }
}
