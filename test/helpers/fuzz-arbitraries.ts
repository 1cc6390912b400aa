/**
 * Hostile inputs for the property tests and bench/fuzz.ts, in one place: what a
 * faulty or malicious meter can publish (bytes, JSON, envelopes, SenML packs,
 * on any topic), and what a stage can consume (reading batches, aggregates).
 * Numbers lean on the edges: 0, -0, subnormals, 1e306..MAX_VALUE, 2^53, epoch
 * seconds / ms / us / ns, and JSON literals that parse to Infinity.
 */
import fc from 'fast-check';
import { windowMs, windowSizes, type AggregateEvent, type MeterStatusEvent, type ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { metricCatalogue, metricNames } from '../../shared/contracts/metric-catalogue.ts';
import { statusTopic, telemetryTopic } from '../../shared/contracts/mqtt-topics.ts';
import { demoParkPath, loadParkRegistry, type MeterEntry } from '../../shared/contracts/park-registry.ts';

export const registry = loadParkRegistry(demoParkPath);
/** The receive time of every fuzzed message (a fixed clock keeps runs reproducible). */
export const NOW = Date.UTC(2026, 10, 27, 10, 0, 0);
export const DAY = 86_400_000;

const meters: MeterEntry[] = [...registry.allMeters()];

/** A JSON literal written as is: how "1e400" (Infinity once parsed) or "-0" reach decode. */
class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** JSON.stringify, except that RawJson values are emitted verbatim. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : toJsonText(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts = Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const edgeNumbers = [
  0, -0, 1, -1, 0.5, Number.MIN_VALUE, -Number.MIN_VALUE, 1e-310, Number.EPSILON,
  2 ** 28, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64,
  1e11, 1e14, 1e15, 1e16, 1e17, 1e19, 1e21, 8.64e15, 8.64e15 + 1,
  1e300, -1e300, 1e305, 1e306, -1e306, 1e307, 1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE,
];

/** Any finite double, with the edges drawn often. */
const finiteNumber: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.constantFrom(...edgeNumbers), weight: 3 },
  { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 3 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.double({ min: -1e4, max: 1e4, noNaN: true }), weight: 2 },
);

/** Number literals that JSON.stringify cannot produce. */
const rawNumber = fc.constantFrom('1e400', '-1e400', '1e-400', '-0', '1E308', '123456789012345678901234567890', '0.000000000000000000000000000001', '1.7976931348623159e308').map((t) => new RawJson(t));

/** What a meter may put in a number field. */
const numberField: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: finiteNumber, weight: 8 },
  { arbitrary: rawNumber, weight: 1 },
  { arbitrary: fc.constantFrom('NaN', 'Infinity', '7.2', '', null, true, [], {}), weight: 1 },
);

