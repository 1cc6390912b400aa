/** What both aggregator stages write: aggregate points for the time-series store, and compressed checkpoints. */
import { gunzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { AggregateEvent } from '../../shared/contracts/events.ts';
import { sinkRefusedMessage } from '../../shared/dead-letters.ts';
import type { OutgoingMessage } from '../../shared/ports/event-bus.ts';
import type { AggregatePoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { deadLetterItem, publishIsolating, writeIsolating, type Publish, type PublishItem, type WriteContext } from '../../shared/write-isolating.ts';

export function toAggregatePoint(a: AggregateEvent): AggregatePoint {
  return {
    scope: a.scope, park: a.park, tenant: a.tenant, meter: a.meter, metric: a.metric, unit: a.unit, window: a.window, start: a.start,
    count: a.count, sum: a.sum, min: a.min, max: a.max, mean: a.mean, last: a.last, consumption: a.consumption, completeness: a.completeness,
    expected: a.expected, revision: a.revision, lastAt: a.lastAt, ...(a.registerEvents.length > 0 && { registerEvents: a.registerEvents }),
    ...(a.simulated && { simulated: true }),
  };
}

/** A checkpoint as compressed JSON. */
export function packCheckpoint(value: unknown): Buffer {
  return packCheckpointJson(JSON.stringify(value));
}

/**
 * A checkpoint already encoded as JSON text, compressed with zstd (its default
 * level): on window state 5.7-6.2 times faster than gzip's default level and
 * 2.4-6.9 times smaller (bench:aggregator-state); gzip was most of a
 * checkpoint's cost.
 */
export function packCheckpointJson(json: string): Buffer {
  return zstdCompressSync(json);
}

const zstdMagic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const gzipMagic = Buffer.from([0x1f, 0x8b]);

/** Reads a checkpoint of either format: zstd, or gzip as written before. */
export function unpackCheckpoint(saved: Buffer): unknown {
  const text = saved.subarray(0, 4).equals(zstdMagic) ? zstdDecompressSync(saved)
    : saved.subarray(0, 2).equals(gzipMagic) ? gunzipSync(saved)
    : undefined;
  if (text === undefined) throw new Error(`checkpoint of ${saved.length} bytes is neither zstd nor gzip (it starts ${saved.subarray(0, 4).toString('hex')})`);
  return JSON.parse(text.toString('utf8')) as unknown;
}

interface AggregateOutput {
  events: readonly AggregateEvent[];
  /** The key of an aggregate's record on eip.aggregates.v1. */
  keyOf(a: AggregateEvent): string;
  /** The batch's other records (partials, dead letters, checkpoints), published after the aggregates. */
  others: readonly PublishItem[];
}

/**
 * A stage's own output record as a publish item: refused by the bus, it is
 * dead-lettered with the record as payload and its topic as source.
 */
export function outputItem(message: OutgoingMessage, now: () => number, context: WriteContext): PublishItem {
  return {
    messages: [message],
    deadLetter: (error) => sinkRefusedMessage({ stage: context.stage, sink: 'bus', error, source: message.topic, payload: typeof message.value === 'string' ? Buffer.from(message.value) : message.value, receivedAt: now() }),
  };
}

/**
 * Writes aggregates to the store first, then, with the batch's other records,
 * to the bus (shared/write-isolating.ts). An aggregate the store refuses (a
 * value it cannot hold) is dead-lettered instead of produced, so the store and
 * eip.aggregates.v1 hold the same windows. Resolves with the aggregates written to both.
 */
export async function writeAggregateOutput(store: TimeSeriesStore, publish: Publish, out: AggregateOutput, context: WriteContext, now: () => number): Promise<AggregateEvent[]> {
  const letters: PublishItem[] = [];
  const stored = out.events.length === 0 ? [] : await writeIsolating(out.events, {
    ...context, sink: 'timeseries',
    write: (part) => store.writeAggregates(part.map(toAggregatePoint)),
    onRefused: ({ item, error }) => {
      letters.push(deadLetterItem(sinkRefusedMessage({ stage: context.stage, sink: 'timeseries', error, source: 'timeseries/aggregate', payload: Buffer.from(JSON.stringify(item)), receivedAt: now() })));
    },
  });
  const items = new Map<PublishItem, AggregateEvent>(stored.map((a) => [outputItem({ topic: topics.aggregates.name, key: out.keyOf(a), value: JSON.stringify(a) }, now, context), a]));
  const published = await publishIsolating(publish, [...items.keys(), ...out.others, ...letters], context);
  return published.flatMap((i) => { const a = items.get(i); return a ? [a] : []; });
}
