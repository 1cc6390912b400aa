/** Finite readings whose sums overflow a double: every statistic stays finite (saturated), never Infinity or NaN. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateEventSchema } from '../../../shared/contracts/events.ts';
import { loadParkRegistry, demoParkPath } from '../../../shared/contracts/park-registry.ts';
import { maxStorableEpochMs } from '../../../shared/contracts/ids.ts';
import { classifyStep, profileOf } from '../../../shared/domain/register.ts';
import { summariseSamples } from './summary.ts';
import { SampleRun } from './samples.ts';
import { RollupCombiner, WindowAggregator } from './window-aggregator.ts';

const MAX = Number.MAX_VALUE;
const registry = loadParkRegistry(demoParkPath);
const t0 = Date.UTC(2026, 10, 27, 10);

describe('aggregator arithmetic at the edge of a double', () => {
  it('saturates a window sum and keeps the mean finite', () => {
    const samples = new SampleRun(t0);
    samples.set(t0, 1e308, false);
    samples.set(t0 + 1, 1e308, false);
    const { summary } = summariseSamples(samples, undefined);
    assert.equal(summary.sum, MAX);
    assert.ok(Number.isFinite(summary.sum / summary.count));
  });
  it('takes a register step between values 2e308 apart as a finite one', () => {
    const step = classifyStep({ ts: t0, value: -1e308 }, { ts: t0 + 60_000, value: 1e308 }, profileOf({}));
    assert.deepEqual([step.consumed, step.kind], [MAX, 'count']);
    const wrapped = classifyStep({ ts: t0, value: 1e308 }, { ts: t0 + 60_000, value: -1e308 }, profileOf({ rolloverAt: MAX }));
    assert.ok(Number.isFinite(wrapped.consumed) && Number.isFinite(wrapped.refused));
  });
  it('emits finite, schema-valid meter, tenant and park windows for readings that overflow their sums', () => {
    const agg = new WindowAggregator({ registry, windows: ['1m', '1h'], allowedLatenessMs: 0 });
    for (let i = 0; i < 4; i++) {
      agg.record({ v: 1, park: 'nusantara-eip', tenant: 'sulawesi-nickel', meter: 'snk-elec-main', seq: i, receivedAt: t0, simulated: false,
        readings: [{ metric: 'active_energy_import', unit: 'kWh', value: i % 2 === 0 ? -1e308 : 1e308, ts: t0 + i * 1000 }, { metric: 'active_power', unit: 'kW', value: 1.7e308, ts: t0 + i * 1000 }] });
    }
    const { events, partials } = agg.flush(t0 + 2 * 3_600_000);
    const combiner = new RollupCombiner({ allowedLatenessMs: 0, idleSourceMs: 1000 });
    combiner.add({ source: 0, sources: 1, watermark: t0 + 2 * 3_600_000, partials }, t0);
    const all = [...events, ...combiner.flush(t0)];
    assert.ok(all.length >= 6, `meter, tenant and park windows: ${all.length}`);
    for (const e of all) {
      const parsed = aggregateEventSchema.safeParse(JSON.parse(JSON.stringify(e)));
      assert.ok(parsed.success, `${e.windowId}: ${String(parsed.error)}`);
    }
    const power = events.find((e) => e.metric === 'active_power' && e.window === '1m');
    assert.equal(power?.sum, MAX, 'the saturated sum is the flag');
  });
  it('ignores readings at times no store can hold, whose windows would end past a safe integer', () => {
    const agg = new WindowAggregator({ registry, allowedLatenessMs: 0 });
    const r = agg.record({ v: 1, park: 'nusantara-eip', tenant: 'sulawesi-nickel', meter: 'snk-elec-main', seq: 1, receivedAt: t0, simulated: false,
      readings: [{ metric: 'active_power', unit: 'kW', value: 1, ts: Number.MAX_SAFE_INTEGER }, { metric: 'active_power', unit: 'kW', value: 1, ts: maxStorableEpochMs + 1 }, { metric: 'active_power', unit: 'kW', value: 1, ts: t0 }] });
    assert.deepEqual(r, { accepted: 1, late: 0, duplicates: 0, ignored: 2 });
  });
});
