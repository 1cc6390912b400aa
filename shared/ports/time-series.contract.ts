/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe/it return promises that the runner itself awaits */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EipError } from '../errors.ts';
import type {
  AggregateBucket,
  AggregateFn,
  AggregatePoint,
  AggregateQuery,
  AlertEventPoint,
  ReadingPoint,
  TimeSeriesStore,
} from './time-series.ts';

/**
 * The behaviour every TimeSeriesStore must show, run against each adapter (the
 * abstract-store pattern). Every test writes under its own random park id, so
 * runs can share one InfluxDB and never see each other's points.
 *
 * Beyond the port's doc comments, it pins down what callers rely on:
 * - queries return `simulated` as an explicit boolean, and leave absent optional
 *   fields out (no key set to undefined);
 * - rows with the same time are ordered by tenant, meter, metric (readings),
 *   fingerprint, state (alert events) or tenant, meter (stored aggregates);
 * - queryAggregate returns no bucket where there is no point (an empty range
 *   gives [], even for count), and labels a bucket with its epoch-aligned start,
 *   or with `from` when there are no buckets; `last` breaks a tie in time by the
 *   greatest tenant, then meter;
 * - a batch with an invalid point (NaN, empty tag, fractional ms) is refused
 *   whole with a non-retriable REJECTED (what a sink says of records it will never take).
 */

export interface TimeSeriesStoreHandle {
  store: TimeSeriesStore;
  cleanup(): Promise<void>;
}

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const fns: readonly AggregateFn[] = ['count', 'sum', 'mean', 'min', 'max', 'last'];

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A recent hour boundary: inside any retention period, and aligned for bucket tests. */
function baseTime(): number {
  return Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR;
}

function cmp(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

function byTime(a: ReadingPoint, b: ReadingPoint): number {
  return a.ts - b.ts || cmp(a.tenant, b.tenant) || cmp(a.meter, b.meter) || cmp(a.metric, b.metric);
}

/** What a query returns for a written reading. */
function stored(p: ReadingPoint): ReadingPoint {
  return { ...p, simulated: p.simulated === true };
}

function storedAggregate(p: AggregatePoint): AggregatePoint {
  const out: AggregatePoint = { ...p, simulated: p.simulated === true };
  for (const key of ['tenant', 'meter', 'consumption', 'completeness', 'expected', 'revision', 'registerEvents', 'lastAt'] as const) if (out[key] === undefined) delete out[key];
  return out;
}

function storedEvent(e: AlertEventPoint): AlertEventPoint {
  const out: AlertEventPoint = { ...e, simulated: e.simulated === true };
  for (const key of ['tenant', 'meter', 'metric', 'value', 'transition', 'by', 'threshold', 'windowStart', 'windowEnd', 'detail'] as const) if (out[key] === undefined) delete out[key];
  return out;
}

/** The meaning of queryAggregate, computed over the points a test wrote. */
export function referenceAggregate(points: readonly ReadingPoint[], q: AggregateQuery): AggregateBucket[] {
  const selected = points
    .filter((p) => p.park === q.scope.park && (q.scope.tenant === undefined || p.tenant === q.scope.tenant)
      && (q.scope.meter === undefined || p.meter === q.scope.meter) && p.metric === q.metric && p.ts >= q.from && p.ts < q.to)
    .sort(byTime);
  const buckets = new Map<number, number[]>();
  for (const p of selected) {
    const ts = q.everyMs === undefined ? q.from : Math.floor(p.ts / q.everyMs) * q.everyMs;
    const values = buckets.get(ts) ?? [];
    values.push(p.value);
    buckets.set(ts, values);
  }
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([ts, v]) => {
    const sum = v.reduce((s, x) => s + x, 0);
    const value = { count: v.length, sum, mean: sum / v.length, min: Math.min(...v), max: Math.max(...v), last: v[v.length - 1] ?? Number.NaN }[q.fn];
    return { ts, value };
  });
}

