/**
 * Late data of any age on the real InfluxDB: a logger resends 6 hours
 * (shuffled) or 3 days (in order) of 2-minute records after an outage while
 * two other meters stay live, the meters on 6 readings partitions. The aggregator's two stages (driven as the runtime
 * drives them: store before bus, backfill reads through the InfluxDB adapter
 * before the flush) give exactly the meter, tenant and park windows of every
 * size, completeness included, that the same readings on time give.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createInfluxStore } from '../../shared/adapters/influxdb/index.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { influx } from '../helpers/servers.ts';
import { D, drive, H, lateRegistry, lateStart, traffic, windowsBy } from '../helpers/late-data.ts';

const logger = quietLogger('late-data-test');

describe('late data of any age against real InfluxDB', { timeout: 600_000 }, () => {
  let store: TimeSeriesStore;
  before(() => {
    store = createInfluxStore({ ...influx, aggregatesBucket: `${influx.bucket}_downsampled`, logger });
  });
  after(async () => { await store.close(); });

  const cases: Array<[name: string, outageStart: number, outageMs: number, order: 'in-order' | 'shuffled']> = [
    // The service test (late-data-kafka.test.ts) runs 6 hours in order and 3 days shuffled; here the other two, on 6 partitions.
    ['6 hours resent shuffled', lateStart + 10 * H + 17 * 60_000, 6 * H, 'shuffled'],
    ['3 days resent in order', lateStart + 5 * H, 3 * D, 'in-order'],
  ];
  for (const [name, outageStart, outageMs, order] of cases) {
    it(`${name}: hourly and daily windows (meter, tenant, park) as on time`, async () => {
      // Live until 4 hours into the day after the outage: every day it touched has closed and been forgotten.
      const until = Math.ceil((outageStart + outageMs) / D) * D;
      const end = until + 4 * H;
      // Each run its own park: the store is shared.
      const run = async (o: 'on-time' | typeof order) => {
        const park = `late-${randomBytes(4).toString('hex')}`;
        const d = await drive(store, lateRegistry(park), traffic(park, { outageStart, outageMs, order: o, end, stepsPerBatch: 30 }), 6);
        return { d, park };
      };
      const onTime = await run('on-time');
      const late = await run(order);
      const sizes = ['1h', '1d'] as const;
      const expected = windowsBy(onTime.d, sizes, until, onTime.park);
      const actual = windowsBy(late.d, sizes, until, late.park);
      assert.ok(expected.size > 50, `${expected.size} windows compared`);
      assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), 'the same windows');
      for (const [id, e] of expected) assert.deepEqual(actual.get(id), e, id);
      assert.ok([...late.d.latest.values()].some((e) => e.revision > 0 && e.scope === 'park' && e.window === '1h'), 'park hours revised');
      // The store holds the latest revision too: what the console and reports read.
      const stored = await store.queryStoredAggregates({ scope: { park: late.park }, aggregateScope: 'park', metric: 'active_energy_import', window: '1h', from: outageStart - H, to: until });
      for (const p of stored) {
        const e = [...late.d.latest.values()].find((x) => x.scope === 'park' && x.metric === 'active_energy_import' && x.window === '1h' && x.start === p.start)!;
        assert.deepEqual([p.revision, p.consumption, p.count], [e.revision, e.consumption, e.count], `park hour at ${p.start}`);
      }
    });
  }
});
