import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
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
