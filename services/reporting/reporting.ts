/**
 * The reporting runtime: readings (SPARING's 2-minute records) and aggregates
 * (the stacks' 1 h meter windows) in, submissions out, through a durable outbox
 * on the compacted topic eip.report-submissions.v1.
 *
 * Every change to a period is written to the outbox before its input batch is
 * committed, so a crash loses nothing: on start the outbox is read back and
 * what is pending or failed is sent again. Each delivery carries the
 * idempotency key `<kind>:<station>:<period start>:r<revision>`; a receiver
 * that dedups on it never books a period twice, even when our acknowledgement
 * write was lost to a crash.
 */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { AggregateEvent, ReadingBatchEvent, Reading } from '../../shared/contracts/events.ts';
import type { ParkRegistry } from '../../shared/contracts/park-registry.ts';
import { submissionKey, submissionRecordSchema, type SubmissionKind, type SubmissionRecord, type SubmissionState } from '../../shared/contracts/submissions.ts';
import { deadLetterMessage, parseRecord, recordSource } from '../../shared/dead-letters.ts';
import { parseAggregate, parseReadingBatch } from '../../shared/hot-inputs.ts';
import { EipError, errorMessage } from '../../shared/errors.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import type { ConsumedBatch, EventBus, OutgoingMessage, Subscription } from '../../shared/ports/event-bus.ts';
import type { RetryPolicy } from '../../shared/retry.ts';
import { Serial } from '../../shared/runtime/serial.ts';
import { reportLoopError, type Supervisor } from '../../shared/runtime/supervisor.ts';
import { deadLetterItem, publishIsolating, writeIsolating } from '../../shared/write-isolating.ts';
import { sispekBodySchema, sparingPayloadSchema } from './domain/bodies.ts';
import { signHs256 } from './domain/jwt.ts';
import { afterAttempt, isDue, newRecord, withContent, type AttemptOutcome, type DueRules, type OutboxEntry } from './domain/outbox.ts';
import { inputsFromBody, sispekBody, type HourInput, type StackSettings } from './domain/sispek.ts';
import { addReadings, hourMs, hourOf, slotMs, slotOf, slotsFromRecords, slotsPerHour, sparingFields, sparingPayload, type DebitUnit, type SlotMap } from './domain/sparing.ts';
import type { MaintenancePeriod, SparingMode } from './config.ts';
import type { Delivery } from './receiver-client.ts';
import type { ReportingMetrics } from './metrics.ts';

export interface SparingStation {
  uid: string;
  park: string;
  tenant: string;
  meter: string;
  mode: SparingMode;
  secret: string;
}

export interface ReportingOptions {
  bus: EventBus;
  logger: Logger;
  supervisor: Supervisor;
  metrics: ReportingMetrics;
  group: string;
  /** Where a group without committed offsets starts. */
  fromBeginning: boolean;
  /** At start, refused submissions are pending again (the configuration may have been corrected). */
  resendRefused?: boolean;
  /** By meter id; empty when SPARING is off. */
  stations: ReadonlyMap<string, SparingStation>;
  /** By meter id; empty when SISPEK is off. */
  stacks: ReadonlyMap<string, StackSettings>;
  maintenance: readonly MaintenancePeriod[];
  sparingUrl: string;
  sispekUrl: string;
  debitUnit: DebitUnit;
  lookbackMs: number;
  tickMs: number;
  settleMs: number;
  sparingCloseAfterMs: number;
  sispekCloseAfterMs: number;
  receiverTimeoutMs: number;
  retryPolicy: RetryPolicy;
  deliver: (d: Delivery) => Promise<AttemptOutcome>;
  now?: () => number;
}

interface Entry extends OutboxEntry {
  slots?: SlotMap;
  inputs?: Map<string, HourInput>;
}

const stage = 'reporting';

