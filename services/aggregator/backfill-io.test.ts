import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { D, drive, H, lateRegistry, lateStart, MIN, traffic, windowsBy, type Scenario } from '../../test/helpers/late-data.ts';

const logger = quietLogger('backfill-test');
const park = 'late-park';
const registry = lateRegistry(park);

// Live traffic in bus batches of 10 steps (20 minutes): what a consumer batch holds, and quicker to run.
async function run(s: Scenario) {
  const store = createSqliteStore({ path: ':memory:', logger });
  try {
    return await drive(store, registry, traffic(park, { stepsPerBatch: 10, ...s }));
  } finally {
    await store.close();
  }
}

describe('late data of any age, through the SQLite store', () => {
  const cases: Array<[name: string, outageStart: number, outageMs: number, order: 'in-order' | 'shuffled']> = [
    ['6 hours resent in order', lateStart + 10 * H + 17 * 60_000, 6 * H, 'in-order'],
    ['6 hours resent shuffled', lateStart + 10 * H + 17 * 60_000, 6 * H, 'shuffled'],
    ['3 days resent in order', lateStart + 5 * H, 3 * D, 'in-order'],
    ['3 days resent shuffled', lateStart + 5 * H, 3 * D, 'shuffled'],
  ];
  for (const [name, outageStart, outageMs, order] of cases) {
    it(`${name}: the windows an on-time stream gives, for meters, tenants and the park`, async () => {
      // Live until 4 hours into the day after the outage: every day it touched has closed and been forgotten.
      const until = Math.ceil((outageStart + outageMs) / D) * D;
      const end = until + 4 * H;
      const onTime = await run({ outageStart, outageMs, order: 'on-time', end });
      const late = await run({ outageStart, outageMs, order, end });
      const sizes = ['1m', '15m', '1h', '1d'] as const;
      const expected = windowsBy(onTime, sizes, until, park);
      const actual = windowsBy(late, sizes, until, park);
      assert.ok(expected.size > 1000, `${expected.size} windows compared`);
      assert.deepEqual([...actual.keys()].filter((k) => !expected.has(k)), [], 'no window the on-time stream lacks');
      assert.deepEqual([...expected.keys()].filter((k) => !actual.has(k)), [], 'no window missing');
      for (const [id, e] of expected) assert.deepEqual(actual.get(id), e, id);
      // The resend went through revisions (and the backfill), not the on-time path.
      assert.ok([...late.latest.values()].some((e) => e.revision > 0 && e.scope === 'park' && e.window === '1h'), 'park hours revised');
    });
  }
});

describe('late data with the meters on several readings partitions', () => {
  for (const partitions of [2, 3, 6]) {
    it(`${partitions} partitions, 6 hours resent shuffled: the windows of the same readings on time`, async () => {
      const outageStart = lateStart + 10 * H + 17 * 60_000;
      const until = Math.ceil((outageStart + 6 * H) / D) * D;
      const s = { outageStart, outageMs: 6 * H, end: until + 4 * H, stepsPerBatch: 10 };
      const go = async (order: Scenario['order']) => {
        const store = createSqliteStore({ path: ':memory:', logger });
        try {
          return await drive(store, registry, traffic(park, { ...s, order }), partitions);
        } finally {
          await store.close();
        }
      };
      const expected = windowsBy(await go('on-time'), ['1m', '15m', '1h', '1d'], until, park);
      const actual = windowsBy(await go('shuffled'), ['1m', '15m', '1h', '1d'], until, park);
      assert.deepEqual([...actual.keys()].filter((k) => !expected.has(k)), []);
      const bad = [...expected].filter(([id, e]) => JSON.stringify(actual.get(id)) !== JSON.stringify(e)).map(([id]) => id);
      assert.deepEqual(bad, []);
    });
  }
});

