/**
 * Checkpoints at most every AGGREGATOR_CHECKPOINT_INTERVAL_MS, offsets held
 * until then: a crash between two checkpoints replays every batch since the
 * last one on top of it, and the windows come out as an uninterrupted run
 * gives them (the embedded bus and store, the runtime as the service runs it).
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteBus, type SqliteEventBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { aggregateEventSchema, type AggregateEvent, type ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { EipError } from '../../shared/errors.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import type { EventBus, OutgoingMessage } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { randomGroup, waitFor } from '../../test/helpers/bus.ts';
import { content, H, lateRegistry, lateStart, traffic } from '../../test/helpers/late-data.ts';
import { recordingSupervisor } from '../../test/helpers/supervisor.ts';
import { AggregatorRuntime } from './aggregator.ts';
import { createAggregatorMetrics, type AggregatorMetrics } from './metrics.ts';

const logger = quietLogger('held-commits-test');
const park = 'held-park';
const registry = lateRegistry(park);
// Live for 12 hours, with a 2-hour outage resent in order: windows close, revise and backfill across the crash.
const steps = traffic(park, { outageStart: lateStart + 4 * H, outageMs: 2 * H, order: 'in-order', end: lateStart + 12 * H, stepsPerBatch: 10 });

interface Instance {
  runtime: AggregatorRuntime;
  metrics: AggregatorMetrics;
}

/** Stopped at the end of a test whatever happened, so that their timers do not outlive it. */
const started: AggregatorRuntime[] = [];

async function start(bus: EventBus, store: TimeSeriesStore, group: string, checkpointIntervalMs: number): Promise<Instance> {
  const metrics = createAggregatorMetrics(createMetricsRegistry('held-commits'));
  const runtime = new AggregatorRuntime({
    bus, store, registry, metrics, logger, group, supervisor: recordingSupervisor(), checkpointIntervalMs,
    allowedLatenessMs: 2 * H, outOfOrdernessMs: 5_000, idlePartitionMs: 1_000, idleSeriesMs: 60_000, backfillMaxAgeMs: 29 * 24 * H, backfillConcurrency: 4, batchMax: 5_000,
  });
  await runtime.start();
  started.push(runtime);
  // Nothing closes until every partition assigned has had one idle period to deliver.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  return { runtime, metrics };
}

const records = async (m: AggregatorMetrics): Promise<number> => (await m.records.get()).values.reduce((n, v) => n + v.value, 0);
const checkpoints = async (m: AggregatorMetrics): Promise<number> => (await m.checkpointSeconds.get()).values.find((v) => v.metricName === 'eip_aggregator_checkpoint_seconds_count')?.value ?? 0;

/** Ingest's order: the store first, then the bus; then until the instance has taken the step. */
async function feed(bus: SqliteEventBus, store: TimeSeriesStore, i: Instance, batch: readonly ReadingBatchEvent[], expected: number): Promise<void> {
  await store.writeReadings(batch.flatMap((e) => e.readings.map((r) => ({ park: e.park, tenant: e.tenant, meter: e.meter, metric: r.metric, unit: r.unit, value: r.value, ts: r.ts }))));
  await bus.publish(batch.map((e) => ({ topic: topics.readings.name, key: e.meter, value: JSON.stringify(e) })));
  await waitFor(async () => (await records(i.metrics)) >= expected, 15_000, `${expected} records taken`);
}

/**
 * Every window on eip.aggregates.v1 as a consumer that drops a revision it has
 * seen keeps it (the rules service does), as content. Also checks that no
 * (windowId, revision) ever names two contents, which would make such a
 * consumer keep the first and miss the other.
 */