/** SPARING stations and SISPEK stacks from the registry. */
export function reportingTargets(registry: ParkRegistry, o: { schedule: { fallback: SparingMode; byUid: ReadonlyMap<string, SparingMode> }; secretOf: (uid: string) => string; ranges: ReadonlyMap<string, number>; minCompleteness?: number }): { stations: Map<string, SparingStation>; stacks: Map<string, StackSettings> } {
  const stations = new Map<string, SparingStation>();
  const stacks = new Map<string, StackSettings>();
  for (const park of registry.parks) {
    for (const tenant of park.tenants) {
      for (const m of tenant.meters) {
        if (m.sparingUid !== undefined) {
          stations.set(m.id, { uid: m.sparingUid, park: park.id, tenant: tenant.id, meter: m.id, mode: o.schedule.byUid.get(m.sparingUid) ?? o.schedule.fallback, secret: o.secretOf(m.sparingUid) });
        }
        if (m.kind === 'stack-cems') {
          const ranges = new Map<string, number>();
          for (const metric of m.metrics) {
            const full = o.ranges.get(`${m.id}.${metric}`) ?? o.ranges.get(metric);
            if (full !== undefined) ranges.set(metric, full);
          }
          stacks.set(m.id, { stack: m.id, park: park.id, tenant: tenant.id, metrics: m.metrics, cadenceSeconds: m.cadenceSeconds, ranges, ...(o.minCompleteness !== undefined && { minCompleteness: o.minCompleteness }), ...(m.o2ReferencePercent !== undefined && { o2ReferencePercent: m.o2ReferencePercent }) });
        }
      }
    }
  }
  return { stations, stacks };
}

export class ReportingRuntime {
  private readonly entries = new Map<string, Entry>();
  private readonly stationsByUid = new Map<string, SparingStation>();
  /** Newest slot seen per SPARING station, epoch ms: an hour with a later record is over. */
  private readonly newest = new Map<string, number>();
  private readonly serial = new Serial();
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  private readonly o: ReportingOptions;
  constructor(o: ReportingOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    for (const s of o.stations.values()) this.stationsByUid.set(s.uid, s);
  }

