import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agg, batch, engine, rule, status, T0 } from './testing.ts';

// Meter ids are unique within a registry, not across registries sharing one bus.
describe('records of another park with the same meter ids', () => {
  const e = () => engine(rule({ id: 'ph', kind: 'threshold', selector: { metric: 'cod', meters: ['m-ww'] }, limit: 100 }));

  it('are not evaluated: no alert, counted as foreign', () => {
    const en = e();
    const other = { ...batch('m-ww', T0, { cod: 500 }), park: 'another-park' };
    assert.deepEqual(en.onReading(other, T0), []);
    assert.deepEqual(en.onReading({ ...batch('m-ww', T0, { cod: 500 }), tenant: 'another-tenant' }, T0), []);
    assert.deepEqual(en.onMeterStatus({ ...status('m-ww', 'offline', T0), park: 'another-park' }, T0), []);
    assert.deepEqual(en.onAggregate({ ...agg({ metric: 'cod', window: '1h', start: T0, meter: 'm-ww', mean: 500 }), park: 'another-park' }, T0), []);
    assert.equal(en.counters.foreign, 4);
    // The same reading under its own park does fire.
    assert.equal(en.onReading(batch('m-ww', T0 + 1, { cod: 500 }), T0).length, 1);
  });
});
