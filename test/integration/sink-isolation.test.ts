/**
 * A record the real InfluxDB refuses never holds the others back: through the
 * InfluxDB adapter directly (a point older than the bucket's retention, which
 * InfluxDB answers 422, and one outside its time range, 400), and through the
 * ingest pipeline (InfluxDB store, embedded bus) with a reading older than the
 * retention among valid ones.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInfluxStore } from '../../shared/adapters/influxdb/index.ts';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { deadLetterSchema, type DeadLetter } from '../../shared/contracts/events.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import type { ReadingPoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { writeIsolating, type Refused } from '../../shared/write-isolating.ts';
import { IngestPipeline } from '../../services/ingest/pipeline.ts';
import { Spool } from '../../services/ingest/spool.ts';
import { createIngestMetrics } from '../../services/ingest/metrics.ts';
import { influx } from '../helpers/servers.ts';
import { makeTestPark, type TestPark } from '../helpers/test-park.ts';
import { randomGroup, waitFor } from '../helpers/bus.ts';

const logger = quietLogger('sink-isolation-test');
const day = 86_400_000;
/** Well past the retention of the project's readings bucket (30 days; a bucket kept for ever refuses only the out-of-range point). */
const longAgo = (now: number): number => now - 400 * day;

describe('sink isolation on the real InfluxDB', () => {
  let store: TimeSeriesStore;
  let park: TestPark;
  before(async () => {
    store = createInfluxStore({ ...influx, logger });
    if (!(await store.ping())) throw new Error(`InfluxDB at ${influx.url} does not answer; start it with: bash infra/stack.sh up influxdb`);
    park = makeTestPark(3);
  });
  after(async () => {
    await store.close();
    rmSync(park.dir, { recursive: true, force: true });
  });

  async function count(meter: string, from: number, to: number): Promise<number> {
    const r = await store.queryAggregate({ scope: { park: park.park, meter }, metric: 'active_power', from, to, fn: 'count' });
    return r.reduce((s, b) => s + b.value, 0);
  }

  it('the adapter: points InfluxDB refuses are isolated with its answer, the other 200 are stored', async () => {
    const now = Date.now();
    const point = (i: number, ts: number): ReadingPoint => ({ park: park.park, tenant: park.tenants[0], meter: park.meters[0]!, metric: 'active_power', unit: 'kW', value: i, ts });
    const points = Array.from({ length: 200 }, (_, i) => point(i, now - 600_000 + i * 1000));
    const outOfRetention = point(-1, longAgo(now));
    const outOfRange = point(-2, 9_300_000_000_000);
    const batch = [...points.slice(0, 57), outOfRetention, ...points.slice(57, 140), outOfRange, ...points.slice(140)];
    const refused: Array<Refused<ReadingPoint>> = [];
    let calls = 0;
    const written = await writeIsolating(batch, {
      stage: 'test', sink: 'timeseries', logger,
      write: (part) => { calls++; return store.writeReadings(part); },
      onRefused: (r) => { refused.push(r); },
    });
    assert.equal(written.length, 200);
    assert.deepEqual(refused.map((r) => r.item.value), [-1, -2]);
    assert.ok(refused.every((r) => r.error.code === 'REJECTED' && !r.error.retriable));
    assert.match(refused[0]!.error.message, /InfluxDB answered 422: .*retention/);
    assert.match(refused[1]!.error.message, /InfluxDB answered 400: .*time outside range/);
    assert.ok(calls <= 2 * Math.ceil(Math.log2(batch.length)) * 2 + 1, `${calls} writes`);
    assert.equal(await count(park.meters[0]!, now - day, now + day), 200);
  });

  it('the ingest pipeline: a reading InfluxDB refuses is dead-lettered, the valid ones around it and the batches after it are stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sink-isolation-'));
    const bus = createSqliteBus({ path: ':memory:', logger });
    const spool = Spool.open({ dir, logger });
    const metrics = createIngestMetrics(createMetricsRegistry('ingest-test'));
    const now = Date.now();
    const meter = park.meters[1]!;
    const topic = `eip/${park.park}/${park.tenants[0]}/${meter}/telemetry`;
    const message = (seq: number, ts: number): Buffer => Buffer.from(JSON.stringify({ v: 1, ts, seq, readings: [{ metric: 'active_power', value: seq, unit: 'kW' }] }));
    const pipeline = new IngestPipeline({
      spool, bus, store, metrics, logger, // Decode's own past bound opened wide, so the refusal comes from InfluxDB's retention.
      decode: { registry: loadParkRegistry(park.registryPath), maxFutureMs: 300_000, maxPastMs: 100 * 365 * 86_400_000, maxPayloadBytes: 65_536 },
      batchMaxMessages: 100, maxPending: 10_000, dedupWindow: 1024,
    });
    const letters: DeadLetter[] = [];
    const sub = await bus.subscribe({ groupId: randomGroup('letters'), topics: [topics.deadLetters.name], fromBeginning: true, handleBatch: async (b) => {
      for (const m of b.messages) letters.push(deadLetterSchema.parse(JSON.parse(m.value!.toString())));
    } });
    try {
      for (let seq = 0; seq < 80; seq++) pipeline.onMessage(topic, message(seq, seq === 33 ? longAgo(now) : now - 300_000 + seq * 1000), () => {});
      pipeline.start();
      await waitFor(() => spool.pending === 0, 60_000, 'drained past the refused reading');
      for (let seq = 80; seq < 100; seq++) pipeline.onMessage(topic, message(seq, now - 300_000 + seq * 1000), () => {});
      await waitFor(() => spool.pending === 0, 60_000, 'a later batch drained');
      await waitFor(() => letters.length >= 1, 30_000, 'the dead letter');
      assert.equal(await count(meter, now - day, now + day), 99);
      assert.equal(letters.length, 1);
      // Today InfluxDB refuses it; a decode with a lower bound on time refuses it first, with a reason of its own.
      const dl = letters[0]!;
      assert.equal(dl.stage, 'ingest');
      assert.equal((JSON.parse(Buffer.from(dl.payloadBase64, 'base64').toString()) as { seq: number }).seq, 33);
      if (dl.reason === 'sink-refused') assert.match(dl.detail, /^timeseries refused it \(REJECTED\): write readings: InfluxDB answered 422/);
      assert.equal((await metrics.readingsWritten.get()).values[0]?.value, 99);
    } finally {
      await pipeline.stop();
      await sub.stop();
      spool.close();
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