async function assertRejects(promise: Promise<unknown>, code: string, retriable: boolean): Promise<EipError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof EipError, `expected an EipError ${code}, got ${caught === undefined ? 'a resolved promise' : caught instanceof Error ? caught.message : typeof caught}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.retriable, retriable);
  return caught;
}

export function timeSeriesContract(name: string, makeStore: () => Promise<TimeSeriesStoreHandle>): void {
  describe(`TimeSeriesStore contract: ${name}`, () => {
    let handle: TimeSeriesStoreHandle | undefined;
    let store: TimeSeriesStore;
    const base = baseTime();

    before(async () => {
      handle = await makeStore();
      store = handle.store;
    });
    after(async () => {
      await handle?.cleanup();
    });

    function reading(park: string, over: Partial<ReadingPoint> = {}): ReadingPoint {
      return { park, tenant: 'tenant-a', meter: 'meter-1', metric: 'power', unit: 'kW', value: 1, ts: base, ...over };
    }

    it('ping answers true', async () => {
      assert.equal(await store.ping(), true);
    });

    it('reads back written readings exactly, oldest first', async () => {
      const park = newId('park');
      const points: ReadingPoint[] = [
        reading(park, { ts: base + 2_001, value: 123456789.125 }),
        reading(park, { ts: base + 1, value: 12.345 }),
        reading(park, { ts: base + 1_000, value: -0.5, simulated: true }),
        reading(park, { ts: base + 1_000, meter: 'meter-0', value: 1e-7 }),
        reading(park, { ts: base + 1_000, tenant: 'tenant-b', meter: 'meter-0', value: 0 }),
        // Spaces, commas and equals signs in tag values must survive the line protocol.
        reading(park, { ts: base + 1_500, metric: 'co2 emitted, scope=1', unit: 'kg CO2e, a=b', value: 42 }),
        reading(park, { ts: base + 3_000, value: 1.5e21, simulated: false }),
      ];
      await store.writeReadings(points);
      const got = await store.queryReadings({ scope: { park }, from: base, to: base + HOUR });
      assert.deepEqual(got, points.map(stored).sort(byTime));
    });

    it('queries the range [from, to)', async () => {
      const park = newId('park');
      const times = [base - 1, base, base + 1, base + 999, base + 1_000];
      await store.writeReadings(times.map((ts, i) => reading(park, { ts, value: i })));
      const got = await store.queryReadings({ scope: { park }, from: base, to: base + 1_000 });
      assert.deepEqual(got.map((p) => p.ts), [base, base + 1, base + 999]);
      assert.deepEqual(await store.queryReadings({ scope: { park }, from: base + 5, to: base + 5 }), []);
      assert.deepEqual(await store.queryReadings({ scope: { park }, from: base + 999, to: base + 999 + 1 }).then((r) => r.map((p) => p.value)), [3]);
    });

    it('filters by park, tenant, meter and metric, and limit keeps the oldest', async () => {
      const park = newId('park');
      const otherPark = newId('park');
      const points: ReadingPoint[] = [];
      let t = base;
      for (const [tenant, meter] of [['tenant-a', 'meter-1'], ['tenant-a', 'meter-2'], ['tenant-b', 'meter-3']] as const) {
        for (const metric of ['power', 'energy']) {
          points.push(reading(park, { tenant, meter, metric, ts: (t += SECOND), value: t - base }));
        }
      }
      const elsewhere = points.map((p) => ({ ...p, park: otherPark, value: -p.value }));
      await store.writeReadings([...points, ...elsewhere]);
      const range = { from: base, to: base + HOUR };
      const expect = (keep: (p: ReadingPoint) => boolean): ReadingPoint[] => points.filter(keep).map(stored).sort(byTime);

      assert.deepEqual(await store.queryReadings({ scope: { park }, ...range }), expect(() => true));
      assert.deepEqual(await store.queryReadings({ scope: { park: otherPark }, ...range }), elsewhere.map(stored).sort(byTime));
      assert.deepEqual(await store.queryReadings({ scope: { park, tenant: 'tenant-a' }, ...range }), expect((p) => p.tenant === 'tenant-a'));
      assert.deepEqual(await store.queryReadings({ scope: { park, tenant: 'tenant-a', meter: 'meter-2' }, ...range }), expect((p) => p.meter === 'meter-2'));
      assert.deepEqual(await store.queryReadings({ scope: { park, tenant: 'tenant-b' }, metric: 'energy', ...range }), expect((p) => p.tenant === 'tenant-b' && p.metric === 'energy'));
      assert.deepEqual(await store.queryReadings({ scope: { park }, metric: 'power', ...range }), expect((p) => p.metric === 'power'));
      assert.deepEqual(await store.queryReadings({ scope: { park }, ...range, limit: 2 }), expect(() => true).slice(0, 2));
      assert.deepEqual(await store.queryReadings({ scope: { park, tenant: 'tenant-c' }, ...range }), []);
      // Filter values are data, never query text.
      const sneaky = `${park}" or r.park != "`;
      assert.deepEqual(await store.queryReadings({ scope: { park: sneaky, tenant: 'x\\" or true or "' }, metric: "power' OR 1=1 --", ...range }), []);
      assert.deepEqual(await store.queryAggregate({ scope: { park: sneaky }, metric: 'power', ...range, fn: 'count' }), []);
    });

    it('keeps one point when the same point is written twice, and the second value wins', async () => {
      const park = newId('park');
      await store.writeReadings([reading(park, { ts: base + 10, value: 1 }), reading(park, { ts: base + 20, value: 2 })]);
      await store.writeReadings([reading(park, { ts: base + 10, value: 11 })]);
      // Within one batch too: the later line wins.
      await store.writeReadings([reading(park, { ts: base + 20, value: 3 }), reading(park, { ts: base + 20, value: 22 })]);
      const got = await store.queryReadings({ scope: { park }, from: base, to: base + HOUR });
      assert.deepEqual(got.map((p) => [p.ts, p.value]), [[base + 10, 11], [base + 20, 22]]);
    });

    it('aggregates a meter over a whole range with every function', async () => {
      const park = newId('park');
      const points = [4, 1, 7, 2].map((value, i) => reading(park, { ts: base + (i + 1) * 10 * SECOND, value }));
      await store.writeReadings(points);
      const expected: Record<AggregateFn, number> = { count: 4, sum: 14, mean: 3.5, min: 1, max: 7, last: 2 };
      for (const fn of fns) {
        const got = await store.queryAggregate({ scope: { park, tenant: 'tenant-a', meter: 'meter-1' }, metric: 'power', from: base, to: base + HOUR, fn });
        assert.deepEqual(got, [{ ts: base, value: expected[fn] }], fn);
      }
      assert.deepEqual(await store.queryAggregate({ scope: { park }, metric: 'power', from: base + HOUR, to: base + 2 * HOUR, fn: 'count' }), []);
      assert.deepEqual(await store.queryAggregate({ scope: { park }, metric: 'energy', from: base, to: base + HOUR, fn: 'count' }), []);
    });

    it('aggregates in epoch-aligned buckets, leaving out empty ones', async () => {
      const park = newId('park');
      const at = (s: number, value: number): ReadingPoint => reading(park, { ts: base + Math.round(s * SECOND), value });
      const points = [
        at(10, 100), // before `from`: left out
        at(25, 10), at(35, 1), at(50, 4), // bucket base
        at(60, 20), at(70, 2), at(80, 8), at(119.999, 6), // bucket base + 1 min
        // nothing in base + 2 min
        at(180, 7), at(190, -3), at(200, 1), at(230, 3), // bucket base + 3 min
        at(240, 999), // at `to`: left out
      ];
      await store.writeReadings(points);
      const expected: Record<AggregateFn, [number, number, number]> = {
        count: [3, 4, 4], sum: [15, 36, 8], mean: [5, 9, 2], min: [1, 2, -3], max: [10, 20, 7], last: [4, 6, 3],
      };
      for (const fn of fns) {
        const got = await store.queryAggregate({ scope: { park }, metric: 'power', from: base + 20 * SECOND, to: base + 4 * MINUTE, fn, everyMs: MINUTE });
        // The first bucket starts before `from`: labels are epoch-aligned, not range-aligned.
        assert.deepEqual(got, [base, base + MINUTE, base + 3 * MINUTE].map((ts, i) => ({ ts, value: expected[fn][i] })), fn);
      }
    });

    it('aggregates a tenant and a park across all their meters', async () => {
      const park = newId('park');
      const p = (tenant: string, meter: string, s: number, value: number, metric = 'power'): ReadingPoint => reading(park, { tenant, meter, metric, ts: base + s * SECOND, value });
      const points = [
        p('tenant-a', 'meter-1', 0, 1), p('tenant-a', 'meter-1', 60, 3),
        p('tenant-a', 'meter-2', 30, 10), p('tenant-a', 'meter-2', 90, 5),
        p('tenant-b', 'meter-3', 0, 100), p('tenant-b', 'meter-3', 120, 25),
        p('tenant-b', 'meter-3', 30, 1000, 'energy'),
        // A tie in time: `last` takes the greatest tenant, then meter.
        p('tenant-a', 'meter-1', 150, 50), p('tenant-a', 'meter-2', 150, 60), p('tenant-b', 'meter-0', 150, 70),
      ];
      await store.writeReadings(points);
      const hardCoded: Record<AggregateFn, number> = { count: 4, sum: 19, mean: 4.75, min: 1, max: 10, last: 5 };
      for (const fn of fns) {
        const tenantWhole = { scope: { park, tenant: 'tenant-a' }, metric: 'power', from: base, to: base + 2 * MINUTE, fn };
        assert.deepEqual(await store.queryAggregate(tenantWhole), [{ ts: base, value: hardCoded[fn] }], `tenant ${fn}`);
        for (const q of [
          { ...tenantWhole, to: base + HOUR, everyMs: MINUTE },
          { scope: { park }, metric: 'power', from: base, to: base + HOUR, fn },
          { scope: { park }, metric: 'power', from: base, to: base + HOUR, fn, everyMs: MINUTE },
          { scope: { park }, metric: 'power', from: base, to: base + HOUR, fn, everyMs: 45 * SECOND },
        ] satisfies AggregateQuery[]) {
          assert.deepEqual(await store.queryAggregate(q), referenceAggregate(points, q), `${fn} ${JSON.stringify(q.scope)} every ${q.everyMs}`);
        }
      }
      assert.deepEqual(await store.queryAggregate({ scope: { park }, metric: 'power', from: base, to: base + 2 * MINUTE + SECOND, fn: 'mean' }), [{ ts: base, value: 24 }]);
    });

    it('round-trips stored aggregates, optional fields included', async () => {
      const park = newId('park');
      const common = { park, metric: 'energy', unit: 'kWh', window: '15m' as const, count: 15, sum: 30.5, min: 1.25, max: 3.5, mean: 2.0333333333333332, last: 2.75 };
      const meterAgg: AggregatePoint = { ...common, scope: 'meter', tenant: 'tenant-a', meter: 'meter-1', start: base, consumption: 12.5, completeness: 0.9333333333333333, expected: 15, revision: 0, registerEvents: ['rollover', 'reset'], lastAt: base + 14 * 60_000 + 59_999, simulated: true };
      const meterAgg2: AggregatePoint = { ...common, scope: 'meter', tenant: 'tenant-b', meter: 'meter-9', start: base, last: 9 };
      const tenantAgg: AggregatePoint = { ...common, scope: 'tenant', tenant: 'tenant-a', start: base + 15 * MINUTE, count: 30, consumption: 25 };
      const parkAgg: AggregatePoint = { ...common, scope: 'park', start: base + 15 * MINUTE, unit: 'kg CO2e, a=b', metric: 'co2 emitted', tenant: undefined, meter: undefined };
      const otherWindow: AggregatePoint = { ...meterAgg, window: '1h' };
      await store.writeAggregates([meterAgg, meterAgg2, tenantAgg, parkAgg, otherWindow]);
      // A revision of a window replaces it.
      const revised: AggregatePoint = { ...meterAgg, count: 16, sum: 33, last: 2.5, revision: 1, registerEvents: ['swap'] };
      await store.writeAggregates([revised]);

      const range = { from: base, to: base + HOUR };
      assert.deepEqual(
        await store.queryStoredAggregates({ scope: { park }, aggregateScope: 'meter', metric: 'energy', window: '15m', ...range }),
        [revised, meterAgg2].map(storedAggregate),
      );
      assert.deepEqual(
        await store.queryStoredAggregates({ scope: { park, tenant: 'tenant-b' }, aggregateScope: 'meter', metric: 'energy', window: '15m', ...range }),
        [storedAggregate(meterAgg2)],
      );
      assert.deepEqual(
        await store.queryStoredAggregates({ scope: { park, tenant: 'tenant-a' }, aggregateScope: 'tenant', metric: 'energy', window: '15m', ...range }),
        [storedAggregate(tenantAgg)],
      );
      assert.deepEqual(
        await store.queryStoredAggregates({ scope: { park }, aggregateScope: 'park', metric: 'co2 emitted', window: '15m', ...range }),
        [storedAggregate(parkAgg)],
      );
      assert.deepEqual(
        await store.queryStoredAggregates({ scope: { park }, aggregateScope: 'meter', metric: 'energy', window: '1h', ...range }),
        [storedAggregate(otherWindow)],
      );
      assert.deepEqual(
        await store.queryStoredAggregates({ scope: { park }, aggregateScope: 'meter', metric: 'energy', window: '15m', from: base + 1, to: base + HOUR }),
        [],
      );
    });

    it('round-trips alert events, with summaries that need escaping', async () => {
      const park = newId('park');
      const fingerprint = newId('fp');
      const events: AlertEventPoint[] = [
        { fingerprint, ruleId: 'rule-power-high', state: 'pending', severity: 'warning', park, tenant: 'tenant-a', meter: 'meter-1', metric: 'power', summary: 'Power above 50 kW, for 5 min; "quoted", back\\slash, a=b', value: 51.5, at: base + 1_000 },
        { fingerprint, ruleId: 'rule-power-high', state: 'firing', severity: 'warning', park, tenant: 'tenant-a', meter: 'meter-1', metric: 'power', summary: 'still high\nsecond line', value: 55, at: base + 301_000, simulated: true },
        { fingerprint: newId('fp'), ruleId: 'rule-silent', state: 'firing', severity: 'data-quality', park, summary: 'park gateway silent', at: base + 2_000 },
        { fingerprint: newId('fp'), ruleId: 'rule-co2', state: 'resolved', severity: 'info', park, tenant: 'tenant-b', metric: 'co2', summary: '', value: 0, at: base + 3_000 },
        // Who acknowledged it and the provenance behind it, kept for when the bus no longer holds the transition.
        {
          fingerprint, ruleId: 'rule-power-high', state: 'acknowledged', severity: 'warning', park, tenant: 'tenant-a', meter: 'meter-1', metric: 'power',
          summary: 'acknowledged', at: base + 400_000, transition: 3, by: 'rina "night shift", a=b', threshold: 50,
          windowStart: base + 300_000, windowEnd: base + 360_000, detail: 'mean 55 kW\nover 1 min',
        },
      ];
      await store.writeAlertEvents(events);
      const range = { from: base, to: base + HOUR };
      const all = events.map(storedEvent).sort((a, b) => a.at - b.at);
      assert.deepEqual(await store.queryAlertEvents({ scope: { park }, ...range }), all);
      assert.deepEqual(await store.queryAlertEvents({ scope: { park, tenant: 'tenant-a' }, ...range }), all.filter((e) => e.tenant === 'tenant-a'));
      assert.deepEqual(await store.queryAlertEvents({ scope: { park, tenant: 'tenant-a', meter: 'meter-1' }, ...range }), all.filter((e) => e.meter === 'meter-1'));
      assert.deepEqual(await store.queryAlertEvents({ scope: { park }, metric: 'co2', ...range }), all.filter((e) => e.metric === 'co2'));
      assert.deepEqual(await store.queryAlertEvents({ scope: { park }, ...range, limit: 2 }), all.slice(0, 2));
      assert.deepEqual(await store.queryAlertEvents({ scope: { park }, from: base + 2_000, to: base + 301_000 }), all.filter((e) => e.at >= base + 2_000 && e.at < base + 301_000));
    });

    it('stores a batch of 20,000 readings exactly', { timeout: 120_000 }, async () => {
      const park = newId('park');
      const points: ReadingPoint[] = [];
      for (let i = 0; i < 20_000; i++) {
        points.push(reading(park, { meter: `meter-${i % 4}`, ts: base + Math.floor(i / 4) * 100, value: i }));
      }
      await store.writeReadings(points);
      const scope = { park };
      const range = { from: base, to: base + HOUR };
      assert.deepEqual(await store.queryAggregate({ scope, metric: 'power', ...range, fn: 'count' }), [{ ts: base, value: 20_000 }]);
      assert.deepEqual(await store.queryAggregate({ scope, metric: 'power', ...range, fn: 'sum' }), [{ ts: base, value: (19_999 * 20_000) / 2 }]);
      assert.deepEqual(await store.queryAggregate({ scope: { park, tenant: 'tenant-a', meter: 'meter-3' }, metric: 'power', ...range, fn: 'count' }), [{ ts: base, value: 5_000 }]);
      const got = await store.queryReadings({ scope, ...range });
      assert.equal(got.length, 20_000);
      assert.deepEqual(got[19_999], stored(points[19_999]!));
    });

    it('refuses a batch with an invalid point whole, as not retriable', async () => {
      const park = newId('park');
      const good = reading(park, { ts: base + 1 });
      await assertRejects(store.writeReadings([good, reading(park, { ts: base + 2, value: Number.NaN })]), 'REJECTED', false);
      await assertRejects(store.writeReadings([good, reading(park, { ts: base + 2.5 })]), 'REJECTED', false);
      await assertRejects(store.writeReadings([good, reading(park, { ts: base + 3, unit: '' })]), 'REJECTED', false);
      await assertRejects(store.writeAggregates([{ scope: 'park', park, metric: 'power', unit: 'kW', window: '1m', start: base, count: 1, sum: Infinity, min: 1, max: 1, mean: 1, last: 1 }]), 'REJECTED', false);
      assert.deepEqual(await store.queryReadings({ scope: { park }, from: base, to: base + HOUR }), []);
    });

    it('accepts empty batches and answers empty ranges with nothing', async () => {
      const park = newId('park');
      await store.writeReadings([]);
      await store.writeAggregates([]);
      await store.writeAlertEvents([]);
      assert.deepEqual(await store.queryReadings({ scope: { park }, from: base, to: base + HOUR }), []);
      assert.deepEqual(await store.queryReadings({ scope: { park }, from: base + HOUR, to: base }), []);
      assert.deepEqual(await store.queryAggregate({ scope: { park }, metric: 'power', from: base, to: base, fn: 'count' }), []);
      assert.deepEqual(await store.queryAlertEvents({ scope: { park }, from: base, to: base + HOUR }), []);
      assert.deepEqual(await store.queryStoredAggregates({ scope: { park }, aggregateScope: 'park', metric: 'power', window: '1m', from: base, to: base + HOUR }), []);
    });

    it('refuses work once closed', async () => {
      const other = await makeStore();
      await other.store.close();
      try {
        await assertRejects(other.store.writeReadings([reading(newId('park'))]), 'CLOSED', false);
        await assertRejects(other.store.queryReadings({ scope: { park: newId('park') }, from: base, to: base + HOUR }), 'CLOSED', false);
        assert.equal(await other.store.ping(), false);
      } finally {
        await other.cleanup();
      }
    });
  });
}
