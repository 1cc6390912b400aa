import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EipError } from './errors.ts';
import { classifyWriteFailure, publishIsolating, writeIsolating, deadLetterItem, type PublishItem, type Refused } from './write-isolating.ts';
import { createSinkMetrics } from './observability/sink-metrics.ts';
import { createMetricsRegistry } from './observability/metrics.ts';
import { quietLogger } from './observability/logger.ts';
import { deadLetterMessage, sinkRefusedMessage } from './dead-letters.ts';
import { deadLetterSchema } from './contracts/events.ts';
import type { EventBus, OutgoingMessage } from './ports/event-bus.ts';

const logger = quietLogger();

/** A sink that refuses a whole batch when any item in it is poisoned, as InfluxDB and the stores do. */
function fakeSink(poisoned: (n: number) => boolean, refusal = (): EipError => new EipError('REJECTED', 'bad point')) {
  const stored: number[] = [];
  const calls: number[][] = [];
  return {
    stored, calls,
    write: (items: readonly number[]): Promise<void> => {
      calls.push([...items]);
      if (items.some(poisoned)) return Promise.reject(refusal());
      stored.push(...items);
      return Promise.resolve();
    },
  };
}

const noSleep = { sleep: async (): Promise<void> => {} };
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('writeIsolating', () => {
  it('classifies failures: retriable, refused by the records, or blocked by the sink', () => {
    assert.equal(classifyWriteFailure(new EipError('UNAVAILABLE', 'down')), 'retriable');
    assert.equal(classifyWriteFailure(new EipError('THROTTLED', 'slow')), 'retriable');
    assert.equal(classifyWriteFailure(new EipError('REJECTED', 'bad')), 'refused');
    assert.equal(classifyWriteFailure(new EipError('TOO_LARGE', 'big')), 'refused');
    assert.equal(classifyWriteFailure(new EipError('PAYLOAD_INVALID', 'NaN')), 'refused');
    assert.equal(classifyWriteFailure(new EipError('REJECTED', 'may pass', { retriable: true })), 'retriable');
    assert.equal(classifyWriteFailure(new EipError('UNAUTHORIZED', 'token')), 'blocked');
    assert.equal(classifyWriteFailure(new EipError('NOT_FOUND', 'bucket')), 'blocked');
    assert.equal(classifyWriteFailure(new TypeError('bug')), 'blocked');
  });

  it('finds one poisoned item among n, writes the rest in order, and reports the sink\'s error', async () => {
    const sink = fakeSink((n) => n === 37);
    const refused: Array<Refused<number>> = [];
    const written = await writeIsolating(range(100), { stage: 't', sink: 'fake', logger, ...noSleep, write: sink.write, onRefused: (r) => { refused.push(r); } });
    assert.deepEqual(written, range(100).filter((n) => n !== 37));
    assert.deepEqual(sink.stored, written);
    assert.deepEqual(refused.map((r) => r.item), [37]);
    assert.equal(refused[0]!.error.code, 'REJECTED');
    assert.equal(refused[0]!.error.message, 'bad point');
    assert.ok(sink.calls.length <= 2 * Math.ceil(Math.log2(100)) + 1, `${sink.calls.length} calls for one poison among 100`);
    assert.equal(sink.calls.filter((c) => c.length === 1 && c[0] === 37).length, 1, 'the refused item alone is tried once, never again');
  });

  it('isolates any k poisoned among n (property), within 2n - 1 calls, every item written or refused exactly once', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: n }))),
      async ([n, poison]) => {
        const bad = new Set(n === 0 ? [] : poison);
        const sink = fakeSink((x) => bad.has(x));
        const refused: number[] = [];
        const written = await writeIsolating(range(n), { stage: 't', sink: 'fake', logger, ...noSleep, write: sink.write, onRefused: (r) => { refused.push(r.item); } });
        assert.deepEqual(written, range(n).filter((x) => !bad.has(x)));
        assert.deepEqual(refused, range(n).filter((x) => bad.has(x)));
        assert.ok(sink.calls.length <= Math.max(1, 2 * n - 1));
      },
    ), { seed: 11, numRuns: 200 });
  });

  it('a sink refusing everything ends after 2n - 1 calls with every item dead-lettered', async () => {
    const sink = fakeSink(() => true, () => new EipError('TOO_LARGE', 'over the limit'));
    const refused: number[] = [];
    const written = await writeIsolating(range(64), { stage: 't', sink: 'fake', logger, ...noSleep, write: sink.write, onRefused: (r) => { refused.push(r.item); } });
    assert.deepEqual(written, []);
    assert.deepEqual(refused, range(64));
    assert.equal(sink.calls.length, 127);
  });

  it('retries retriable errors with backoff without splitting, then writes the batch whole', async () => {
    let failures = 3;
    const calls: number[] = [];
    const delays: number[] = [];
    const written = await writeIsolating(range(10), {
      stage: 't', sink: 'fake', logger, policy: { jitter: 0 }, sleep: async (ms) => { delays.push(ms); },
      write: (items) => { calls.push(items.length); return failures-- > 0 ? Promise.reject(new EipError('UNAVAILABLE', 'down')) : Promise.resolve(); },
      onRefused: () => assert.fail('nothing is refused'),
    });
    assert.deepEqual(written, range(10));
    assert.deepEqual(calls, [10, 10, 10, 10]);
    assert.deepEqual(delays, [200, 400, 800]);
  });

  it('honours the sink\'s Retry-After through the injected sleep, capped', async () => {
    const hints = [7_000, 3_600_000_000];
    const delays: number[] = [];
    await writeIsolating([1], {
      stage: 't', sink: 'fake', logger, policy: { jitter: 0 }, sleep: async (ms) => { delays.push(ms); },
      write: () => { const h = hints.shift(); return h === undefined ? Promise.resolve() : Promise.reject(new EipError('THROTTLED', '429', { retryAfterMs: h })); },
      onRefused: () => assert.fail('nothing is refused'),
    });
    assert.deepEqual(delays, [7_000, 300_000], 'the hint when longer than the backoff; a hint of 1,000 hours is capped at 5 minutes');
  });

  it('bounds attempts by maxAttempts: the error is thrown, nothing reported refused', async () => {
    let calls = 0;
    await assert.rejects(writeIsolating([1, 2], {
      stage: 't', sink: 'fake', logger, policy: { maxAttempts: 4 }, ...noSleep,
      write: () => { calls++; return Promise.reject(new EipError('TIMEOUT', 'slow')); },
      onRefused: () => assert.fail('a timeout is not a refusal'),
    }), /slow/);
    assert.equal(calls, 4);
  });

  it('holds the records and retries while the sink is blocked (auth), visible in a gauge, never dead-lettering them', async () => {
    const metrics = createSinkMetrics(createMetricsRegistry('t'));
    let failures = 5;
    const gauge: number[] = [];
    const written = await writeIsolating(range(4), {
      stage: 'ingest', sink: 'timeseries', logger, metrics, ...noSleep,
      write: async () => {
        gauge.push((await metrics.blocked.get()).values[0]?.value ?? 0);
        if (failures-- > 0) throw new EipError('UNAUTHORIZED', 'token refused');
      },
      onRefused: () => assert.fail('an auth error does not dead-letter data'),
    });
    assert.deepEqual(written, range(4));
    assert.deepEqual(gauge, [0, 1, 1, 1, 1, 1]);
    assert.equal((await metrics.blocked.get()).values[0]?.value, 0, 'cleared once the sink takes writes again');
    assert.equal((await metrics.retries.get()).values.find((v) => v.labels.kind === 'blocked')?.value, 5);
  });

  it('stops at once when its signal aborts or the sink is closed', async () => {
    const ac = new AbortController();
    await assert.rejects(writeIsolating([1], {
      stage: 't', sink: 'fake', logger, signal: ac.signal, ...noSleep,
      write: () => { ac.abort(); return Promise.reject(new EipError('UNAVAILABLE', 'down')); },
      onRefused: () => assert.fail(),
    }), /down/);
    await assert.rejects(writeIsolating([1], { stage: 't', sink: 'fake', logger, ...noSleep, write: () => Promise.reject(new EipError('CLOSED', 'closed')), onRefused: () => assert.fail() }), /closed/);
  });

  it('counts refusals by stage, sink and code', async () => {
    const metrics = createSinkMetrics(createMetricsRegistry('t'));
    const sink = fakeSink((n) => n % 10 === 0);
    await writeIsolating(range(30), { stage: 'aggregator', sink: 'timeseries', logger, metrics, ...noSleep, write: sink.write, onRefused: () => {} });
    const v = (await metrics.refused.get()).values;
    assert.deepEqual(v.map((x) => [x.labels, x.value]), [[{ stage: 'aggregator', sink: 'timeseries', code: 'REJECTED' }, 3]]);
  });
});

