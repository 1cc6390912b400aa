/**
 * What every stage does with input it cannot use: read a consumed record against
 * its schema, and turn a refusal into a dead letter (reason, detail, where it came
 * from, the raw payload) on eip.deadletter.v1, keyed by the refusing stage.
 */
import type { z } from 'zod';
import type { EipError } from './errors.ts';
import { topics } from './contracts/kafka-topics.ts';
import { formatIssues } from './contracts/park-registry.ts';
import { deadLetterSchema, type DeadLetter, type DeadLetterReason } from './contracts/events.ts';
import type { OutgoingMessage } from './ports/event-bus.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; detail: string };

/** JSON and schema checks of one consumed record, with a readable reason when it fails. */
export function parseRecord<S extends z.ZodType>(value: Buffer | null, schema: S, what: string): Parsed<z.infer<S>> {
  if (!value) return { ok: false, detail: 'empty record' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, detail: `not JSON: ${(err as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, detail: `${what}: ${formatIssues(parsed.error)}` };
}

export interface DeadLetterInput {
  stage: string;
  reason: DeadLetterReason;
  detail: string;
  /** MQTT topic, or topic/partition@offset for a consumed record. */
  source: string;
  payload: Buffer | null;
  receivedAt: number;
}

export function deadLetterMessage(input: DeadLetterInput): OutgoingMessage {
  const dl: DeadLetter = {
    v: 1, reason: input.reason, detail: input.detail, stage: input.stage, source: input.source,
    payloadBase64: (input.payload ?? Buffer.alloc(0)).toString('base64'), receivedAt: input.receivedAt,
  };
  return { topic: topics.deadLetters.name, key: input.stage, value: JSON.stringify(dl) };
}

export const recordSource = (topic: string, partition: number, offset: string): string => `${topic}/${partition}@${offset}`;

/** The detail of a `sink-refused` dead letter: which sink, its code and its own words. */
export const sinkRefusedDetail = (sink: string, error: EipError): string => `${sink} refused it (${error.code}): ${error.message}`;

/** A `sink-refused` dead letter for a record the stage could not write. */
export function sinkRefusedMessage(input: Omit<DeadLetterInput, 'reason' | 'detail'> & { sink: string; error: EipError }): OutgoingMessage {
  return deadLetterMessage({ stage: input.stage, reason: 'sink-refused', detail: sinkRefusedDetail(input.sink, input.error), source: input.source, payload: input.payload, receivedAt: input.receivedAt });
}

/**
 * The same dead letter without its payload, for when the bus refused it (too
 * large): the reason, source and detail still say what was lost.
 */
export function withoutPayload(message: OutgoingMessage, error: EipError, now: () => number = Date.now): OutgoingMessage {
  let parsed: DeadLetter | undefined;
  try {
    const json: unknown = JSON.parse(typeof message.value === 'string' ? message.value : (message.value ?? Buffer.alloc(0)).toString('utf8'));
    const r = deadLetterSchema.safeParse(json);
    if (r.success) parsed = r.data;
  } catch {
    // Not a dead letter of ours: described below from what is known.
  }
  const note = `payload dropped: ${sinkRefusedDetail('bus', error)}`.slice(0, 2_000);
  const dl: DeadLetter = parsed
    ? { ...parsed, detail: `${parsed.detail.slice(0, 4_000)}; ${note}`, payloadBase64: '' }
    : { v: 1, reason: 'sink-refused', detail: `a record for ${message.topic}: ${note}`, stage: message.key ?? 'unknown', source: message.topic, payloadBase64: '', receivedAt: now() };
  return { topic: topics.deadLetters.name, key: dl.stage, value: JSON.stringify(dl) };
}
