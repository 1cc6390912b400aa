/**
 * The fuzzed properties, shared by the test suite (a modest, seeded run in
 * `npm test`) and bench/fuzz.ts (the long run). Each throws on a violation.
 *
 * - decode never throws; it yields readings a sink can hold (finite values,
 *   integer times within the bounds, safe-integer seq, valid bus event and
 *   store points), a status within the bounds, or a dead letter with a reason;
 * - the ingest pipeline on the embedded adapters stores or dead-letters every
 *   input, the counts add up, no sink refuses a batch, and valid readings
 *   behind any poison (and after it) are stored;
 * - the aggregator, roll-up and rules cores take any schema-valid records
 *   without throwing and emit only finite, schema-valid events and checkpoints.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregateEventSchema, alertEventSchema, deadLetterReasonSchema, deadLetterSchema, meterStatusSchema, readingBatchEventSchema, type AggregateEvent, type MeterStatusEvent, type ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { telemetryTopic } from '../../shared/contracts/mqtt-topics.ts';
import { readingLine } from '../../shared/adapters/influxdb/line-protocol.ts';
import { checkReadings } from '../../shared/adapters/sqlite-timeseries/validate.ts';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import type { ReadingPoint } from '../../shared/ports/time-series.ts';
import { decode, type Decoded, type DecodeOptions } from '../../services/ingest/domain/decode.ts';
import { IngestPipeline } from '../../services/ingest/pipeline.ts';
import { Spool } from '../../services/ingest/spool.ts';
import { createIngestMetrics } from '../../services/ingest/metrics.ts';
import { WindowAggregator, RollupCombiner, parseAggregatorState, parseRollupState, partialsMessageSchema, watermarkFrom, type PartialsMessage } from '../../services/aggregator/domain/window-aggregator.ts';
import { SampleRun, type SetOutcome } from '../../services/aggregator/domain/samples.ts';
import { metricCatalogue, isMetricName } from '../../shared/contracts/metric-catalogue.ts';
import { RulesEngine, defaultRulePackPath, parseRulePack, stateRecordSchema } from '../../services/rules/domain/index.ts';
import {
  aggregateArb, aggregateFor, anyJsonArb, DAY, envelopeArb, messageArb, meterArb, meterStatusArb, NOW, payloadArb, readingBatchArb, readingBatchFor, registry, senmlArb, toJsonText, topicArb, type Message,
} from './fuzz-arbitraries.ts';
import { waitFor } from './bus.ts';

const decodeOptions: DecodeOptions = { registry, maxFutureMs: 300_000, maxPastMs: 29 * DAY, maxPayloadBytes: 65_536 };

/** Every number anywhere in a value is finite (JSON would turn the others into null). */
function assertFinite(value: unknown, path = '$'): void {
  if (typeof value === 'number') assert.ok(Number.isFinite(value), `${path} is ${value}`);
  else if (Array.isArray(value)) value.forEach((v, i) => assertFinite(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertFinite(v, `${path}.${k}`);
}

/** What a consumer reads back: the value through JSON, validated by its schema. */
function throughJson<T>(schema: { safeParse: (v: unknown) => { success: boolean; error?: unknown } }, value: T, what: string): void {
  assertFinite(value, what);
  const r = schema.safeParse(JSON.parse(JSON.stringify(value)));
  assert.ok(r.success, `${what} does not survive JSON and its schema: ${String(r.error)}`);
}

/** The decode property's judgement of one result. */
function assertDecoded(d: Decoded, receivedAt: number, options: DecodeOptions = decodeOptions): void {
  if (d.kind === 'dead') {
    assert.ok(deadLetterReasonSchema.safeParse(d.reason).success, `unknown reason ${d.reason}`);
    assert.equal(typeof d.detail, 'string');
    return;
  }
  const upper = receivedAt + options.maxFutureMs;
  if (d.kind === 'status') {
    assert.ok(Number.isSafeInteger(d.at) && d.at >= 0 && d.at <= upper, `status time ${d.at}`);
    throughJson(meterStatusSchema, { v: 1, park: d.park, tenant: d.tenant, meter: d.meter, status: d.status, cause: 'birth', at: d.at, simulated: d.simulated }, 'meter status');
    return;
  }
  const lower = Math.max(0, receivedAt - options.maxPastMs);
  assert.ok(d.readings.length > 0, 'no readings');
  assert.ok(Number.isSafeInteger(d.seq) && d.seq >= 0, `seq ${d.seq}`);
  const points: ReadingPoint[] = [];
  for (const r of d.readings) {
    assert.ok(Number.isFinite(r.value), `value ${r.value}`);
    assert.ok(Number.isSafeInteger(r.ts) && r.ts >= lower && r.ts <= upper, `time ${r.ts} outside [${lower}, ${upper}]`);
    points.push({ park: d.park, tenant: d.tenant, meter: d.meter, metric: r.metric, unit: r.unit, value: r.value, ts: r.ts });
  }
  const event: ReadingBatchEvent = { v: 1, park: d.park, tenant: d.tenant, meter: d.meter, seq: d.seq, receivedAt, simulated: d.simulated, readings: d.readings };
  throughJson(readingBatchEventSchema, event, 'reading batch');
  // Both stores' own checks: what they would refuse as PAYLOAD_INVALID.
  points.forEach((p, i) => readingLine(p, i));
  checkReadings(points);
}

const decodeProperty = (payload: fc.Arbitrary<Buffer>) => fc.property(topicArb(), payload, fc.integer({ min: -DAY, max: DAY }), (topic, bytes, skew) => {
  const receivedAt = NOW + skew;
  assertDecoded(decode(topic, bytes, receivedAt, decodeOptions), receivedAt);
});

// ---- the ingest pipeline -------------------------------------------------

const logger = quietLogger();
const validMeter = { park: 'nusantara-eip', tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet' };
const validTopic = telemetryTopic(validMeter.park, validMeter.tenant, validMeter.meter);
const validPayload = (seq: number): Buffer => Buffer.from(JSON.stringify({ v: 1, ts: NOW - DAY + seq * 60_000, seq, readings: [{ metric: 'cod', value: 40 + seq, unit: 'mg/L' }] }));

const sumOf = async (metric: { get: () => Promise<{ values: Array<{ value: number }> }> }): Promise<number> => (await metric.get()).values.reduce((s, v) => s + v.value, 0);

/**
 * One pipeline per case, on a fresh spool folder, SQLite bus and store: the
 * plan's poison (null stands for the next valid message of a meter the poison
 * never uses, so no poison can take its (meter, seq)), one valid message behind
 * all of it, and one more once the loop has drained the poison.
 */
export async function pipelineCase(plan: ReadonlyArray<Message | null>, expect: { deadLetters?: number } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-pipeline-'));
  const bus = createSqliteBus({ path: ':memory:', logger });
  const store = createSqliteStore({ path: ':memory:', logger });
  const spool = Spool.open({ dir, logger });
  const metrics = createIngestMetrics(createMetricsRegistry('ingest-fuzz'));
  const p = new IngestPipeline({ spool, metrics, logger, bus, store, decode: decodeOptions, batchMaxMessages: 16, maxPending: 100_000, dedupWindow: 1024, now: () => NOW });
  let acked = 0;
  let seq = 0;
  let sent = 0;
  const send = (topic: string, payload: Buffer): void => {
    sent++;
    p.onMessage(topic, payload, () => acked++);
  };
  const drained = async (label: string): Promise<void> => {
    await waitFor(async () => {
      // A retried write means a sink refused what decode let through: fail now, not at the timeout.
      const retries = await sumOf(metrics.sinks.retries);
      assert.equal(retries, 0, 'a sink refused a batch that decode passed (retried write)');
      return spool.pending === 0;
    }, 20_000, label, 5);
  };
  try {
    for (const m of plan) {
      if (m === null) send(validTopic, validPayload(seq++));
      else send(m.topic, m.payload);
    }
    send(validTopic, validPayload(seq++));
    p.start();
    await drained('the poison and the valid messages drained');
    send(validTopic, validPayload(seq++));
    await drained('a message after the poison drained');
    await p.stop();

    assert.equal(acked, sent, 'every message spooled is acknowledged');
    const dead = await sumOf(metrics.deadLettered);
    const written = await sumOf(metrics.messagesWritten);
    const duplicates = await sumOf(metrics.duplicates);
    const statuses = await sumOf(metrics.statusEvents);
    assert.equal(await sumOf(metrics.received), sent);
    if (expect.deadLetters !== undefined) assert.equal(dead, expect.deadLetters, 'dead letters');
    assert.equal(dead + written + duplicates + statuses, sent, `dead ${dead} + written ${written} + duplicates ${duplicates} + status ${statuses} != ${sent} inputs`);

    const stored = await store.queryAggregate({ scope: { park: validMeter.park, meter: validMeter.meter }, metric: 'cod', from: 0, to: NOW + DAY, fn: 'count' });
    assert.equal(stored.reduce((s, b) => s + b.value, 0), seq, 'every valid reading is stored, behind and after the poison');

    const seen = new Map<string, number>();
    const reasons: unknown[] = [];
    const sub = await bus.subscribe({
      groupId: 'fuzz-check', topics: [topics.readings.name, topics.deadLetters.name, topics.meterStatus.name], fromBeginning: true,
      handleBatch: async (b) => {
        seen.set(b.topic, (seen.get(b.topic) ?? 0) + b.messages.length);
        if (b.topic === topics.deadLetters.name) for (const m of b.messages) reasons.push(JSON.parse(m.value?.toString() ?? 'null'));
      },
    });
    try {
      const expect = (t: string) => seen.get(t) ?? 0;
      await waitFor(() => expect(topics.readings.name) === written && expect(topics.deadLetters.name) === dead && expect(topics.meterStatus.name) === statuses, 20_000, 'every outcome on the bus', 5);
    } finally {
      await sub.stop();
    }
    for (const d of reasons) assert.ok(deadLetterSchema.safeParse(d).success, `dead letter ${JSON.stringify(d)}`);
  } finally {
    spool.close();
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const planArb = fc.array(fc.oneof({ arbitrary: messageArb({ exclude: validMeter.meter }), weight: 3 }, { arbitrary: fc.constant(null), weight: 1 }), { maxLength: 40 });

// ---- the aggregator and roll-up stage ------------------------------------

const HOUR = 3_600_000;
const aggOptions = { registry, allowedLatenessMs: 2 * HOUR };
const rollupOptions = { allowedLatenessMs: 2 * HOUR, idleSourceMs: 60_000 };

function aggregatorCase(batches: readonly ReadingBatchEvent[], lags: ReadonlyArray<number | null>): void {
  const agg = new WindowAggregator(aggOptions);
  const combiner = new RollupCombiner(rollupOptions);
  let now = NOW;
  const flushAt = (wm: number): void => {
    const r = agg.flush(wm);
    for (const e of r.events) throughJson(aggregateEventSchema, e, `meter aggregate ${e.windowId}`);
    const message: PartialsMessage = { v: 1, group: 'fuzz', source: 0, sources: 1, watermark: agg.watermark ?? null, partials: r.partials };
    assertFinite(message, 'partials');
    const parsed = partialsMessageSchema.parse(JSON.parse(JSON.stringify(message)));
    combiner.add({ source: parsed.source, sources: parsed.sources, watermark: parsed.watermark, partials: parsed.partials }, now);
    for (const e of combiner.flush(now)) throughJson(aggregateEventSchema, e, `roll-up ${e.windowId}`);
  };
  batches.forEach((b, i) => {
    agg.record(b);
    now += 1000;
    const lag = lags[i];
    if (lag !== undefined && lag !== null) flushAt(watermarkFrom(agg.maxEventTime ?? NOW, lag));
  });
  flushAt((agg.maxEventTime ?? NOW) + 3 * DAY);
  now += 2 * rollupOptions.idleSourceMs;
  for (const e of combiner.flush(now)) throughJson(aggregateEventSchema, e, `roll-up ${e.windowId}`);
  // Checkpoints go through JSON too, and come back.
  WindowAggregator.restore(parseAggregatorState(JSON.parse(JSON.stringify(agg.snapshot()))), aggOptions);
  RollupCombiner.restore(parseRollupState(JSON.parse(JSON.stringify(combiner.snapshot()))), rollupOptions, now);
}

// ---- a fine window's samples: the compact holder against the map it replaced --

/** Inserts of a few event times (duplicates, replacements, any order), values including -0 and the extremes. */
const sampleOpsArb = fc.array(fc.record({
  dt: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 59_999 })),
  value: fc.oneof(fc.constantFrom(0, -0, 1, 2.5, -1e308, 1e308, Number.MAX_VALUE), fc.double({ noNaN: true, noDefaultInfinity: true })),
  simulated: fc.boolean(),
}), { maxLength: 80 });

/** What the map of samples by event time did: a redelivery is a no-op, a new value or flag replaces the held one. */
function mapModel(ops: ReadonlyArray<{ dt: number; value: number; simulated: boolean }>, base: number): { outcomes: SetOutcome[]; samples: Array<[number, number, boolean]> } {
  const m = new Map<number, { value: number; simulated: boolean }>();
  const outcomes: SetOutcome[] = [];
  for (const o of ops) {
    const held = m.get(base + o.dt);
    if (held && held.value === o.value && held.simulated === o.simulated) {
      outcomes.push('same');
      continue;
    }
    outcomes.push(held ? 'replaced' : 'added');
    m.set(base + o.dt, { value: o.value, simulated: o.simulated });
  }
  return { outcomes, samples: [...m].sort(([a], [b]) => a - b).map(([ts, v]) => [ts, v.value, v.simulated]) };
}

function sampleRunCase(ops: ReadonlyArray<{ dt: number; value: number; simulated: boolean }>): void {
  const base = NOW - (NOW % 60_000);
  const run = new SampleRun(base);
  const outcomes = ops.map((o) => run.set(base + o.dt, o.value, o.simulated));
  const held: Array<[number, number, boolean]> = Array.from({ length: run.size }, (_, i) => [run.timeAt(i), run.valueAt(i), run.simulatedAt(i)]);
  const model = mapModel(ops, base);
  assert.deepEqual(outcomes, model.outcomes, 'outcome of each insert');
  assert.deepEqual(held, model.samples, 'samples in event-time order');
}

/** The same inserts as readings of one meter's minute, in batches: the aggregator's counts and checkpoint follow the map. */
function sampleWindowCase(ops: ReadonlyArray<{ dt: number; value: number; simulated: boolean }>, cuts: readonly number[]): void {
  const entry = registry.registry.parks[0]!.tenants[0]!.meters[0]!;
  const metric = entry.metrics.find(isMetricName)!;
  const park = registry.registry.parks[0]!.id;
  const tenant = registry.registry.parks[0]!.tenants[0]!.id;
  const base = NOW - (NOW % 60_000);
  const agg = new WindowAggregator({ ...aggOptions, windows: ['1m'] });
  let duplicates = 0;
  let from = 0;
  for (const at of [...cuts.map((c) => c % (ops.length + 1)).sort((a, b) => a - b), ops.length]) {
    if (at <= from) continue;
    // One reading per event: within an event the schema does not hold two of one metric and time.
    for (const o of ops.slice(from, at)) {
      const r = agg.record({ v: 1, park, tenant, meter: entry.id, seq: 0, receivedAt: NOW, simulated: o.simulated, readings: [{ metric, unit: metricCatalogue[metric].unit, value: o.value, ts: base + o.dt }] });
      duplicates += r.duplicates;
    }
    from = at;
  }
  const model = mapModel(ops, base);
  assert.equal(duplicates, model.outcomes.filter((o) => o === 'same').length, 'duplicates counted');
  const fine = agg.snapshot().series.flatMap((s) => s.fine);
  const x = model.samples.map(([ts, value, sim]) => (sim ? [ts - base, value, 1] : [ts - base, value]));
  assert.deepEqual(fine.map((f) => f.x), x.length === 0 ? [] : [x], 'checkpoint samples');
  const back = WindowAggregator.restore(parseAggregatorState(JSON.parse(JSON.stringify(agg.snapshot()))), { ...aggOptions, windows: ['1m'] });
  assert.deepEqual(back.snapshot(), parseAggregatorState(JSON.parse(JSON.stringify(agg.snapshot()))), 'restores to the same');
}

// ---- the rules engine ------------------------------------------------------

const pack = parseRulePack(readFileSync(defaultRulePackPath, 'utf8'), defaultRulePackPath);

type RulesInput = { k: 'reading'; x: ReadingBatchEvent } | { k: 'aggregate'; x: AggregateEvent } | { k: 'status'; x: MeterStatusEvent } | { k: 'tick'; x: number };

/** Inputs for one meter mostly (so they meet the same bindings), and now and then any meter's. */
const rulesInputsArb: fc.Arbitrary<RulesInput[]> = meterArb.chain((m) => fc.array(fc.oneof(
  { arbitrary: readingBatchFor(m).map((x) => ({ k: 'reading' as const, x })), weight: 6 },
  { arbitrary: aggregateFor(m).map((x) => ({ k: 'aggregate' as const, x })), weight: 6 },
  { arbitrary: readingBatchArb.map((x) => ({ k: 'reading' as const, x })), weight: 1 },
  { arbitrary: aggregateArb.map((x) => ({ k: 'aggregate' as const, x })), weight: 1 },
  { arbitrary: meterStatusArb.map((x) => ({ k: 'status' as const, x })), weight: 1 },
  { arbitrary: fc.nat(2 * HOUR).map((x) => ({ k: 'tick' as const, x })), weight: 1 },
), { maxLength: 40 }));

function rulesCase(inputs: readonly RulesInput[]): void {
  const engine = new RulesEngine(pack, registry);
  let now = NOW;
  for (const input of inputs) {
    now += 1000;
    const out = input.k === 'reading' ? engine.onReading(input.x, now)
      : input.k === 'aggregate' ? engine.onAggregate(input.x, now)
        : input.k === 'status' ? engine.onMeterStatus(input.x, now)
          : engine.tick((now += input.x));
    for (const t of out) throughJson(alertEventSchema, t.event, `alert ${t.event.fingerprint}`);
  }
  for (const s of engine.takeChanges().states) throughJson(stateRecordSchema, s, 'rule state');
  const again = new RulesEngine(pack, registry);
  again.restore(JSON.parse(JSON.stringify(engine.snapshot())) as { states: unknown[] });
}

// ---- the list ----------------------------------------------------------------

interface FuzzProperty {
  name: string;
  /** Share of the requested runs this property makes: the pipeline case builds a pipeline, so it runs fewer. */
  runsShare: number;
  property: () => fc.IRawProperty<never, boolean>;
}

const asRaw = <T extends unknown[], A extends boolean>(p: fc.IRawProperty<T, A>): fc.IRawProperty<never, boolean> => p as unknown as fc.IRawProperty<never, boolean>;

export const fuzzProperties: readonly FuzzProperty[] = [
  { name: 'decode: arbitrary bytes', runsShare: 1, property: () => asRaw(decodeProperty(fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)))) },
  { name: 'decode: arbitrary JSON', runsShare: 1, property: () => asRaw(decodeProperty(anyJsonArb.map((v) => Buffer.from(JSON.stringify(v))))) },
  { name: 'decode: envelopes', runsShare: 1, property: () => asRaw(decodeProperty(envelopeArb.map((v) => Buffer.from(toJsonText(v))))) },
  { name: 'decode: SenML packs', runsShare: 1, property: () => asRaw(decodeProperty(senmlArb.map((v) => Buffer.from(toJsonText(v))))) },
  { name: 'decode: any payload', runsShare: 1, property: () => asRaw(decodeProperty(payloadArb)) },
  { name: 'ingest pipeline on embedded adapters', runsShare: 0.1, property: () => asRaw(fc.asyncProperty(planArb, (plan) => pipelineCase(plan))) },
  { name: 'aggregator and roll-ups: any reading batches', runsShare: 0.2, property: () => asRaw(fc.property(fc.array(readingBatchArb, { maxLength: 25 }), fc.array(fc.option(fc.nat(2 * DAY), { nil: null }), { maxLength: 25 }), aggregatorCase)) },
  { name: 'aggregator samples: the compact holder behaves as the map by event time', runsShare: 1, property: () => asRaw(fc.property(sampleOpsArb, sampleRunCase)) },
  { name: 'aggregator samples: a meter minute recorded in batches, its checkpoint as the map gave', runsShare: 0.5, property: () => asRaw(fc.property(sampleOpsArb, fc.array(fc.nat(80), { maxLength: 5 }), sampleWindowCase)) },
  { name: 'rules engine: any readings, aggregates, statuses', runsShare: 0.5, property: () => asRaw(fc.property(rulesInputsArb, rulesCase)) },
];

/** Seed and runs: fixed by default, FUZZ_SEED and FUZZ_RUNS override (the failure message prints the seed and path to replay). */
export function fuzzSettings(env: NodeJS.ProcessEnv = process.env): { seed: number; runs: number } {
  const seed = env.FUZZ_SEED === undefined ? 20_261_127 : Number(env.FUZZ_SEED);
  const runs = env.FUZZ_RUNS === undefined ? 200 : Number(env.FUZZ_RUNS);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not "${env.FUZZ_SEED}"`);
  if (!Number.isInteger(runs) || runs <= 0) throw new Error(`FUZZ_RUNS must be a positive integer, not "${env.FUZZ_RUNS}"`);
  return { seed, runs };
}

export const runsFor = (p: FuzzProperty, runs: number): number => Math.max(1, Math.round(runs * p.runsShare));

/** Runs one property with the settings; throws fast-check's report (seed, path, counterexample) on failure. */
export async function assertFuzz(p: FuzzProperty, settings = fuzzSettings()): Promise<void> {
  await fc.assert(p.property(), { seed: settings.seed, numRuns: runsFor(p, settings.runs) });
}

export const fuzzNamed = (prefix: string): FuzzProperty[] => fuzzProperties.filter((p) => p.name.startsWith(prefix));
