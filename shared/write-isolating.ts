/**
 * The one way every stage writes to a sink (time-series store, bus, MQTT). A
 * stage that must not lose data holds its input until the sink has it, but a
 * record the sink will never take must not hold everything behind it. So a
 * failed write is one of three things:
 *
 * - retriable (a sink down, slow, throttling): wait (backoff, or the sink's
 *   Retry-After) and write the same items again, for as long as it takes;
 * - refused (REJECTED, TOO_LARGE, PAYLOAD_INVALID: the sink says these records
 *   are wrong): split the batch in halves until each refused record is alone,
 *   write the rest, and hand each refused record with the sink's error to the
 *   stage, which dead-letters it. A record refused alone is never retried;
 * - blocked (any other non-retriable error: credentials refused, a bucket or
 *   topic missing, a bug): the records are not at fault, so dead-lettering them
 *   would throw away good data over a misconfiguration. The stage holds its
 *   input and retries, logs an error on every attempt and sets
 *   eip_sink_blocked{stage,sink} to 1 until the sink takes writes again.
 *
 * CLOSED, or the caller's signal aborted, ends the write with that error.
 */
import { EipError, errorMessage, isRetriable, type ErrorCode } from './errors.ts';
import { retryDelay, sleep as defaultSleep, type RetryPolicy } from './retry.ts';
import { withoutPayload } from './dead-letters.ts';
import type { Logger } from './observability/logger.ts';
import type { SinkMetrics } from './observability/sink-metrics.ts';
import type { OutgoingMessage } from './ports/event-bus.ts';

export type WriteFailure = 'retriable' | 'refused' | 'blocked';

/** Codes by which a sink says the records themselves are wrong: only these are isolated and dead-lettered. */
export const refusalCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['REJECTED', 'TOO_LARGE', 'PAYLOAD_INVALID']);

export function classifyWriteFailure(err: unknown): WriteFailure {
  if (isRetriable(err)) return 'retriable';
  if (err instanceof EipError && refusalCodes.has(err.code)) return 'refused';
  return 'blocked';
}

export const writePolicy: RetryPolicy = { initialMs: 200, factor: 2, maxMs: 10_000, maxAttempts: Infinity, jitter: 0.2 };

/** How a stage writes: shared by all of its sinks. */
export interface WriteContext {
  /** The stage in logs, metrics and dead letters, e.g. "ingest". */
  stage: string;
  logger: Logger;
  metrics?: SinkMetrics | undefined;
  /** Aborting ends the write (shutdown, partitions revoked). */
  signal?: AbortSignal | undefined;
  /** Defaults to writePolicy; maxAttempts bounds the attempts of one part (then its error is thrown). */
  policy?: Partial<RetryPolicy> | undefined;
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  random?: (() => number) | undefined;
  /** Each failed write about to be retried. */
  onRetry?: ((sink: string, err: unknown, delayMs: number) => void) | undefined;
}

export interface Refused<T> {
  item: T;
  error: EipError;
}

export interface IsolatedWrite<T> extends WriteContext {
  /** The sink in logs and metrics: "timeseries", "bus", "mqtt". */
  sink: string;
  write(items: readonly T[]): Promise<void>;
  /** Each item the sink refused alone; it is not written, so the stage dead-letters it here. */
  onRefused(refused: Refused<T>): void | Promise<void>;
}

/**
 * Writes items through `write`, isolating the ones the sink refuses (see the
 * file comment). Resolves with the items written, in their order. With k
 * refused among n items it makes at most 2n - 1 calls that end in a refusal
 * and about 2k log2(n) when k is small.
 */
export async function writeIsolating<T>(items: readonly T[], o: IsolatedWrite<T>): Promise<T[]> {
  const written: T[] = [];
  // Parts still to write, the next on top: the left half goes first, so order holds.
  const parts: T[][] = [items.slice()];
  while (parts.length > 0) {
    const part = parts.pop()!;
    if (part.length === 0) continue;
    if (o.signal?.aborted === true) throw new EipError('CLOSED', `${o.stage}: write to ${o.sink} aborted`);
    const refusal = await attempt(part, o);
    if (refusal === undefined) {
      written.push(...part);
      continue;
    }
    if (part.length === 1) {
      const item = part[0] as T;
      o.metrics?.refused.inc({ stage: o.stage, sink: o.sink, code: refusal.code });
      o.logger.warn({ stage: o.stage, sink: o.sink, code: refusal.code, err: refusal.message }, 'sink refused a record: dead-lettering it, writing the rest');
      await o.onRefused({ item, error: refusal });
      continue;
    }
    const mid = part.length >> 1;
    parts.push(part.slice(mid), part.slice(0, mid));
  }
  return written;
}