describe('the two allowances: behind the partition, and behind the series itself', () => {
  const lateness = { allowedLatenessMs: 5 * MIN, partitionLatenessMs: 2 * H };
  const sizes = ['1m', '15m', '1h', '1d'] as const;
  const go = async (steps: ReturnType<typeof traffic>) => {
    const store = createSqliteStore({ path: ':memory:', logger });
    try {
      const d = await drive(store, registry, steps, 1, lateness);
      return { d, backfills: (await d.metrics.backfills.get()).values.reduce((n, v) => n + v.value, 0) };
    } finally {
      await store.close();
    }
  };
  const same = (expected: Map<string, unknown>, actual: Map<string, unknown>): void => {
    assert.ok(expected.size > 1000, `${expected.size} windows compared`);
    assert.deepEqual([...actual.keys()].filter((k) => !expected.has(k)), [], 'no window the on-time stream lacks');
    assert.deepEqual([...expected.keys()].filter((k) => !actual.has(k)), [], 'no window missing');
    for (const [id, e] of expected) assert.deepEqual(actual.get(id), e, id);
  };
  const outageStart = lateStart + 10 * H + 17 * MIN;
  const until = lateStart + D;
  const end = until + 4 * H;

  it('a logger silent for an hour while the others stay live, then resending its hour in order: all in memory, no backfill', async () => {
    const onTime = await go(traffic(park, { outageStart, outageMs: H, order: 'on-time', end }));
    const late = await go(traffic(park, { outageStart, outageMs: H, order: 'in-order', end }));
    assert.equal(late.d.late, 0, 'no reading taken as late');
    assert.equal(late.backfills, 0, 'no backfill');
    same(windowsBy(onTime.d, sizes, until, park), windowsBy(late.d, sizes, until, park));
    // The resend revised what the idle allowance had closed without it.
    assert.ok([...late.d.latest.values()].some((e) => e.revision > 0 && e.scope === 'park' && e.window === '1h'), 'park hours revised');
  });

  // One logger record held back `delay` behind the series' own later readings.
  const held = (delay: number) => {
    const steps = traffic(park, { outageStart, outageMs: 0, order: 'on-time', end, stepsPerBatch: 1 }).map((b) => [...b]);
    const at = steps.findIndex((b) => b.some((e) => e.meter === 'logger' && e.readings[0]!.ts === outageStart + 3 * MIN));
    assert.ok(at >= 0);
    const i = steps[at]!.findIndex((e) => e.meter === 'logger');
    const [record] = steps[at]!.splice(i, 1);
    steps[at + delay / (2 * MIN)]!.push(record!);
    return steps;
  };
  const onTimeSteps = () => traffic(park, { outageStart, outageMs: 0, order: 'on-time', end, stepsPerBatch: 1 });

  it('a reading 20 minutes older than its series\' newest (past the own-progress allowance): through the backfill, the content of an on-time run', async () => {
    const onTime = await go(onTimeSteps());
    const late = await go(held(20 * MIN));
    assert.equal(late.d.late, 2, 'both readings of the record taken as late');
    assert.equal(late.backfills, 2, 'one backfill per series');
    same(windowsBy(onTime.d, sizes, until, park), windowsBy(late.d, sizes, until, park));
  });

  it('a reading 4 minutes older than its series\' newest (within the own-progress allowance): revised in memory', async () => {
    const onTime = await go(onTimeSteps());
    const late = await go(held(4 * MIN));
    assert.deepEqual([late.d.late, late.backfills], [0, 0]);
    same(windowsBy(onTime.d, sizes, until, park), windowsBy(late.d, sizes, until, park));
  });
});

describe('backfill reads overlap, bounded', () => {
  it('a shuffled resend over several meters reads a few series at once (never more than the limit) and gives the on-time windows', async () => {
    const outageStart = lateStart + 10 * H + 17 * MIN;
    const until = Math.ceil((outageStart + 6 * H) / D) * D;
    const s = { outageStart, outageMs: 6 * H, end: until + 4 * H, stepsPerBatch: 10 };
    let inFlight = 0;
    let most = 0;
    const go = async (order: Scenario['order']) => {
      const base = createSqliteStore({ path: ':memory:', logger });
      // Each read held a moment, so reads that overlap are seen to.
      const store = new Proxy(base, {
        get(target, key, receiver) {
          if (key !== 'queryReadings') return Reflect.get(target, key, receiver) as unknown;
          return async (...args: Parameters<typeof base.queryReadings>) => {
            inFlight++;
            most = Math.max(most, inFlight);
            try {
              await new Promise((resolve) => setTimeout(resolve, 1));
              return await base.queryReadings(...args);
            } finally {
              inFlight--;
            }
          };
        },
      });
      try {
        return await drive(store, registry, traffic(park, { ...s, order }));
      } finally {
        await base.close();
      }
    };
    const expected = windowsBy(await go('on-time'), ['1m', '15m', '1h', '1d'], until, park);
    most = 0;
    const actual = windowsBy(await go('shuffled'), ['1m', '15m', '1h', '1d'], until, park);
    // drive() reads 4 series at once, one query of each at a time.
    assert.ok(most > 1 && most <= 4, `${most} reads in flight at most`);
    const bad = [...expected].filter(([id, e]) => JSON.stringify(actual.get(id)) !== JSON.stringify(e)).map(([id]) => id);
    assert.deepEqual(bad, []);
  });
});