/** Timestamps in every form: near the receive time in each epoch unit and as ISO, and the extremes. */
const timestampField: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.integer({ min: -40 * DAY, max: DAY }).map((d) => NOW + d), weight: 4 },
  { arbitrary: fc.integer({ min: -40 * DAY, max: DAY }).map((d) => (NOW + d) / 1000), weight: 1 },
  { arbitrary: fc.integer({ min: -40 * DAY, max: DAY }).map((d) => (NOW + d) * 1000 + 7), weight: 1 },
  { arbitrary: fc.integer({ min: -40 * DAY, max: DAY }).map((d) => (NOW + d) * 1e6), weight: 1 },
  { arbitrary: fc.integer({ min: -40 * DAY, max: DAY }).map((d) => new Date(NOW + d).toISOString()), weight: 2 },
  { arbitrary: fc.integer({ min: -40 * DAY, max: DAY }).map((d) => String(Math.floor((NOW + d) / 1000))), weight: 1 },
  { arbitrary: fc.constantFrom('0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1969-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '2026-11-27T10:00:00', 'yesterday', '', '9'.repeat(64), '1e300'), weight: 1 },
  { arbitrary: numberField, weight: 2 },
);

const anyMetric = fc.oneof({ arbitrary: fc.constantFrom(...metricNames), weight: 6 }, { arbitrary: fc.string({ maxLength: 70 }), weight: 1 });
/** A meter's own metrics mostly, then any catalogue metric or any string. */
const metricOf = (declared: readonly string[]): fc.Arbitrary<string> => (declared.length === 0 ? anyMetric : fc.oneof({ arbitrary: fc.constantFrom(...declared), weight: 8 }, { arbitrary: anyMetric, weight: 1 }));
const unitFor = (metric: string): fc.Arbitrary<string> => {
  const def = Object.hasOwn(metricCatalogue, metric) ? metricCatalogue[metric as keyof typeof metricCatalogue] : undefined;
  const units = def ? [def.unit, ...Object.keys(def.from)] : ['kWh'];
  return fc.oneof({ arbitrary: fc.constantFrom(...units), weight: 8 }, { arbitrary: fc.string({ maxLength: 40 }), weight: 1 });
};

interface TopicChoice {
  topic: string;
  /** The metrics of the meter the topic names, if any. */
  metrics: readonly string[];
}

/** A meter of the demo park and the topic it publishes on, or a topic it must not (foreign, unknown, outside the scheme). */
function topicChoiceArb(options: { exclude?: string } = {}): fc.Arbitrary<TopicChoice> {
  const own = meters.filter((m) => m.meter.id !== options.exclude);
  const none: readonly string[] = [];
  return fc.oneof(
    { arbitrary: fc.constantFrom(...own).map((m) => ({ topic: telemetryTopic(m.park.id, m.tenant.id, m.meter.id), metrics: m.meter.metrics })), weight: 16 },
    { arbitrary: fc.constantFrom(...own).map((m) => ({ topic: statusTopic(m.park.id, m.tenant.id, m.meter.id), metrics: none })), weight: 2 },
    { arbitrary: fc.tuple(fc.constantFrom(...own), fc.constantFrom(...own)).map(([a, b]) => ({ topic: telemetryTopic(a.park.id, b.tenant.id, a.meter.id), metrics: a.meter.metrics })), weight: 1 },
    { arbitrary: fc.constantFrom('eip/nusantara-eip/sulawesi-nickel/ghost/telemetry', 'eip/x/y/z/telemetry', 'eip/a/b/c/d/e', 'factory/42', '', 'eip/nusantara-eip/__proto__/constructor/telemetry').map((topic) => ({ topic, metrics: none })), weight: 1 },
    { arbitrary: fc.string({ maxLength: 80 }).map((topic) => ({ topic, metrics: none })), weight: 1 },
  );
}

export const topicArb = (options: { exclude?: string } = {}): fc.Arbitrary<string> => topicChoiceArb(options).map((c) => c.topic);

const envelopeReading = (declared: readonly string[]) => metricOf(declared).chain((metric) => fc.record(
  {
    metric: fc.oneof({ arbitrary: fc.constant<unknown>(metric), weight: 19 }, { arbitrary: fc.constantFrom<unknown>(7, null, ''), weight: 1 }),
    value: fc.oneof({ arbitrary: finiteNumber, weight: 12 }, { arbitrary: numberField, weight: 1 }),
    unit: unitFor(metric),
    ts: timestampField,
  },
  { requiredKeys: ['metric', 'value', 'unit'] },
));

/** The reading envelope v1, mostly well-formed, with hostile numbers and times. */
const envelopeFor = (declared: readonly string[]): fc.Arbitrary<unknown> => fc.record(
  {
    v: fc.oneof({ arbitrary: fc.constant<unknown>(1), weight: 19 }, { arbitrary: fc.constantFrom<unknown>(2, '1', 0), weight: 1 }),
    ts: timestampField,
    seq: fc.oneof({ arbitrary: fc.nat(), weight: 12 }, { arbitrary: numberField, weight: 1 }),
    readings: fc.oneof({ arbitrary: fc.array(envelopeReading(declared), { minLength: 1, maxLength: 4 }), weight: 19 }, { arbitrary: fc.constant([]), weight: 1 }),
    simulated: fc.oneof({ arbitrary: fc.boolean(), weight: 9 }, { arbitrary: fc.constantFrom<unknown>('yes', 1), weight: 1 }),
  },
  { requiredKeys: ['v', 'ts', 'seq', 'readings'] },
);
export const envelopeArb = envelopeFor([]);

/** Usually absent (toJsonText leaves undefined fields out), sometimes there. */
const sometimes = <T>(arb: fc.Arbitrary<T>, weight = 1): fc.Arbitrary<T | undefined> => fc.oneof({ arbitrary: fc.constant(undefined), weight: 16 }, { arbitrary: arb, weight });
/** Usually there. */
const mostly = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: arb, weight: 12 });