/** Writes one part until it is stored (undefined) or refused (the sink's error). */
async function attempt<T>(part: readonly T[], o: IsolatedWrite<T>): Promise<EipError | undefined> {
  const policy = { ...writePolicy, ...o.policy };
  const wait = o.sleep ?? defaultSleep;
  const labels = { stage: o.stage, sink: o.sink };
  for (let n = 1; ; n++) {
    try {
      await o.write(part);
      o.metrics?.blocked.set(labels, 0);
      return undefined;
    } catch (err) {
      if (o.signal?.aborted === true || (err instanceof EipError && err.code === 'CLOSED')) throw err;
      const kind = classifyWriteFailure(err);
      if (kind === 'refused') {
        o.metrics?.blocked.set(labels, 0);
        return err as EipError;
      }
      if (n >= policy.maxAttempts) throw err;
      const delayMs = retryDelay(err, n, policy, o.random);
      const log = { ...labels, attempt: n, records: part.length, delayMs, code: err instanceof EipError ? err.code : undefined, err: errorMessage(err) };
      if (kind === 'retriable') {
        o.logger.warn(log, 'write failed, retrying');
      } else {
        o.metrics?.blocked.set(labels, 1);
        o.logger.error(log, 'sink refuses writes for a reason that is not the records\' (credentials, configuration, a bug): holding them and retrying');
      }
      o.metrics?.retries.inc({ ...labels, kind: kind === 'retriable' ? 'retriable' : 'blocked' });
      o.onRetry?.(o.sink, err, delayMs);
      await wait(delayMs, o.signal);
    }
  }
}

/** The bus's publish, or a stage's guarded wrapper of it. */
export type Publish = (messages: readonly OutgoingMessage[]) => Promise<void>;

/** Messages that stand or fall together on the bus, and the dead letter that replaces them if the bus refuses them. */
export interface PublishItem {
  messages: readonly OutgoingMessage[];
  deadLetter(error: EipError): OutgoingMessage;
}

/** A dead letter as a publish item: refused (too large, say), it is sent again without its payload. */
export const deadLetterItem = (message: OutgoingMessage): PublishItem => ({ messages: [message], deadLetter: (error) => withoutPayload(message, error) });

/**
 * Publishes items to the bus through writeIsolating. Each item the bus refuses
 * is replaced by its dead letter, published after the rest; a dead letter the
 * bus refuses goes again without its payload, and one refused even so is
 * logged as an error and counted (eip_dead_letters_lost_total): nothing is
 * dropped silently. Resolves with the items published.
 */
export async function publishIsolating(publish: Publish, items: readonly PublishItem[], context: WriteContext): Promise<PublishItem[]> {
  const write = (batch: readonly PublishItem[]): Promise<void> => publish(batch.flatMap((i) => i.messages));
  let letters: PublishItem[] = [];
  const published = await writeIsolating(items, { ...context, sink: 'bus', write, onRefused: ({ item, error }) => { letters.push(deadLetterItem(item.deadLetter(error))); } });
  for (let round = 0; letters.length > 0; round++) {
    const next: PublishItem[] = [];
    await writeIsolating(letters, {
      ...context, sink: 'bus', write,
      onRefused: ({ item, error }) => {
        if (round === 0) {
          next.push(deadLetterItem(item.deadLetter(error)));
          return;
        }
        context.metrics?.deadLettersLost.inc({ stage: context.stage });
        context.logger.error({ stage: context.stage, code: error.code, err: error.message, key: item.messages[0]?.key }, 'the bus refused a dead letter even without its payload: it is lost');
      },
    });
    letters = next;
  }
  return published;
}
