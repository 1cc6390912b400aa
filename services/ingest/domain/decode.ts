/**
 * The pure part of ingest: one MQTT message in, either readings (validated,
 * normalised, enriched from the registry), a meter status, or a dead letter
 * with its reason. No I/O, no clock: time comes in as arguments.
 */
import { parseMeterTopic, type MeterTopic } from '../../../shared/contracts/mqtt-topics.ts';
import { parseTimestamp, readingEnvelopeSchema, senmlPackSchema, statusPayloadSchema } from '../../../shared/contracts/payloads.ts';
import { normalise } from '../../../shared/contracts/metric-catalogue.ts';
import { formatIssues, type RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import type { DeadLetterReason, Reading } from '../../../shared/contracts/events.ts';
import { resolveSenml } from './senml.ts';
import { checkEnvelope } from './envelope-check.ts';

export interface DecodeOptions {
  registry: RegistryIndex;
  /** Readings further ahead of the receive time than this are refused. */
  maxFutureMs: number;
  /** Readings older than this before the receive time are refused (the store would not keep them). */
  maxPastMs: number;
  maxPayloadBytes: number;
}

export interface DecodedReadings {
  kind: 'readings';
  park: string;
  tenant: string;
  meter: string;
  seq: number;
  simulated: boolean;
  readings: Reading[];
}

export interface DecodedStatus {
  kind: 'status';
  park: string;
  tenant: string;
  meter: string;
  status: 'online' | 'offline';
  at: number;
  simulated: boolean;
}

export interface Refused {
  kind: 'dead';
  reason: DeadLetterReason;
  detail: string;
}

export type Decoded = DecodedReadings | DecodedStatus | Refused;

const refuse = (reason: DeadLetterReason, detail: string): Refused => ({ kind: 'dead', reason, detail });

/** Date#toISOString throws beyond +-8.64e15 ms: a detail must never throw. */
const iso = (ms: number): string => (Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${String(ms)} ms`);

/**
 * Where an event time must lie to be stored: a finite epoch ms, not before 1970
 * (the bus contract's epoch ms are non-negative), and within the window around
 * the receive time (so a safe integer). Null when it does.
 */
function timeRefusal(what: string, ts: number, receivedAt: number, options: DecodeOptions, checkPast: boolean): Refused | null {
  // Only SenML arithmetic (bt + t overflowing) gets here with a non-finite time; rounding made the rest integers.
  if (!Number.isFinite(ts)) return refuse('bad-timestamp', `${what}: time ${String(ts)} is not a number of epoch ms`);
  if (ts > receivedAt + options.maxFutureMs) {
    return refuse('future-timestamp', `${what} at ${iso(ts)} is more than ${options.maxFutureMs} ms ahead of the receive time ${iso(receivedAt)}`);
  }
  if (ts < 0) return refuse('past-timestamp', `${what} at ${iso(ts)} is before 1970`);
  if (checkPast && ts < receivedAt - options.maxPastMs) {
    return refuse('past-timestamp', `${what} at ${iso(ts)} is more than ${options.maxPastMs} ms before the receive time ${iso(receivedAt)}`);
  }
  return null;
}

interface RawReading {
  metric: string;
  unit: string;
  value: number;
  ts: number;
}

/** Topics parsed before: a park's meters publish on a few thousand; bounded, since topics are input too. */
const parsedTopics = new Map<string, MeterTopic | null>();
const parsedTopicsMax = 100_000;

function meterTopic(topic: string): MeterTopic | null {
  let where = parsedTopics.get(topic);
  if (where === undefined) {
    where = parseMeterTopic(topic);
    if (parsedTopics.size >= parsedTopicsMax) parsedTopics.clear();
    parsedTopics.set(topic, where);
  }
  return where;
}

export function decode(topic: string, payload: Buffer, receivedAt: number, options: DecodeOptions): Decoded {
  if (payload.length > options.maxPayloadBytes) return refuse('oversized', `payload of ${payload.length} bytes exceeds the limit of ${options.maxPayloadBytes}`);
  const where = meterTopic(topic);
  if (!where) return refuse('unknown-topic', `topic "${topic}" is outside eip/{park}/{tenant}/{meter}/telemetry|status`);
  const entry = options.registry.meter(where.meter);
  if (!entry) return refuse('unknown-meter', `meter "${where.meter}" is not in the park registry`);
  if (entry.tenant.id !== where.tenant || entry.park.id !== where.park) {
    return refuse('foreign-tenant', `meter "${where.meter}" belongs to tenant "${entry.tenant.id}" of park "${entry.park.id}", not "${where.tenant}" of "${where.park}"`);
  }
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return refuse('not-json', `not JSON: ${(err as Error).message}`);
  }

  if (where.kind === 'status') {
    const parsed = statusPayloadSchema.safeParse(json);
    if (!parsed.success) return refuse('schema', `status payload: ${formatIssues(parsed.error)}`);
    const at = parsed.data.ts === undefined ? receivedAt : parseTimestamp(parsed.data.ts);
    if (at === null) return refuse('bad-timestamp', `unreadable timestamp ${JSON.stringify(parsed.data.ts)}`);
    // Statuses go to the bus only, and a retained birth may be old: no MAX_PAST_MS.
    const bad = timeRefusal('status', at, receivedAt, options, false);
    if (bad) return bad;
    return { kind: 'status', park: where.park, tenant: where.tenant, meter: where.meter, status: parsed.data.status, at, simulated: parsed.data.simulated ?? false };
  }

  let raw: RawReading[];
  let seq: number;
  let simulated = false;
  if (Array.isArray(json)) {
    const parsed = senmlPackSchema.safeParse(json);
    if (!parsed.success) return refuse('schema', `SenML: ${formatIssues(parsed.error)}`);
    const resolved = resolveSenml(parsed.data, receivedAt);
    if (!resolved.ok) return refuse('schema', `SenML: ${resolved.detail}`);
    raw = resolved.readings;
    // SenML has no sequence number: the pack's first time stands in, so a resent pack dedupes.
    seq = raw[0]!.ts;
  } else {
    let env = checkEnvelope(json);
    if (!env) {
      // The schema is the definition: it says why (and, should it accept what the check refused, its verdict stands).
      const parsed = readingEnvelopeSchema.safeParse(json);
      if (!parsed.success) return refuse('schema', `envelope v1: ${formatIssues(parsed.error)}`);
      env = parsed.data;
    }
    const base = parseTimestamp(env.ts);
    if (base === null) return refuse('bad-timestamp', `unreadable timestamp ${JSON.stringify(env.ts)}`);
    raw = [];
    for (const r of env.readings) {
      const ts = r.ts === undefined ? base : parseTimestamp(r.ts);
      if (ts === null) return refuse('bad-timestamp', `reading ${r.metric}: unreadable timestamp ${JSON.stringify(r.ts)}`);
      raw.push({ metric: r.metric, unit: r.unit, value: r.value, ts });
    }
    seq = env.seq;
    simulated = env.simulated ?? false;
  }

  const readings: Reading[] = [];
  const declared = entry.meter.metrics as readonly string[];
  for (const r of raw) {
    const bad = timeRefusal(`reading ${r.metric}`, r.ts, receivedAt, options, true);
    if (bad) return bad;
    const n = normalise(r.metric, r.unit, r.value);
    if (!n.ok) return refuse(n.reason, n.detail);
    if (!declared.includes(n.metric)) return refuse('unknown-metric', `meter "${where.meter}" does not declare metric "${n.metric}" in the registry`);
    readings.push({ metric: n.metric, unit: n.unit, value: n.value, ts: r.ts });
  }
  return { kind: 'readings', park: where.park, tenant: where.tenant, meter: where.meter, seq, simulated, readings };
}

/**
 * decode, with any exception (a bug, or an input no check foresaw) turned into
 * this message's dead letter: never the batch's, never the drain loop's.
 */
export function decodeOrRefuse(topic: string, payload: Buffer, receivedAt: number, options: DecodeOptions): Decoded {
  try {
    return decode(topic, payload, receivedAt, options);
  } catch (err) {
    return refuse('decode-error', `decode failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}
