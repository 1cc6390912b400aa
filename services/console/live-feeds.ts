/**
 * Feeds the console's read models from the bus: alert transitions, operators'
 * commands (for silences), meter status and dead letters from the beginning of
 * their topics, readings (only their keys and timestamps, for "last seen") from
 * now on, the sessions ended on any instance, and the regulatory submissions
 * (latest state per period). Each console instance reads everything on its own, under a consumer
 * group of its own, so instances need no coordination.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EventBus, ConsumedBatch, Subscription } from '../../shared/ports/event-bus.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { alertCommandSchema, alertEventSchema, deadLetterSchema, meterStatusSchema } from '../../shared/contracts/events.ts';
import { parseRecord, recordSource } from '../../shared/dead-letters.ts';
import { errorMessage } from '../../shared/errors.ts';
import type { AlertView } from './api/schemas.ts';
import type { ConsoleModels } from './console-models.ts';
import { sessionEventSchema, type SessionEvent } from './auth/session-revocations.ts';
import { submissionRecordSchema } from '../../shared/contracts/submissions.ts';

export interface LiveFeedsOptions {
  bus: EventBus;
  models: ConsoleModels;
  logger: Logger;
  /** A record skipped: `unreadable` (not its topic's schema) or `not-applied` (a read model threw on it). */
  onRecordRejected?: (topic: string, reason: SkipReason) => void;
  /** A sign-out or revocation, from this instance or another (eip.console-sessions.v1). */
  onSessionEvent?: (e: SessionEvent) => void;
  now?: () => number;
}

export type SkipReason = 'unreadable' | 'not-applied';

export class LiveFeeds {
  private readonly subscriptions: Subscription[] = [];
  private readonly listeners = new Set<(view: AlertView) => void>();
  private readonly now: () => number;
  private silenceTimer: NodeJS.Timeout | undefined;
  readonly instance = `console-${hostname().replace(/[^a-zA-Z0-9-]/g, '-')}-${process.pid}-${randomBytes(3).toString('hex')}`;

  private readonly o: LiveFeedsOptions;
  constructor(o: LiveFeedsOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  /** Called with every alert view that changed (a transition, or a silence starting or ending). */
  onAlert(listener: (view: AlertView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    const { bus } = this.o;
    this.subscriptions.push(await bus.subscribe({
      groupId: `${this.instance}-state`,
      topics: [topics.alerts.name, topics.alertCommands.name, topics.meterStatus.name, topics.deadLetters.name, topics.consoleSessions.name, topics.submissions.name],
      fromBeginning: true,
      maxBatchSize: 2_000,
      handleBatch: (batch) => Promise.resolve(this.handle(batch)),
    }));
    this.subscriptions.push(await bus.subscribe({
      groupId: `${this.instance}-seen`,
      topics: [topics.readings.name],
      fromBeginning: false,
      maxBatchSize: 5_000,
      handleBatch: (batch) => Promise.resolve(this.seen(batch)),
    }));
    // Silences start and end with time passing, not only with commands.
    this.silenceTimer = setInterval(() => this.remarkSilences(), 5_000);
    this.silenceTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.silenceTimer);
    await Promise.allSettled(this.subscriptions.map((s) => s.stop()));
    this.listeners.clear();
  }

  private handle(batch: ConsumedBatch): void {
    for (const m of batch.messages) {
      try {
        this.apply(batch.topic, m.value);
      } catch (err) {
        // Thrown back to the bus, the batch would come again and fail again for ever.
        this.rejected(batch.topic, `${recordSource(batch.topic, batch.partition, m.offset)}: ${errorMessage(err)}`, 'not-applied');
      }
    }
  }

  private apply(topic: string, value: Buffer | null): void {
    const { models } = this.o;
    switch (topic) {
      case topics.alerts.name: {
        const r = parseRecord(value, alertEventSchema, 'alert event');
        if (!r.ok) { this.rejected(topic, r.detail); break; }
        let view = models.alerts.apply(r.value);
        if (!view) break;
        const silenced = models.silences.mutes(view, this.now());
        if (silenced !== view.silenced) view = models.alerts.setSilenced(view.fingerprint, silenced) ?? view;
        this.emit(view);
        break;
      }
      case topics.alertCommands.name: {
        const r = parseRecord(value, alertCommandSchema, 'alert command');
        if (!r.ok) { this.rejected(topic, r.detail); break; }
        if (models.silences.apply(r.value)) this.remarkSilences();
        break;
      }
      case topics.meterStatus.name: {
        const r = parseRecord(value, meterStatusSchema, 'meter status');
        if (!r.ok) { this.rejected(topic, r.detail); break; }
        models.health.applyStatus(r.value);
        break;
      }
      case topics.deadLetters.name: {
        const r = parseRecord(value, deadLetterSchema, 'dead letter');
        if (!r.ok) { this.rejected(topic, r.detail); break; }
        models.deadLetters.add(r.value);
        break;
      }
      case topics.consoleSessions.name: {
        const r = parseRecord(value, sessionEventSchema, 'session event');
        if (!r.ok) { this.rejected(topic, r.detail); break; }
        this.o.onSessionEvent?.(r.value);
        break;
      }
      case topics.submissions.name: {
        // A tombstone (null) is compaction's business, not a submission.
        if (value === null) break;
        const r = parseRecord(value, submissionRecordSchema, 'submission record');
        if (!r.ok) { models.submissions.countUnreadable(); this.rejected(topic, r.detail); break; }
        models.submissions.apply(r.value);
        break;
      }
    }
  }

  /** Readings are keyed by meter: the key and the record time are all "last seen" needs. */
  private seen(batch: ConsumedBatch): void {
    for (const m of batch.messages) if (m.key) this.o.models.health.seen(m.key, m.timestamp);
  }

  private remarkSilences(): void {
    const now = this.now();
    const { models } = this.o;
    models.silences.prune(now);
    for (const view of models.alerts.markSilenced((v) => models.silences.mutes(v, now))) this.emit(view);
  }

  private emit(view: AlertView): void {
    for (const l of this.listeners) {
      try {
        l(view);
      } catch (err) {
        this.o.logger.warn({ err }, 'alert listener failed');
      }
    }
  }

  /**
   * Not the console's to dead-letter: every console instance reads every record,
   * so each would write its own dead letter of it, and one it cannot read on the
   * dead-letter topic would beget another; the stage that produced it owns that.
   * Counted (eip_console_records_skipped_total{topic,reason}) and logged instead.
   */
  private rejected(topic: string, detail: string, reason: SkipReason = 'unreadable'): void {
    this.o.onRecordRejected?.(topic, reason);
    this.o.logger.warn({ topic, reason, detail }, 'skipped a record the console cannot read or apply');
  }
}