async function windows(bus: SqliteEventBus, until: number): Promise<Map<string, unknown>> {
  const latest = new Map<string, AggregateEvent>();
  const named = new Map<string, string>();
  const clashes: string[] = [];
  let seen = 0;
  const sub = await bus.subscribe({
    groupId: randomGroup('read'), topics: [topics.aggregates.name], fromBeginning: true,
    handleBatch: (b) => {
      for (const m of b.messages) {
        const a = aggregateEventSchema.parse(JSON.parse(m.value!.toString()));
        const key = `${a.windowId}@${a.revision}`;
        const body = JSON.stringify(content(a));
        const before = named.get(key);
        if (before === undefined) named.set(key, body);
        else if (before !== body) clashes.push(key);
        const held = latest.get(a.windowId);
        if (!held || a.revision > held.revision) latest.set(a.windowId, a);
        seen++;
      }
      return Promise.resolve();
    },
  });
  let last = -1;
  // Until nothing more arrives for a while: the topic is not growing any more.
  await waitFor(() => { const settled = seen > 0 && seen === last; last = seen; return settled; }, 15_000, 'the aggregates topic read', 300);
  await sub.stop();
  assert.deepEqual(clashes.slice(0, 5), [], `${clashes.length} (windowId, revision) pairs with two contents`);
  return new Map([...latest.values()].filter((a) => a.end <= until).sort((a, b) => (a.windowId < b.windowId ? -1 : 1)).map((a) => [a.windowId, content(a)]));
}

/** A bus whose held commits never land: a kill between writing a checkpoint and committing its offsets. */
function commitsLost(bus: SqliteEventBus): EventBus {
  return {
    publish: (m) => bus.publish(m), readCompacted: (t) => bus.readCompacted(t), partitionCount: (t) => bus.partitionCount(t), ping: () => bus.ping(), close: () => bus.close(),
    subscribe: async (o) => {
      const sub = await bus.subscribe(o);
      return { stop: () => sub.stop(), commitHeld: () => Promise.reject(new Error('killed before the commit')) };
    },
  };
}

/** A bus that refuses every checkpoint of the readings partitions holding windows as too large: they are dead-lettered. */
function checkpointsRefused(bus: SqliteEventBus): EventBus {
  const large = (v: OutgoingMessage['value']): boolean => v !== null && v.length > 512;
  return {
    publish: (m) => (m.some((x) => x.topic === topics.aggregatorState.name && !(x.key ?? '').endsWith('/rollups') && large(x.value))
      ? Promise.reject(new EipError('TOO_LARGE', 'checkpoint over the broker\'s limit', { retriable: false }))
      : bus.publish(m)),
    readCompacted: (t) => bus.readCompacted(t), partitionCount: (t) => bus.partitionCount(t), ping: () => bus.ping(), close: () => bus.close(),
    subscribe: (o) => bus.subscribe(o),
  };
}

/** One power reading of live-a `dt` ms into the scenario's first minute and after, as a one-event batch. */
const T = lateStart;
const at = (dt: number, value: number): ReadingBatchEvent[] => [{ v: 1, park, tenant: 't1', meter: 'live-a', seq: 0, receivedAt: T + dt, simulated: false, readings: [{ metric: 'active_power', unit: 'kW', value, ts: T + dt }] }];

/** The meter windows of a consumer's view (`windows`) ending by the first minute's end, as [count, sum]. */
const firstMinute = (w: Map<string, unknown>): number[][] => [...w].filter(([id]) => id.startsWith('meter:')).map(([, v]) => [(v as { count: number }).count, (v as { sum: number }).sum]);

const sameWindows = (actual: Map<string, unknown>, expected: Map<string, unknown>): void => {
  assert.ok(expected.size > 500, `${expected.size} windows compared`);
  assert.deepEqual([...actual.keys()].filter((k) => !expected.has(k)), [], 'no window the uninterrupted run lacks');
  assert.deepEqual([...expected.keys()].filter((k) => !actual.has(k)), [], 'no window missing');
  for (const [k, v] of expected) assert.deepEqual(actual.get(k), v, k);
};

