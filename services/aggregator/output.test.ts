import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { deadLetterSchema, type AggregateEvent, type DeadLetter } from '../../shared/contracts/events.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { deadLetterMessage } from '../../shared/dead-letters.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { createSinkMetrics } from '../../shared/observability/sink-metrics.ts';
import { deadLetterItem } from '../../shared/write-isolating.ts';
import { randomGroup, waitFor } from '../../test/helpers/bus.ts';
import { gzipSync } from 'node:zlib';
import { packCheckpoint, unpackCheckpoint, writeAggregateOutput } from './output.ts';

const logger = quietLogger('aggregator-output-test');
const start = Date.UTC(2026, 10, 27, 10);
const aggregate = (meter: string, mean: number): AggregateEvent => ({
  v: 1, windowId: `w-${meter}`, revision: 0, scope: 'meter', park: 'nusantara-eip', tenant: 'park-wwtp', meter, metric: 'ph', unit: 'pH', window: '1m',
  start, end: start + 60_000, count: 2, sum: 14, min: 7, max: 7, mean, last: 7, registerEvents: [], simulated: false,
});

describe('writeAggregateOutput', () => {
  it('an aggregate the store refuses is dead-lettered once and not produced; the others are in both sinks', async () => {
    const bus = createSqliteBus({ path: ':memory:', logger });
    const store = createSqliteStore({ path: ':memory:', logger });
    const metrics = createSinkMetrics(createMetricsRegistry('t'));
    try {
      // NaN survives in memory (JSON would make it null): the store refuses it.
      const events = [aggregate('m1', 7), aggregate('m2', Number.NaN), aggregate('m3', 7)];
      const decodeLetter = deadLetterMessage({ stage: 'aggregator', reason: 'bad-event', detail: 'x', source: 'eip.readings.v1/0@1', payload: Buffer.from('x'), receivedAt: 1 });
      const written = await writeAggregateOutput(store, (m) => bus.publish(m), { events, keyOf: (a) => a.meter!, others: [deadLetterItem(decodeLetter)] }, { stage: 'aggregator', logger, metrics }, () => 5);
      assert.deepEqual(written.map((a) => a.meter), ['m1', 'm3']);
      const stored = await store.queryStoredAggregates({ scope: { park: 'nusantara-eip' }, aggregateScope: 'meter', metric: 'ph', window: '1m', from: start, to: start + 1 });
      assert.deepEqual(stored.map((a) => a.meter).sort(), ['m1', 'm3']);
      const seen = new Map<string, string[]>();
      const letters: DeadLetter[] = [];
      const sub = await bus.subscribe({ groupId: randomGroup('check'), topics: [topics.aggregates.name, topics.deadLetters.name], fromBeginning: true, handleBatch: async (b) => {
        for (const m of b.messages) {
          if (b.topic === topics.deadLetters.name) letters.push(deadLetterSchema.parse(JSON.parse(m.value!.toString())));
          else seen.set(b.topic, [...(seen.get(b.topic) ?? []), m.key!]);
        }
      } });
      await waitFor(() => (seen.get(topics.aggregates.name)?.length ?? 0) >= 2 && letters.length >= 2, 15_000, 'records on the bus');
      await sub.stop();
      assert.deepEqual(seen.get(topics.aggregates.name), ['m1', 'm3']);
      const refused = letters.find((l) => l.reason === 'sink-refused')!;
      assert.equal(letters.length, 2);
      assert.equal(refused.source, 'timeseries/aggregate');
      assert.match(refused.detail, /^timeseries refused it \(REJECTED\): aggregate #0: field mean must be a finite number/);
      assert.equal((JSON.parse(Buffer.from(refused.payloadBase64, 'base64').toString()) as AggregateEvent).meter, 'm2');
      assert.equal((await metrics.refused.get()).values[0]?.value, 1);
    } finally {
      await bus.close();
      await store.close();
    }
  });
});

describe('checkpoint packing', () => {
  const state = { aggregator: { v: 1, series: [{ meter: 'm1', fine: [{ s: start, x: [[0, 7.25], [1000, 7.5]] }] }] }, max: start, through: '41' };

  it('writes zstd and reads it back', () => {
    const packed = packCheckpoint(state);
    assert.equal(packed.subarray(0, 4).toString('hex'), '28b52ffd');
    assert.deepEqual(unpackCheckpoint(packed), state);
  });

  it('still reads a gzip checkpoint, as written before', () => {
    assert.deepEqual(unpackCheckpoint(gzipSync(JSON.stringify(state))), state);
  });

  it('refuses bytes of neither format, naming how they start', () => {
    assert.throws(() => unpackCheckpoint(Buffer.from(JSON.stringify(state))), /checkpoint of \d+ bytes is neither zstd nor gzip \(it starts 7b226167\)/);
  });
});
