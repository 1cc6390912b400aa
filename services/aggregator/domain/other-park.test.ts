import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadingBatchEvent } from '../../../shared/contracts/events.ts';
import { loadParkRegistry, demoParkPath } from '../../../shared/contracts/park-registry.ts';
import { WindowAggregator } from './window-aggregator.ts';

describe('WindowAggregator and another park with the same meter ids', () => {
  it('ignores readings whose park or tenant is not the registry\'s for that meter', () => {
    const registry = loadParkRegistry(demoParkPath);
    const agg = new WindowAggregator({ registry, allowedLatenessMs: 0 });
    const event = (park: string, tenant: string): ReadingBatchEvent => ({
      v: 1, park, tenant, meter: 'snk-elec-main', seq: 1, receivedAt: 0, simulated: false,
      readings: [{ metric: 'active_power', unit: 'kW', value: 10, ts: Date.parse('2026-11-01T00:00:10Z') }],
    });
    assert.deepEqual(agg.record(event('another-park', 'sulawesi-nickel')), { accepted: 0, late: 0, duplicates: 0, ignored: 1 });
    assert.deepEqual(agg.record(event('nusantara-eip', 'bugis-textile')), { accepted: 0, late: 0, duplicates: 0, ignored: 1 });
    assert.equal(agg.record(event('nusantara-eip', 'sulawesi-nickel')).accepted, 1);
  });
});