/** A bus refusing messages over a size, as Kafka does with MESSAGE_TOO_LARGE, keeping what it takes. */
function sizeLimitedBus(limit: number): EventBus & { log: OutgoingMessage[] } {
  const log: OutgoingMessage[] = [];
  const bus = {
    log,
    publish: (messages: readonly OutgoingMessage[]): Promise<void> => {
      if (messages.some((m) => String(m.value).length > limit)) return Promise.reject(new EipError('TOO_LARGE', 'MESSAGE_TOO_LARGE'));
      log.push(...messages);
      return Promise.resolve();
    },
  };
  return bus as unknown as EventBus & { log: OutgoingMessage[] };
}

describe('publishIsolating', () => {
  it('replaces a refused item by its dead letter, and a refused dead letter by one without its payload', async () => {
    const metrics = createSinkMetrics(createMetricsRegistry('t'));
    const bus = sizeLimitedBus(2_000);
    const big = 'x'.repeat(3_000);
    const item = (value: string): PublishItem => ({
      messages: [{ topic: 'data', key: 'k', value }],
      deadLetter: (error) => sinkRefusedMessage({ stage: 'rules', sink: 'bus', error, source: 'data/0@1', payload: Buffer.from(value), receivedAt: 5 }),
    });
    const decodeLetter = deadLetterMessage({ stage: 'rules', reason: 'bad-event', detail: 'x', source: 'data/0@2', payload: Buffer.from(big), receivedAt: 6 });
    const published = await publishIsolating((m) => bus.publish(m), [item('a'), item(big), item('b'), deadLetterItem(decodeLetter)], { stage: 'rules', logger, metrics, ...noSleep });
    assert.equal(published.length, 2);
    assert.deepEqual(bus.log.filter((m) => m.topic === 'data').map((m) => m.value), ['a', 'b']);
    const letters = bus.log.filter((m) => m.topic !== 'data').map((m) => deadLetterSchema.parse(JSON.parse(String(m.value))));
    assert.equal(letters.length, 2, 'each refused record has one dead letter');
    const refusedData = letters.find((l) => l.source === 'data/0@1')!;
    assert.equal(refusedData.reason, 'sink-refused');
    assert.match(refusedData.detail, /bus refused it \(TOO_LARGE\): MESSAGE_TOO_LARGE/);
    assert.match(refusedData.detail, /payload dropped/, 'its own payload was too large for the bus as well');
    assert.equal(refusedData.payloadBase64, '');
    const refusedLetter = letters.find((l) => l.source === 'data/0@2')!;
    assert.equal(refusedLetter.reason, 'bad-event', 'a dead letter keeps its reason when only its payload is dropped');
    assert.equal((await metrics.deadLettersLost.get()).values.length, 0);
  });

  it('counts and logs a dead letter the bus refuses even without its payload', async () => {
    const metrics = createSinkMetrics(createMetricsRegistry('t'));
    const bus = sizeLimitedBus(10);
    const published = await publishIsolating((m) => bus.publish(m), [deadLetterItem(deadLetterMessage({ stage: 'rules', reason: 'bad-event', detail: 'x', source: 's', payload: null, receivedAt: 1 }))], { stage: 'rules', logger, metrics, ...noSleep });
    assert.equal(published.length, 0);
    assert.equal(bus.log.length, 0);
    assert.equal((await metrics.deadLettersLost.get()).values[0]?.value, 1);
  });
});
