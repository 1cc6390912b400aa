/** Finite inputs whose rates, sums and budgets overflow a double: alerts carry finite numbers, never Infinity or null. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alertEventSchema } from '../../../shared/contracts/events.ts';
import type { Transition } from './engine.ts';
import { agg, batch, engine, HOUR, MIN, rule, T0 } from './testing.ts';

const MAX = Number.MAX_VALUE;

function assertValid(out: Transition[]): void {
  assert.ok(out.length > 0, 'a transition');
  for (const t of out) {
    const parsed = alertEventSchema.safeParse(JSON.parse(JSON.stringify(t.event)));
    assert.ok(parsed.success, String(parsed.error));
    for (const v of t.event.provenance.values) assert.ok(Number.isFinite(v), `provenance value ${v}`);
  }
}

describe('rules arithmetic at the edge of a double', () => {
  it('rate of change between -MAX and MAX a millisecond apart', () => {
    const e = engine(rule({ kind: 'rate-of-change', selector: { metric: 'active_energy_import', meters: ['m-elec'] }, limit: 'rating.maxStepPerHour', levels: { 'data-quality': {} }, params: { per: '1h', direction: 'rise' } }));
    e.onReading(batch('m-elec', T0, { active_energy_import: -MAX }), T0);
    const out = e.onReading(batch('m-elec', T0 + 1, { active_energy_import: MAX }), T0 + 1);
    assertValid(out);
    assert.equal(out[0]!.event.provenance.values[0], MAX);
  });
  it('a rolling mean of samples whose sum overflows', () => {
    const e = engine(rule({ kind: 'rolling', params: { over: '1h', bucket: '10m', minSamples: 2 } }));
    e.onReading(batch('m-ww', T0, { cod: 1e308 }), T0);
    assertValid(e.onReading(batch('m-ww', T0 + MIN, { cod: 1e308 }), T0 + MIN));
  });
  it('a budget of windows whose consumption overflows, and its revision', () => {
    const e = engine(rule({
      id: 'scope2', kind: 'budget', selector: { metric: 'active_energy_import', scope: 'tenant' }, input: 'aggregate', window: '1h', field: 'consumption',
      limit: 'budget.monthlyKgCo2e', levels: { warning: {} }, params: { period: 'month', proRata: true },
    }));
    const monthStart = Date.UTC(2025, 11, 31, 16);
    const hour = (i: number, kwh: number, revision = 0) => e.onAggregate(agg({ metric: 'active_energy_import', window: '1h', start: monthStart + i * HOUR, tenant: 't1', consumption: kwh, revision }), monthStart + (i + 1) * HOUR);
    const out = [...hour(0, 1e308), ...hour(1, 1e308), ...hour(1, 1, 1)];
    assertValid(out);
    for (const s of e.takeChanges().states) assert.doesNotMatch(JSON.stringify(s), /null/);
  });
  it('does not judge a window after the last storable time (its local period is not computable)', () => {
    const e = engine(rule({
      id: 'scope2', kind: 'budget', selector: { metric: 'active_energy_import', scope: 'tenant' }, input: 'aggregate', window: '1h', field: 'consumption',
      limit: 'budget.monthlyKgCo2e', levels: { warning: {} }, params: { period: 'month', proRata: true },
    }));
    const start = Math.floor(8.64e15 / HOUR) * HOUR;
    assert.deepEqual(e.onAggregate(agg({ metric: 'active_energy_import', window: '1h', start, tenant: 't1', consumption: 1 }), T0), []);
    assert.equal(e.counters.unstorable, 1);
  });
});