describe('held commits: a checkpoint every interval, offsets committed through it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eip-held-'));
  const until = lateStart + 11 * H;
  const cut = Math.floor((steps.length * 2) / 3);
  const open: Array<{ close(): Promise<void> }> = [];
  const track = <T extends { close(): Promise<void> }>(x: T): T => { open.push(x); return x; };
  let expected = new Map<string, unknown>();

  before(async () => {
    // Uninterrupted, checkpointing after every batch as before.
    const busA = track(createSqliteBus({ path: join(dir, 'a.sqlite'), logger, leaseMs: 300 }));
    const storeA = track(createSqliteStore({ path: ':memory:', logger }));
    const a = await start(busA, storeA, randomGroup('agg'), 0);
    let n = 0;
    for (const batch of steps) await feed(busA, storeA, a, batch, (n += batch.length));
    await a.runtime.stop();
    expected = await windows(busA, until);
  });

  afterEach(async () => {
    for (const r of started.splice(0)) await r.stop();
  });

  after(async () => {
    for (const x of open.reverse()) await x.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a crash after many uncheckpointed batches: the restored checkpoint plus the replay gives the windows of an uninterrupted run', { timeout: 120_000 }, async () => {
    // The same stream with a crash two thirds in: one checkpoint (the first batch's), every batch after held.
    const path = join(dir, 'b.sqlite');
    const group = randomGroup('agg');
    const store = track(createSqliteStore({ path: ':memory:', logger }));
    const bus1 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b1 = await start(bus1, store, group, 3_600_000);
    let n = 0;
    for (const batch of steps.slice(0, cut)) await feed(bus1, store, b1, batch, (n += batch.length));
    const beforeCrash = n;
    assert.equal(await checkpoints(b1.metrics), 1, 'one checkpoint before the crash: the first batch\'s');
    // The crash: the bus goes away under the runtime, which neither checkpoints nor commits again.
    await bus1.close();
    // Only its timers: it holds nothing any more, so it writes nothing.
    await b1.runtime.stop();

    const bus2 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b2 = await start(bus2, store, group, 3_600_000);
    const replayed = beforeCrash - steps[0]!.length;
    await waitFor(async () => (await records(b2.metrics)) >= replayed, 15_000, 'the replay of the held batches');
    n = replayed;
    for (const batch of steps.slice(cut)) await feed(bus2, store, b2, batch, (n += batch.length));
    await b2.runtime.stop();
    assert.equal(await records(b2.metrics), replayed + steps.slice(cut).reduce((k, s) => k + s.length, 0), 'every batch after the checkpoint replayed once, none before it');
    sameWindows(await windows(bus2, until), expected);
  });

  it('a checkpoint the bus refuses commits nothing: a restart replays from the last checkpoint written, the windows as uninterrupted', { timeout: 120_000 }, async () => {
    const path = join(dir, 'd.sqlite');
    const group = randomGroup('agg');
    const store = track(createSqliteStore({ path: ':memory:', logger }));
    const bus1 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    // A checkpoint after every batch, as before the interval, and every one refused.
    const b1 = await start(checkpointsRefused(bus1), store, group, 0);
    let n = 0;
    for (const batch of steps.slice(0, cut)) await feed(bus1, store, b1, batch, (n += batch.length));
    assert.ok((await b1.metrics.sinks.refused.get()).values.reduce((k, v) => k + v.value, 0) > 0, 'the checkpoints were refused');
    await bus1.close();
    await b1.runtime.stop();

    const bus2 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b2 = await start(bus2, store, group, 0);
    await waitFor(async () => (await records(b2.metrics)) >= n, 15_000, 'the replay from the start');
    for (const batch of steps.slice(cut)) await feed(bus2, store, b2, batch, (n += batch.length));
    await b2.runtime.stop();
    assert.equal(await records(b2.metrics), n, 'every record again: nothing was committed past a refused checkpoint');
    sameWindows(await windows(bus2, until), expected);
  });

  it('a refused checkpoint is encoded again only after the interval, not with every batch that follows', { timeout: 60_000 }, async () => {
    const path = join(dir, 'd2.sqlite');
    const store = track(createSqliteStore({ path: ':memory:', logger }));
    const bus = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b = await start(checkpointsRefused(bus), store, randomGroup('agg'), 60_000);
    const refused = async (): Promise<number> => (await b.metrics.sinks.refused.get()).values.reduce((k, v) => k + v.value, 0);
    let n = 0;
    let i = 0;
    while ((await refused()) === 0) await feed(bus, store, b, steps[i]!, (n += steps[i++]!.length));
    const encoded = await checkpoints(b.metrics);
    for (const batch of steps.slice(i, i + 8)) await feed(bus, store, b, batch, (n += batch.length));
    assert.equal(await checkpoints(b.metrics), encoded, 'no checkpoint encoded in the interval after the refused one');
    assert.equal(await refused(), 1, 'refused once');
  });

  it('a window revised after the checkpoint, then replayed in one batch: its numbers continue those emitted before the crash, so a consumer dropping revisions it has seen misses nothing', { timeout: 60_000 }, async () => {
    const path = join(dir, 'e.sqlite');
    const group = randomGroup('agg');
    const store = track(createSqliteStore({ path: ':memory:', logger }));
    const bus1 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b1 = await start(bus1, store, group, 3_600_000);
    // The first batch is checkpointed (its minute open); the second closes the minute (revision 0), the third revises it in memory (revision 1).
    let n = 0;
    for (const batch of [at(0, 10), at(90_000, 11), at(30_000, 12)]) await feed(bus1, store, b1, batch, ++n);
    await waitFor(async () => (await b1.metrics.emitted.get()).values.reduce((k, v) => k + v.value, 0) >= 2, 10_000, 'the minute and its revision emitted');
    await bus1.close();
    await b1.runtime.stop();

    const bus2 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b2 = await start(bus2, store, group, 3_600_000);
    // The replay takes the second and third records in one batch: the minute comes out once, with both readings.
    await waitFor(async () => (await records(b2.metrics)) >= 2, 15_000, 'the replay of the held batches');
    await feed(bus2, store, b2, at(45_000, 13), 3);
    await b2.runtime.stop();
    assert.deepEqual(firstMinute(await windows(bus2, T + 60_000)), [[3, 10 + 12 + 13]], 'the minute with every reading, the one after the restore included');
    const outcomes = new Map((await b2.metrics.replayWindows.get()).values.map((v) => [v.labels.outcome, v.value]));
    assert.ok((outcomes.get('repeat') ?? 0) + (outcomes.get('renumbered') ?? 0) >= 1, `the replayed minute numbered after the store: ${JSON.stringify([...outcomes])}`);
  });

  it('after a graceful stop nothing is checked against the store: its last checkpoint says nothing was emitted after it', { timeout: 60_000 }, async () => {
    const path = join(dir, 'f.sqlite');
    const group = randomGroup('agg');
    const store = track(createSqliteStore({ path: ':memory:', logger }));
    const bus1 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b1 = await start(bus1, store, group, 3_600_000);
    let n = 0;
    for (const batch of [at(0, 10), at(90_000, 11), at(30_000, 12)]) await feed(bus1, store, b1, batch, ++n);
    await b1.runtime.stop();
    await bus1.close();
    // A partition without a checkpoint had no owner that emitted: its first owner wrote an empty one before anything else.
    assert.deepEqual((await b1.metrics.replayWindows.get()).values.filter((v) => v.value > 0), [], 'a first owner checks nothing');

    const bus2 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b2 = await start(bus2, store, group, 3_600_000);
    await feed(bus2, store, b2, at(45_000, 13), 1);
    await b2.runtime.stop();
    // The roll-up stage has no such mark (it may replay the stop's last partials): the readings partitions' meter windows.
    assert.deepEqual((await b2.metrics.replayWindows.get()).values.filter((v) => v.labels.stage === 'meters' && v.value > 0), [], 'no meter window checked');
    assert.deepEqual(firstMinute(await windows(bus2, T + 60_000)), [[3, 10 + 12 + 13]]);
  });

  it('a kill between a checkpoint and its commit: the replayed records the checkpoint holds are skipped, none taken for late, the windows as uninterrupted', { timeout: 120_000 }, async () => {
    const path = join(dir, 'c.sqlite');
    const group = randomGroup('agg');
    const store = track(createSqliteStore({ path: ':memory:', logger }));
    const bus1 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b1 = await start(commitsLost(bus1), store, group, 3_600_000);
    let n = 0;
    for (const batch of steps.slice(0, cut)) await feed(bus1, store, b1, batch, (n += batch.length));
    const beforeCrash = n;
    // The stop checkpoints everything recorded; its commit is lost, so only the first batch is committed.
    await b1.runtime.stop();
    assert.equal(await checkpoints(b1.metrics), 2);
    await bus1.close();

    const bus2 = track(createSqliteBus({ path, logger, leaseMs: 300 }));
    const b2 = await start(bus2, store, group, 3_600_000);
    const replayed = beforeCrash - steps[0]!.length;
    await waitFor(async () => (await records(b2.metrics)) >= replayed, 15_000, 'the replay of the uncommitted batches');
    n = replayed;
    const readings = async (outcome: string): Promise<number> => (await b2.metrics.readings.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    assert.equal(await readings('accepted'), 0, 'what the checkpoint holds is not recorded again');
    for (const batch of steps.slice(cut)) await feed(bus2, store, b2, batch, (n += batch.length));
    await b2.runtime.stop();
    assert.equal(await readings('late'), 0, 'no replayed reading taken for a late one');
    sameWindows(await windows(bus2, until), expected);
  });
});