const senmlRecord = (declared: readonly string[]) => metricOf(declared).chain((metric) => fc.record({
  bn: sometimes(fc.oneof({ arbitrary: fc.constant('urn:dev:meter:'), weight: 4 }, { arbitrary: fc.string({ maxLength: 30 }), weight: 1 }), 4),
  bt: sometimes(fc.oneof({ arbitrary: fc.integer({ min: -40 * DAY, max: DAY }).map((d) => (NOW + d) / 1000), weight: 4 }, { arbitrary: numberField, weight: 1 }), 12),
  bu: sometimes(fc.oneof(fc.constantFrom('mg/L', 'pH', 'kWh', 'MWh', 'Cel', 'K', 'mg/Nm3'), fc.string({ maxLength: 10 }))),
  bv: sometimes(numberField),
  n: mostly(fc.constant(metric)),
  u: mostly(unitFor(metric)),
  v: mostly(fc.oneof({ arbitrary: finiteNumber, weight: 8 }, { arbitrary: numberField, weight: 1 })),
  s: sometimes(numberField),
  t: sometimes(fc.oneof({ arbitrary: fc.integer({ min: -3600, max: 3600 }), weight: 4 }, { arbitrary: numberField, weight: 1 }), 6),
  vs: sometimes(fc.string({ maxLength: 10 })),
  vb: sometimes(fc.boolean()),
  ut: sometimes(numberField),
  bver: sometimes(fc.oneof(fc.constant(10), numberField)),
  foo_: sometimes(fc.constant(1)),
}));

/** SenML packs (RFC 8428), with base fields, relative times and must-understand fields. */
const senmlFor = (declared: readonly string[]): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: fc.array(senmlRecord(declared), { minLength: 1, maxLength: 5 }), weight: 19 }, { arbitrary: fc.constant([]), weight: 1 });
export const senmlArb = senmlFor([]);

/** What any JSON value can be, nested. */
export const anyJsonArb: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 6 });

/** One payload as published: JSON text of an envelope, a pack, a status or any value; broken JSON; random bytes. */
const payloadFor = (declared: readonly string[]): fc.Arbitrary<Buffer> => fc.oneof(
  { arbitrary: envelopeFor(declared).map((v) => Buffer.from(toJsonText(v))), weight: 8 },
  { arbitrary: senmlFor(declared).map((v) => Buffer.from(toJsonText(v))), weight: 3 },
  { arbitrary: fc.record({ status: fc.constantFrom('online', 'offline', 'sleepy'), ts: timestampField }, { requiredKeys: ['status'] }).map((v) => Buffer.from(toJsonText(v))), weight: 1 },
  { arbitrary: anyJsonArb.map((v) => Buffer.from(JSON.stringify(v))), weight: 1 },
  { arbitrary: envelopeFor(declared).chain((v) => { const t = toJsonText(v); return fc.nat(t.length).map((n) => Buffer.from(t.slice(0, n))); }), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), weight: 1 },
  { arbitrary: fc.nat(2000).map((d) => Buffer.from('['.repeat(d) + ']'.repeat(d))), weight: 1 },
);
export const payloadArb = payloadFor([]);

export interface Message {
  topic: string;
  payload: Buffer;
}

/** A message on a topic, its payload shaped for the meter the topic names. */
export const messageArb = (options: { exclude?: string } = {}): fc.Arbitrary<Message> => topicChoiceArb(options).chain((c) => payloadFor(c.metrics).map((payload) => ({ topic: c.topic, payload })));

/** Non-negative safe-integer event times: mostly one day around NOW, sometimes anywhere. */
const eventTime = fc.oneof(
  { arbitrary: fc.integer({ min: -DAY, max: DAY }).map((d) => NOW + d), weight: 9 },
  { arbitrary: fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER, 8.64e15), weight: 1 },
);