  async start(): Promise<void> {
    await this.restore();
    const wanted = [...(this.o.stations.size > 0 ? [topics.readings.name] : []), ...(this.o.stacks.size > 0 ? [topics.aggregates.name] : [])];
    if (wanted.length > 0) {
      this.subscription = await this.o.bus.subscribe({ groupId: this.o.group, topics: wanted, fromBeginning: this.o.fromBeginning, handleBatch: (b) => this.serial.run(() => this.handleBatch(b)) });
    }
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().catch((err: unknown) => reportLoopError(this.o.supervisor, this.o.logger, 'reporting outbox', err, 'outbox tick failed')).finally(() => { this.ticking = undefined; });
    }, this.o.tickMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.ticking;
    await this.subscription?.stop();
    await this.serial.idle();
  }

  /** The outbox as held now (tests and the ops log). */
  snapshot(): SubmissionRecord[] {
    return [...this.entries.values()].map((e) => e.record);
  }

  private async restore(): Promise<void> {
    const outbox = await this.o.bus.readCompacted(topics.submissions.name);
    let resumed = 0;
    for (const value of outbox.values()) {
      const parsed = parseRecord(value, submissionRecordSchema, 'submission');
      if (!parsed.ok) continue;
      const stored = parsed.value;
      const record = stored.state === 'refused' && this.o.resendRefused === true ? { ...stored, state: 'pending' as const } : stored;
      const body = record.body;
      if (body === undefined) continue;
      const entry: Entry = { record, changedAt: -Infinity, nextAttemptAt: record.state === 'refused' ? Infinity : 0 };
      try {
        if (record.kind === 'sparing') {
          const station = this.stationsByUid.get(record.station);
          if (!station) continue;
          entry.slots = slotsFromRecords(sparingPayloadSchema.parse(JSON.parse(body)).data);
          for (const datetime of entry.slots.keys()) this.newest.set(station.uid, Math.max(this.newest.get(station.uid) ?? 0, datetime * 1000));
        } else {
          if (!this.o.stacks.has(record.station)) continue;
          entry.inputs = inputsFromBody(sispekBodySchema.parse(JSON.parse(body)));
        }
      } catch (err) {
        this.o.logger.warn({ key: submissionKey(record), err: errorMessage(err) }, 'outbox record with a body that does not read back: left as it is');
        continue;
      }
      this.entries.set(submissionKey(record), entry);
      if (record.state === 'pending' || record.state === 'failed') resumed++;
    }
    this.updateGauges();
    this.o.logger.info({ submissions: this.entries.size, resumed }, 'outbox read back');
  }

  private async handleBatch(batch: ConsumedBatch): Promise<void> {
    const changed = new Set<Entry>();
    const deadLetters: OutgoingMessage[] = [];
    const now = this.now();
    // An unreadable record goes to the dead letters with its reason, as in every other stage, and the batch carries on.
    const refuse = (topic: string, detail: string, offset: string, payload: Buffer | null): void => {
      this.o.metrics.records.inc({ topic, outcome: 'invalid' });
      deadLetters.push(deadLetterMessage({ stage, reason: 'bad-event', detail, source: recordSource(batch.topic, batch.partition, offset), payload, receivedAt: now }));
    };
    for (const m of batch.messages) {
      if (batch.topic === topics.readings.name) {
        const parsed = parseReadingBatch(m.value);
        if (!parsed.ok) { refuse('readings', parsed.detail, m.offset, m.value); continue; }
        this.onReadings(parsed.value, now, changed);
      } else if (batch.topic === topics.aggregates.name) {
        const parsed = parseAggregate(m.value);
        if (!parsed.ok) { refuse('aggregates', parsed.detail, m.offset, m.value); continue; }
        this.onAggregate(parsed.value, now, changed);
      }
    }
    // Dead letters first: the offsets commit only after both are written.
    if (deadLetters.length > 0) {
      await publishIsolating((messages) => this.o.bus.publish(messages), deadLetters.map(deadLetterItem), { stage, logger: this.o.logger, metrics: this.o.metrics.sinks, signal: this.abort.signal });
    }
    await this.persist([...changed].map((e) => e.record));
  }

  private onReadings(event: ReadingBatchEvent, now: number, changed: Set<Entry>): void {
    const station = this.o.stations.get(event.meter);
    if (!station || station.park !== event.park) {
      this.o.metrics.records.inc({ topic: 'readings', outcome: 'ignored' });
      return;
    }
    const periodMs = station.mode === 'hourly' ? hourMs : slotMs;
    const byPeriod = new Map<number, Reading[]>();
    for (const r of event.readings) {
      if (r.ts < now - this.o.lookbackMs) continue;
      const start = station.mode === 'hourly' ? hourOf(r.ts) : slotOf(r.ts) * 1000;
      const list = byPeriod.get(start) ?? [];
      list.push(r);
      byPeriod.set(start, list);
      this.newest.set(station.uid, Math.max(this.newest.get(station.uid) ?? 0, slotOf(r.ts) * 1000));
    }
    this.o.metrics.records.inc({ topic: 'readings', outcome: byPeriod.size > 0 ? 'used' : 'too-old' });
    for (const [start, readings] of byPeriod) {
      const key = submissionKey({ kind: 'sparing', station: station.uid, periodStart: start });
      const entry = this.entries.get(key) ?? this.fresh('sparing', station.uid, start, start + periodMs, station.park, station.tenant, station.meter, now);
      entry.slots ??= new Map();
      if (!addReadings(entry.slots, readings, this.o.debitUnit)) continue;
      const slots = entry.slots;
      const bodyFor = (revision: number): string => JSON.stringify(sparingPayload(station.uid, slots, { start: start / 1000, end: (start + periodMs) / 1000, revision }));
      if (this.setContent(entry, key, bodyFor, slots.size, periodMs / slotMs, now)) changed.add(entry);
    }
  }

  private onAggregate(a: AggregateEvent, now: number, changed: Set<Entry>): void {
    const stack = a.scope === 'meter' && a.window === '1h' && a.meter !== undefined ? this.o.stacks.get(a.meter) : undefined;
    if (!stack || stack.park !== a.park) {
      this.o.metrics.records.inc({ topic: 'aggregates', outcome: 'ignored' });
      return;
    }
    if (a.end < now - this.o.lookbackMs) {
      this.o.metrics.records.inc({ topic: 'aggregates', outcome: 'too-old' });
      return;
    }
    this.o.metrics.records.inc({ topic: 'aggregates', outcome: 'used' });
    const key = submissionKey({ kind: 'sispek', station: stack.stack, periodStart: a.start });
    const entry = this.entries.get(key) ?? this.fresh('sispek', stack.stack, a.start, a.end, stack.park, stack.tenant, stack.stack, now);
    entry.inputs ??= new Map();
    const prev = entry.inputs.get(a.metric);
    if (prev !== undefined && prev.windowRevision >= a.revision) return;
    const expected = a.expected ?? Math.max(1, Math.round((a.end - a.start) / 1000 / stack.cadenceSeconds));
    entry.inputs.set(a.metric, { unit: a.unit, mean: a.mean, min: a.min, max: a.max, count: a.count, expected, windowRevision: a.revision });
    const counts = [...entry.inputs.values()].map((i) => i.count);
    if (this.setContent(entry, key, (revision) => this.sispekBodyOf(stack, entry, revision), Math.max(0, ...counts), Math.round(expected), now)) changed.add(entry);
  }

  private sispekBodyOf(stack: StackSettings, entry: Entry, revision: number): string {
    const { periodStart, periodEnd } = entry.record;
    const inMaintenance = this.o.maintenance.some((p) => p.stack === stack.stack && p.start < periodEnd && p.end > periodStart);
    return JSON.stringify(sispekBody(stack, periodStart, periodEnd, entry.inputs ?? new Map(), revision, inMaintenance));
  }

  private fresh(kind: SubmissionKind, station: string, start: number, end: number, park: string, tenant: string | undefined, meter: string, now: number): Entry {
    return { record: newRecord({ kind, station, park, ...(tenant !== undefined && { tenant }), meter, periodStart: start, periodEnd: end, records: 0, expected: 0 }, now), changedAt: now, nextAttemptAt: 0 };
  }

  /**
   * Sets the period's content to bodyFor(revision) if it differs from what the
   * outbox holds; a new revision (content changed after an attempt) gets a body
   * naming it. Returns whether anything changed.
   */
  private setContent(entry: Entry, key: string, bodyFor: (revision: number) => string, records: number, expected: number, now: number): boolean {
    const body = bodyFor(entry.record.revision);
    if (body === entry.record.body) return false;
    const before = entry.record.revision;
    entry.record = withContent(entry.record, body, records, expected, now);
    if (entry.record.revision !== before) {
      this.o.metrics.revisions.inc({ kind: entry.record.kind });
      entry.record.body = bodyFor(entry.record.revision);
    }
    entry.changedAt = now;
    entry.nextAttemptAt = 0;
    this.entries.set(key, entry);
    return true;
  }

  /** Outbox writes through the one isolating write: retried while the bus is down, a record it refuses logged. */
  private async persist(records: readonly SubmissionRecord[]): Promise<void> {
    if (records.length === 0) return;
    await writeIsolating(records, {
      stage, sink: 'bus', logger: this.o.logger, metrics: this.o.metrics.sinks, signal: this.abort.signal,
      write: (part) => this.o.bus.publish(part.map((r) => ({ topic: topics.submissions.name, key: submissionKey(r), value: JSON.stringify(r), timestamp: r.updatedAt }))),
      onRefused: ({ item, error }) => { this.o.logger.error({ key: submissionKey(item), code: error.code, err: error.message }, 'the bus refused an outbox record: its state is kept in memory only until the next change'); },
    });
  }

  private complete(entry: Entry): boolean {
    const r = entry.record;
    if (r.kind === 'sparing') {
      const station = this.stationsByUid.get(r.station);
      const filled = (entry.slots?.size ?? 0) >= Math.round((r.periodEnd - r.periodStart) / slotMs)
        && [...(entry.slots?.values() ?? [])].every((s) => sparingFields.every((f) => s.values[f] !== undefined));
      return filled || (station !== undefined && (this.newest.get(station.uid) ?? 0) >= r.periodEnd);
    }
    const stack = this.o.stacks.get(r.station);
    return stack !== undefined && stack.metrics.every((m) => entry.inputs?.has(m));
  }

  private async tick(): Promise<void> {
    const now = this.now();
    const rules = (kind: SubmissionKind): DueRules => ({ settleMs: this.o.settleMs, closeAfterMs: kind === 'sparing' ? this.o.sparingCloseAfterMs : this.o.sispekCloseAfterMs });
    const due = [...this.entries.values()].filter((e) => isDue(e, now, rules(e.record.kind), this.complete(e))).sort((a, b) => a.record.periodStart - b.record.periodStart);
    for (const entry of due) {
      if (this.abort.signal.aborted) return;
      const sent = entry.record;
      const outcome = await this.attempt(sent);
      await this.serial.run(async () => {
        const key = submissionKey(sent);
        const current = this.entries.get(key);
        // Content changed while the request was out: the new revision goes next, this outcome is for an old body.
        if (!current || current.record.revision !== sent.revision || current.record.body !== sent.body) return;
        const next: Entry = { ...current, ...afterAttempt(current, outcome, this.now(), this.o.retryPolicy) };
        this.entries.set(key, next);
        this.o.metrics.attempts.inc({ kind: sent.kind, outcome: outcome.kind });
        const log = { key, revision: sent.revision, records: sent.records, expected: sent.expected, attempts: next.record.attempts };
        if (outcome.kind === 'sent') {
          this.o.logger.info(log, 'submission accepted');
          if (sent.kind === 'sparing' && sent.expected === slotsPerHour) this.o.metrics.hourCompleteness.set({ station: sent.station }, sent.records / slotsPerHour);
        } else if (outcome.kind === 'refused') this.o.logger.error({ ...log, err: outcome.message }, 'receiver refused the submission: sent again only with new content, or at a restart with REPORTING_RESEND_REFUSED=true');
        else this.o.logger.warn({ ...log, err: outcome.message, retryInMs: next.nextAttemptAt - this.now() }, 'submission failed: retrying');
        await this.persist([next.record]);
      });
    }
    this.prune(now);
    this.updateGauges();
  }

  private async attempt(record: SubmissionRecord): Promise<AttemptOutcome> {
    if (record.body === undefined || record.idempotencyKey === undefined) return { kind: 'refused', message: 'no body' };
    let url = this.o.sispekUrl;
    let body = record.body;
    if (record.kind === 'sparing') {
      const station = this.stationsByUid.get(record.station);
      if (!station) return { kind: 'refused', message: `station ${record.station} is not in the registry any more` };
      url = this.o.sparingUrl;
      body = JSON.stringify({ token: signHs256(JSON.parse(record.body), station.secret) });
    }
    try {
      return await this.o.deliver({ url, body, idempotencyKey: record.idempotencyKey, timeoutMs: this.o.receiverTimeoutMs, signal: this.abort.signal });
    } catch (err) {
      if (err instanceof EipError && err.code === 'CLOSED') throw err;
      return { kind: 'failed', error: err, message: errorMessage(err) };
    }
  }

  /** Periods done with and past the lookback leave memory (the topic keeps them). */
  private prune(now: number): void {
    for (const [key, e] of this.entries) {
      if ((e.record.state === 'sent' || e.record.state === 'refused') && e.record.periodEnd < now - this.o.lookbackMs) this.entries.delete(key);
    }
  }

  private updateGauges(): void {
    const counts = new Map<string, number>();
    for (const kind of ['sparing', 'sispek'] as const) for (const state of ['pending', 'sent', 'failed', 'refused'] as const) counts.set(`${kind}/${state}`, 0);
    for (const e of this.entries.values()) counts.set(`${e.record.kind}/${e.record.state}`, (counts.get(`${e.record.kind}/${e.record.state}`) ?? 0) + 1);
    for (const [k, n] of counts) {
      const [kind, state] = k.split('/') as [SubmissionKind, SubmissionState];
      this.o.metrics.outbox.set({ kind, state }, n);
    }
  }
}
