/**
 * What every stage does with input it cannot use: read a consumed record against
 * its schema, and turn a refusal into a dead letter (reason, detail, where it came
 * from, the raw payload) on eip.deadletter.v1, keyed by the refusing stage.
 */
import type { z } from 'zod';
import { topics } from './contracts/kafka-topics.ts';
import { formatIssues } from './contracts/park-registry.ts';
import type { DeadLetter, DeadLetterReason } from './contracts/events.ts';
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
