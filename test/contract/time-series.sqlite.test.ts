import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { openDatabase } from '../../shared/adapters/sqlite/open-database.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { newId, timeSeriesContract } from '../../shared/ports/time-series.contract.ts';
import { tempDir } from '../helpers/time-series.ts';

timeSeriesContract('sqlite', async () => {
  const tmp = await tempDir();
  const store = createSqliteStore({ path: join(tmp.dir, 'time-series.db'), logger: quietLogger() });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await tmp.remove();
    },
  };
});

describe('sqlite time-series store', () => {
  it('adds the aggregate columns a file written by an older release lacks', async () => {
    const tmp = await tempDir();
    const path = join(tmp.dir, 'old.db');
    try {
      const old = openDatabase(path);
      old.exec(`CREATE TABLE aggregates (park TEXT NOT NULL, scope TEXT NOT NULL, metric TEXT NOT NULL, window_size TEXT NOT NULL,
        tenant TEXT NOT NULL, meter TEXT NOT NULL, start INTEGER NOT NULL, unit TEXT NOT NULL, value_count INTEGER NOT NULL,
        value_sum REAL NOT NULL, value_min REAL NOT NULL, value_max REAL NOT NULL, value_mean REAL NOT NULL, value_last REAL NOT NULL,
        consumption REAL, completeness REAL, simulated INTEGER NOT NULL, PRIMARY KEY (park, scope, metric, window_size, tenant, meter, start)) WITHOUT ROWID`);
      old.close();
      const store = createSqliteStore({ path, logger: quietLogger() });
      try {
        const start = Date.UTC(2024, 0, 1);
        const point = { scope: 'meter' as const, park: 'park-a', tenant: 't', meter: 'm', metric: 'energy', unit: 'kWh', window: '1h' as const, start, count: 3, sum: 3, min: 1, max: 1, mean: 1, last: 1, revision: 2, expected: 4, registerEvents: ['reset'] };
        await store.writeAggregates([point]);
        const [got] = await store.queryStoredAggregates({ scope: { park: 'park-a' }, aggregateScope: 'meter', metric: 'energy', window: '1h', from: start, to: start + 1 });
        assert.deepEqual({ revision: got?.revision, expected: got?.expected, registerEvents: got?.registerEvents }, { revision: 2, expected: 4, registerEvents: ['reset'] });
      } finally {
        await store.close();
      }
    } finally {
      await tmp.remove();
    }
  });

  it('keeps its data across close and reopen', async () => {
    const tmp = await tempDir();
    const path = join(tmp.dir, 'nested', 'time-series.db');
    try {
      const park = newId('park');
      const ts = Date.UTC(2024, 0, 1);
      const first = createSqliteStore({ path, logger: quietLogger() });
      await first.writeReadings([{ park, tenant: 'tenant-a', meter: 'meter-1', metric: 'power', unit: 'kW', value: 7.25, ts }]);
      await first.writeAlertEvents([{ fingerprint: 'fp-1', ruleId: 'rule-1', state: 'firing', severity: 'critical', park, summary: 'hot', at: ts }]);
      await first.close();

      const second = createSqliteStore({ path, logger: quietLogger() });
      try {
        const range = { scope: { park }, from: ts, to: ts + 1 };
        assert.deepEqual(await second.queryReadings(range), [{ park, tenant: 'tenant-a', meter: 'meter-1', metric: 'power', unit: 'kW', value: 7.25, ts, simulated: false }]);
        assert.equal((await second.queryAlertEvents(range)).length, 1);
      } finally {
        await second.close();
      }
    } finally {
      await tmp.remove();
    }
  });
});