/** Any demo-park meter. */
export const meterArb: fc.Arbitrary<MeterEntry> = fc.constantFrom(...meters);

/**
 * A reading batch of one meter as a stage consumes it (it passed
 * readingBatchEventSchema): mostly the meter's own metrics, any finite values.
 */
export const readingBatchFor = (m: MeterEntry): fc.Arbitrary<ReadingBatchEvent> => fc.record({
  v: fc.constant(1 as const),
  park: fc.constant(m.park.id),
  tenant: fc.oneof({ arbitrary: fc.constant(m.tenant.id), weight: 9 }, { arbitrary: fc.constant('other-tenant'), weight: 1 }),
  meter: fc.constant(m.meter.id),
  seq: fc.nat(),
  receivedAt: eventTime,
  simulated: fc.boolean(),
  readings: fc.array(fc.record({
    metric: fc.oneof({ arbitrary: fc.constantFrom(...m.meter.metrics), weight: 9 }, { arbitrary: fc.constantFrom(...metricNames), weight: 1 }),
    unit: fc.constant('-'),
    value: finiteNumber,
    ts: eventTime,
  }), { minLength: 1, maxLength: 8 }),
});
export const readingBatchArb: fc.Arbitrary<ReadingBatchEvent> = meterArb.chain(readingBatchFor);

/** An aggregate of a meter, its tenant or its park as the rules consume it (it passed aggregateEventSchema): any finite statistics. */
export const aggregateFor = (m: MeterEntry): fc.Arbitrary<AggregateEvent> => fc.record({
  scope: fc.constantFrom('meter', 'tenant', 'park'),
  window: fc.oneof({ arbitrary: fc.constantFrom('1h', '1d'), weight: 2 }, { arbitrary: fc.constantFrom(...windowSizes), weight: 1 }),
  at: eventTime,
  metric: fc.oneof({ arbitrary: fc.constantFrom(...m.meter.metrics), weight: 6 }, { arbitrary: fc.constantFrom(...metricNames), weight: 1 }),
  revision: fc.nat(5),
  count: fc.oneof(fc.nat(100), fc.constantFrom(0, Number.MAX_SAFE_INTEGER)),
  sum: finiteNumber, min: finiteNumber, max: finiteNumber, mean: finiteNumber, last: finiteNumber,
  consumption: fc.option(finiteNumber, { nil: undefined, freq: 4 }),
  completeness: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: undefined }),
  simulated: fc.boolean(),
}).map((a) => {
  // The schema wants a safe-integer end too.
  const start = Math.floor(Math.min(a.at, Number.MAX_SAFE_INTEGER - 2 * DAY) / windowMs[a.window]) * windowMs[a.window];
  const scopeId = a.scope === 'meter' ? m.meter.id : a.scope === 'tenant' ? m.tenant.id : m.park.id;
  const ev: AggregateEvent = {
    v: 1, windowId: `${a.scope}:${scopeId}:${a.metric}:${a.window}:${start}`, revision: a.revision, scope: a.scope, park: m.park.id,
    metric: a.metric, unit: metricCatalogue[a.metric].unit, window: a.window, start, end: start + windowMs[a.window],
    count: a.count, sum: a.sum, min: a.min, max: a.max, mean: a.mean, last: a.last, registerEvents: [], simulated: a.simulated,
  };
  if (a.scope !== 'park') ev.tenant = m.tenant.id;
  if (a.scope === 'meter') ev.meter = m.meter.id;
  if (a.consumption !== undefined) ev.consumption = a.consumption;
  if (a.completeness !== undefined) ev.completeness = a.completeness;
  return ev;
});
export const aggregateArb: fc.Arbitrary<AggregateEvent> = meterArb.chain(aggregateFor);

export const meterStatusArb: fc.Arbitrary<MeterStatusEvent> = fc.record({ m: fc.constantFrom(...meters), status: fc.constantFrom('online', 'offline'), at: eventTime }).map(({ m, status, at }) => ({
  v: 1, park: m.park.id, tenant: m.tenant.id, meter: m.meter.id, status, cause: status === 'online' ? 'birth' : 'will', at, simulated: false,
}));
