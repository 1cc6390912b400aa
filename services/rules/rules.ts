/**
 * The rules service's runtime. Inputs (readings, aggregates, meter status,
 * alert commands) go to the pure RulesEngine; each batch's transitions and the
 * engine's changed state records are written to Kafka together (eip.alerts.v1
 * and the compacted eip.alert-state.v1) before the batch's offsets commit.
 * History (time series) and notifications (MQTT, webhooks) follow from the
 * alerts topic under a consumer group of their own (alert-outputs.ts), at least once.
 *
 * Scaling out: instances of one group share the partitions of readings and
 * aggregates, and each holds the alert state of the bindings whose inputs
 * arrive on its partitions (domain/ownership.ts). When partitions are assigned
 * it loads their bindings' records from the compacted state topic; when they
 * are revoked it forgets them (they were written already, before each batch's
 * offsets committed). The engine treats replayed input as already seen, so a
 * restart or a partition moving neither repeats nor loses a transition.
 * Meter status and alert commands are keyed otherwise (3 partitions, or by
 * fingerprint): a router (its own consumer group) forwards each to the
 * partition of eip.rules-routed.v1 that matches the state it concerns, which
 * the group consumes co-partitioned with readings and aggregates; silence
 * commands go to every partition, as every instance needs every silence.
 */
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { alertCommandSchema, meterStatusSchema } from '../../shared/contracts/events.ts';
import { deadLetterMessage, parseRecord, recordSource, sinkRefusedMessage, type Parsed } from '../../shared/dead-letters.ts';
import type { ConsumedBatch, EventBus, OutgoingMessage, Subscription, TopicPartitions } from '../../shared/ports/event-bus.ts';
import { EipError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { deadLetterItem, publishIsolating, type PublishItem, type WriteContext } from '../../shared/write-isolating.ts';
import { PartitionOwner } from '../../shared/runtime/partition-owner.ts';
import type { Supervisor } from '../../shared/runtime/supervisor.ts';
import type { Home, RulesEngine, Transition } from './domain/index.ts';
import { fingerprintsOf, homePartition, type InputPartitions } from './domain/ownership.ts';
import type { RulesMetrics } from './metrics.ts';
import { parseAggregate, parseReadingBatch } from '../../shared/hot-inputs.ts';

export interface RulesRuntimeOptions {
  engine: RulesEngine;
  bus: EventBus;
  metrics: RulesMetrics;
  logger: Logger;
  group: string;
  tickIntervalMs: number;
  batchMax: number;
  /** Where an unexpected error of a tick goes (batches are supervised by the bus decorator). */
  supervisor: Supervisor;
  now?: () => number;
}

const stateKey = (fp: string): string => `state:${fp}`;
const silenceKey = (id: string): string => `silence:${id}`;
/** On a routed record: the topic it was read from. */
export const routedFromHeader = 'eip-routed-from';

export class RulesRuntime {
  private router: Subscription | undefined;
  private counts: InputPartitions & { routed: number } = { reading: 1, aggregate: 1, routed: 1 };
  /** Fingerprints held now (their partitions are assigned to this instance). */
  private held: string[] = [];
  /**
   * Batches and ticks take turns: the engine is not re-entrant. A write begun
   * before a revocation stops retrying, so a tick's output for state this
   * instance gave up does not land later, over what the next owner writes.
   */
  private readonly owner: PartitionOwner;
  private readonly now: () => number;

  private readonly o: RulesRuntimeOptions;
  constructor(o: RulesRuntimeOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.owner = new PartitionOwner({
      bus: o.bus, logger: o.logger, supervisor: o.supervisor,
      subscription: { groupId: o.group, topics: [topics.readings.name, topics.aggregates.name, topics.rulesRouted.name], copartitioned: true, fromBeginning: true, maxBatchSize: o.batchMax },
      onAssigned: (assigned) => this.assigned(assigned),
      onRevoked: (revoked) => this.revoked(revoked),
      handleBatch: (batch) => this.handle(batch),
      timer: { component: 'rules tick', everyMs: o.tickIntervalMs, turn: async () => { await this.commit(this.o.engine.tick(this.now()), []); } },
    });
  }

  async start(): Promise<void> {
    const [reading, aggregate, routed] = await Promise.all([topics.readings.name, topics.aggregates.name, topics.rulesRouted.name].map((t) => this.o.bus.partitionCount(t)));
    this.counts = { reading: reading!, aggregate: aggregate!, routed: routed! };
    if (this.counts.routed < Math.max(this.counts.reading, this.counts.aggregate)) {
      throw new EipError('CONFIG_INVALID', `${topics.rulesRouted.name} has ${this.counts.routed} partitions; it needs at least as many as ${topics.readings.name} (${this.counts.reading}) and ${topics.aggregates.name} (${this.counts.aggregate})`);
    }
    // Nothing is held until the group assigns partitions.
    this.o.engine.disown(this.o.engine.fingerprints());
    this.updateGauges();
    await this.owner.start();
    this.router = await this.o.bus.subscribe({
      groupId: `${this.o.group}.router`,
      topics: [topics.meterStatus.name, topics.alertCommands.name],
      fromBeginning: true,
      maxBatchSize: this.o.batchMax,
      handleBatch: (batch) => this.route(batch),
    });
  }

  async stop(): Promise<void> {
    await this.router?.stop();
    await this.owner.stop();
  }

  /** Fingerprints held, for tests and the ops page. */
  get ownedStates(): number {
    return this.held.length;
  }

  /** Loads the state of the bindings whose inputs arrive on the assigned partitions. */
  private async assigned(assigned: readonly TopicPartitions[]): Promise<void> {
    const of = (topic: string): Set<number> => new Set(assigned.find((a) => a.topic === topic)?.partitions ?? []);
    const fps = fingerprintsOf(this.o.engine.homesOf(), this.counts, { reading: of(topics.readings.name), aggregate: of(topics.aggregates.name) });
    const saved = await this.o.bus.readCompacted(topics.alertState.name);
    const wanted = new Set(fps.map(stateKey));
    const silences: unknown[] = [];
    const logger = this.o.logger;
    // Parsed one at a time as the engine takes them, and let go of: 100,000 parsed records are not held at once.
    function* states(): Generator<unknown> {
      for (const [key, value] of saved) {
        saved.delete(key);
        if (!wanted.has(key) && !key.startsWith('silence:')) continue;
        try {
          const json = JSON.parse(value.toString('utf8')) as unknown;
          if (key.startsWith('state:')) yield json;
          else silences.push(json);
        } catch (err) {
          logger.warn({ key, err: (err as Error).message }, 'unreadable state record ignored');
        }
      }
    }
    const r = this.o.engine.own(fps, states());
    const s = this.o.engine.replaceSilences(silences);
    this.o.engine.takeChangesJson();
    this.held = fps;
    for (const a of assigned) for (const p of a.partitions) this.o.metrics.partitions.set({ topic: a.topic, partition: String(p) }, 1);
    this.o.logger.info({ partitions: assigned.map((a) => `${a.topic}:${a.partitions.join(',')}`), ...r, silences: s.silences }, 'partitions assigned: alert state loaded');
    this.updateGauges();
  }

  /**
   * Gives up the state of the revoked partitions (a timer turn that starts
   * later finds nothing of theirs). Their records were written before their
   * batches committed.
   */
  private revoked(revoked: readonly TopicPartitions[]): void {
    const n = this.o.engine.disown(this.held);
    this.held = [];
    this.o.metrics.partitions.reset();
    this.o.logger.info({ partitions: revoked.map((a) => `${a.topic}:${a.partitions.join(',')}`), states: n }, 'partitions revoked: alert state released');
    this.updateGauges();
  }

  /** Forwards meter status and alert commands to the routed partition of the state they concern. */
  private async route(batch: ConsumedBatch): Promise<void> {
    const items: PublishItem[] = [];
    const context = this.context(this.owner.stopSignal);
    for (const m of batch.messages) {
      const out: OutgoingMessage[] = [];
      const headers = { ...m.headers, [routedFromHeader]: batch.topic };
      const to = (home: Home, key: string = home.key): void => {
        out.push({ topic: topics.rulesRouted.name, key, partition: homePartition(home, this.counts), value: m.value, headers });
      };
      // The record the bus refuses to take forward is dead-lettered as read.
      const item = (): void => {
        if (out.length) items.push({ messages: out, deadLetter: (error) => sinkRefusedMessage({ stage: 'rules', sink: 'bus', error, source: recordSource(batch.topic, batch.partition, m.offset), payload: m.value, receivedAt: this.now() }) });
      };
      if (batch.topic === topics.meterStatus.name) {
        const p = parseRecord(m.value, meterStatusSchema, 'meter status v1');
        // A bad record goes on, so the owner of its partition dead-letters it as before.
        if (p.ok) to({ input: 'reading', key: p.value.meter });
        else out.push({ topic: topics.rulesRouted.name, key: m.key, value: m.value, headers });
        item();
        continue;
      }
      const p = parseRecord(m.value, alertCommandSchema, 'alert command v1');
      if (!p.ok) {
        out.push({ topic: topics.rulesRouted.name, key: m.key, value: m.value, headers });
        item();
        continue;
      }
      const cmd = p.value;
      if (cmd.kind === 'silence' || cmd.kind === 'unsilence') {
        for (let partition = 0; partition < this.counts.routed; partition++) out.push({ topic: topics.rulesRouted.name, key: cmd.silenceId, partition, value: m.value, headers });
        item();
        continue;
      }
      const home = this.o.engine.homeOf(cmd.fingerprint);
      if (home) to(home);
      else this.o.logger.debug({ fingerprint: cmd.fingerprint, kind: cmd.kind }, 'command for an unknown fingerprint ignored');
      item();
    }
    if (items.length) await publishIsolating((messages) => this.o.bus.publish(messages), items, context);
    this.o.metrics.routed.inc({ topic: batch.topic }, batch.messages.length);
  }

  private context(signal: AbortSignal): WriteContext {
    return { stage: 'rules', logger: this.o.logger, metrics: this.o.metrics.sinks, signal };
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    const done = this.o.metrics.batchSeconds.startTimer();
    const transitions: Transition[] = [];
    const deadLetters: OutgoingMessage[] = [];
    for (const m of batch.messages) {
      this.o.metrics.inputs.inc({ topic: batch.topic });
      const now = this.now();
      const topic = batch.topic === topics.rulesRouted.name ? (m.headers[routedFromHeader] ?? batch.topic) : batch.topic;
      const out = this.dispatch(topic, m.value, now);
      if ('transitions' in out) {
        transitions.push(...out.transitions);
        continue;
      }
      this.o.metrics.invalid.inc({ topic: batch.topic });
      deadLetters.push(deadLetterMessage({ stage: 'rules', reason: 'bad-event', detail: out.error, source: recordSource(batch.topic, batch.partition, m.offset), payload: m.value, receivedAt: now }));
    }
    if (!(await this.commit(transitions, deadLetters))) throw new EipError('CLOSED', 'partitions revoked during the batch; it is left to their next owner');
    done();
  }

  private dispatch(topic: string, value: Buffer | null, now: number): { transitions: Transition[] } | { error: string } {
    const { engine } = this.o;
    const run = <T>(p: Parsed<T>, fn: (v: T) => Transition[]) => (p.ok ? { transitions: fn(p.value) } : { error: p.detail });
    switch (topic) {
      case topics.readings.name: return run(parseReadingBatch(value), (v) => engine.onReading(v, now));
      case topics.aggregates.name: return run(parseAggregate(value), (v) => engine.onAggregate(v, now));
      case topics.meterStatus.name: return run(parseRecord(value, meterStatusSchema, 'meter status v1'), (v) => engine.onMeterStatus(v, now));
      case topics.alertCommands.name: return run(parseRecord(value, alertCommandSchema, 'alert command v1'), (v) => engine.onCommand(v, now));
      default: return { error: `unexpected topic ${topic}` };
    }
  }

  /**
   * Writes transitions and changed state together before the caller's offsets
   * commit; history and notifications follow from the alerts topic (alert-outputs.ts). False when the partitions were revoked before the
   * write landed (nothing of it is known to have been written).
   */
  private async commit(transitions: Transition[], extra: OutgoingMessage[]): Promise<boolean> {
    const changes = this.o.engine.takeChangesJson();
    // An alert's transitions and its state record stand or fall together: the bus never holds one without the other.
    const byFingerprint = new Map<string, OutgoingMessage[]>();
    const of = (fp: string): OutgoingMessage[] => {
      let list = byFingerprint.get(fp);
      if (!list) byFingerprint.set(fp, (list = []));
      return list;
    };
    for (const t of transitions) of(t.event.fingerprint).push({ topic: topics.alerts.name, key: t.event.fingerprint, value: JSON.stringify(t.event) });
    let stateBytes = 0;
    for (const st of changes.states) {
      stateBytes += Buffer.byteLength(st.json);
      of(st.fp).push({ topic: topics.alertState.name, key: stateKey(st.fp), value: st.json });
    }
    const records: OutgoingMessage[][] = [
      ...byFingerprint.values(),
      ...changes.silences.map((sl) => [{ topic: topics.alertState.name, key: silenceKey(sl.id), value: JSON.stringify(sl) }]),
      ...changes.removedSilences.map((id) => [{ topic: topics.alertState.name, key: silenceKey(id), value: null }]),
    ];
    if (records.length === 0 && extra.length === 0) return true;
    const items: PublishItem[] = [
      ...records.map((messages): PublishItem => ({
        messages,
        deadLetter: (error) => sinkRefusedMessage({ stage: 'rules', sink: 'bus', error, source: messages.map((m) => m.topic).join(','), payload: Buffer.from(JSON.stringify(messages.map((m) => ({ topic: m.topic, key: m.key, value: m.value === null ? null : String(m.value) })))), receivedAt: this.now() }),
      })),
      ...extra.map(deadLetterItem),
    ];
    // Revoked meanwhile, the next owner loaded the state without this output and decides again from there; a batch is not committed.
    const written = this.o.metrics.writeSeconds.startTimer();
    const landed = await this.owner.guarded(async ({ publish, signal }) => { await publishIsolating(publish, items, this.context(signal)); }, () => ({ stage: 'rules', transitions: transitions.length, records: items.length }));
    if (!landed) return false;
    written();
    this.o.metrics.stateRecords.inc(changes.states.length);
    this.o.metrics.stateBytes.inc(stateBytes);
    if (transitions.length === 0) return true;
    const events = transitions.map((t) => t.event);
    for (const e of events) {
      this.o.metrics.transitions.inc({ state: e.state, severity: e.severity });
      this.o.logger.info({ fingerprint: e.fingerprint, rule: e.ruleId, state: e.state, severity: e.severity, park: e.park, tenant: e.tenant, meter: e.meter, summary: e.summary }, 'alert transition');
    }
    this.updateGauges();
    return true;
  }

  private updateGauges(): void {
    this.o.metrics.states.set(this.o.engine.owned);
    let open = 0;
    for (const _ of this.o.engine.alerts()) open++;
    this.o.metrics.firing.set(open);
  }
}
