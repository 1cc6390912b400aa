/** 100,000 live (rule, scope) states fit comfortably in memory, and input stays indexed. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseParkRegistry, RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import { RulesEngine } from './engine.ts';
import { parseRulePack } from './pack.ts';
import { packText, rule, MIN, T0 } from './testing.ts';

const METERS = 20_000;

function bigRegistry(): RegistryIndex {
  const tenants = Array.from({ length: METERS / 20 }, (_, t) => ({
    id: `t${t}`, name: `Tenant ${t}`, sector: 'test', supplySource: 'grid',
    meters: Array.from({ length: 20 }, (_, m) => ({
      id: `t${t}-m${m}`, kind: 'wastewater-quality', cadenceSeconds: 120, metrics: ['ph', 'cod', 'tss', 'nh3n'],
      limits: { ph: { min: 6, max: 9, source: 'permit' }, cod: { max: 100, source: 'permit' } },
    })),
  }));
  return new RegistryIndex(parseParkRegistry({ version: 1, parks: [{ id: 'big', name: 'Big', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 1000, emissionFactors: { grid: { kgCo2ePerKwh: 0.8, source: 'x' } }, tenants }] }));
}

describe('scale', () => {
  it('holds 100,000 (rule, scope) states with buffers in well under 200 MB, and evaluates only the rules of the metric that came in', (t) => {
    const registry = bigRegistry();
    const pack = parseRulePack(packText(
      rule({ id: 'ph', kind: 'consecutive', selector: { metric: 'ph' }, op: 'outside', limit: 'registry', params: { samples: 3 } }),
      rule({ id: 'cod', kind: 'rolling', selector: { metric: 'cod' }, limit: 'registry', levels: { warning: { factor: 0.8 }, critical: {} }, params: { over: '1h', bucket: '5m' } }),
      rule({ id: 'tss', selector: { metric: 'tss' }, limit: 150 }),
      rule({ id: 'nh3n', kind: 'sustained', selector: { metric: 'nh3n' }, limit: 20, params: { duration: '10m' } }),
      rule({ id: 'silent', kind: 'deadman', selector: {}, limit: undefined, levels: { warning: { after: '10m' } } }),
    ));
    const before = process.memoryUsage().heapUsed;
    const e = new RulesEngine(pack, registry);
    assert.equal(e.size, 100_000);
    e.tick(T0);
    const started = performance.now();
    let transitions = 0;
    for (let i = 0; i < METERS; i++) {
      const ts = T0 + MIN;
      const meter = `t${Math.floor(i / 20)}-m${i % 20}`;
      transitions += e.onReading({ v: 1, park: 'big', tenant: `t${Math.floor(i / 20)}`, meter, seq: 1, receivedAt: ts, simulated: false,
        readings: [{ metric: 'ph', unit: 'pH', value: 7, ts }, { metric: 'cod', unit: 'mg/L', value: 50, ts }, { metric: 'tss', unit: 'mg/L', value: i % 1000 === 0 ? 200 : 10, ts }, { metric: 'nh3n', unit: 'mg/L', value: 5, ts }] }, ts).length;
    }
    const perBatchUs = ((performance.now() - started) * 1000) / METERS;
    const used = (process.memoryUsage().heapUsed - before) / 1e6;
    assert.equal(transitions, METERS / 1000);
    // Every state now carries its evaluation buffer; the whole engine stays small.
    assert.ok(used < 200, `heap grew ${used.toFixed(0)} MB`);
    assert.ok(perBatchUs < 1000, `${perBatchUs.toFixed(1)} us per batch`);
    const snapshot = e.snapshot();
    assert.equal(snapshot.states.length, 100_000);
    const bytes = JSON.stringify(snapshot).length / snapshot.states.length;
    assert.ok(bytes < 400, `${bytes.toFixed(0)} bytes per record`);
    t.diagnostic(`scale: heap +${used.toFixed(0)} MB for 100,000 states, ${perBatchUs.toFixed(1)} us per 4-reading batch, ${bytes.toFixed(0)} bytes per snapshot record`);
  });
});
