/** The register kind judges with the aggregator's classification: rollovers and declared changes are quiet, resets, swaps and jumps fire. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ReadingBatchEvent } from '../../../../shared/contracts/events.ts';
import { parseParkRegistry, RegistryIndex, type Meter } from '../../../../shared/contracts/park-registry.ts';
import { RulesEngine, type Transition } from '../engine.ts';
import { defaultRulePackPath, parseRulePack } from '../pack.ts';
import { packText, rule } from '../testing.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 27, 2);

const registryWith = (meters: Array<Partial<Meter> & { id: string }>): RegistryIndex =>
  new RegistryIndex(parseParkRegistry({
    version: 1,
    parks: [{
      id: 'p1', name: 'Test park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
      emissionFactors: { grid: { kgCo2ePerKwh: 0.87, source: 'test' } },
      tenants: [{ id: 't1', name: 'Tenant one', sector: 'test', supplySource: 'grid', meters: meters.map((m) => ({ kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import'], ...m })) }],
    }],
  }));

const reading = (meter: string, ts: number, value: number): ReadingBatchEvent => ({
  v: 1, park: 'p1', tenant: 't1', meter, seq: 0, receivedAt: ts, simulated: false, readings: [{ metric: 'active_energy_import', unit: 'kWh', value, ts }],
});

/** Feeds the values a minute apart; the transitions of one rule, as "state:severity". */
function feed(e: RulesEngine, meter: string, values: number[], ruleId: string, start = T0): { states: string[][]; transitions: Transition[] } {
  const transitions: Transition[] = [];
  const states = values.map((v, i) => {
    const out = e.onReading(reading(meter, start + i * MIN, v), start + i * MIN).filter((t) => t.event.ruleId === ruleId);
    transitions.push(...out);
    return out.map((t) => `${t.event.state}:${t.event.severity}`);
  });
  return { states, transitions };
}

const defaultPack = parseRulePack(readFileSync(defaultRulePackPath, 'utf8'));
const rollover = { ratings: { active_energy_import: { rolloverAt: 1_000_000 } } };

describe('register rules of the default pack', () => {
  it('a rollover at the rated rolloverAt does not fire meter-register-fall', () => {
    const e = new RulesEngine(defaultPack, registryWith([{ id: 'm1', ...rollover }]));
    assert.deepEqual(feed(e, 'm1', [999_999.2, 999_999.7, 0.4, 1.1], 'meter-register-fall').states, [[], [], [], []]);
  });
  it('a fall to zero mid-range fires meter-register-fall once, as data quality, and resolves on the next reading', () => {
    const e = new RulesEngine(defaultPack, registryWith([{ id: 'm1', ...rollover }]));
    const { states, transitions } = feed(e, 'm1', [523_410, 523_411, 0.0, 0.5, 1.0], 'meter-register-fall');
    assert.deepEqual(states, [[], [], ['firing:data-quality'], ['resolved:data-quality'], []]);
    const fired = transitions[0]!.event;
    assert.deepEqual(fired.provenance.values, [523_411, 523_411, 0]);
    assert.match(fired.provenance.detail ?? '', /^reset: 523411 -> 0 in 1m, not a rollover \(a rollover needs the previous value in the top tenth of 1000000/);
  });
  it('the same readings on a meter with no rolloverAt: the fall fires, the rise after it does not', () => {
    const e = new RulesEngine(defaultPack, registryWith([{ id: 'm1' }]));
    assert.deepEqual(feed(e, 'm1', [5000, 5010, 3000, 3010], 'meter-register-fall').states, [[], [], ['firing:data-quality'], ['resolved:data-quality']]);
  });
  it('a declared swap between two readings does not fire', () => {
    const swap = { at: new Date(T0 + 90_000).toISOString(), metric: 'active_energy_import' as const, kind: 'swap' as const, oldFinal: 523_411.6, newInitial: 0.2, reference: 'WO-114' };
    const e = new RulesEngine(defaultPack, registryWith([{ id: 'm1', registerChanges: [swap] }]));
    assert.deepEqual(feed(e, 'm1', [523_410, 523_411, 0.5, 1.5], 'meter-register-fall').states, [[], [], [], []]);
  });
  it('meter-register-jump fires on a rise beyond the rating only, and a gap scales the rating', () => {
    const e = new RulesEngine(defaultPack, registryWith([{ id: 'm1', ratings: { active_energy_import: { maxStepPerHour: 600 } } }, { id: 'm2' }]));
    // 10 per minute is the rating: +10 is fine, +11 is a jump.
    assert.deepEqual(feed(e, 'm1', [1000, 1010, 1021, 1031], 'meter-register-jump').states, [[], [], ['firing:data-quality'], ['resolved:data-quality']]);
    assert.deepEqual(feed(e, 'm1', [1300], 'meter-register-jump', T0 + 30 * MIN).states, [[]], '+269 over 27 minutes is within 10 per minute');
    // Without a rating nothing bounds a rise.
    assert.deepEqual(feed(e, 'm2', [1000, 900_000], 'meter-register-jump').states, [[], []]);
  });
});

describe('register kind in a pack', () => {
  const registry = registryWith([{ id: 'm1', ...rollover }]);
  it('flags only the listed steps', () => {
    const e = new RulesEngine(parseRulePack(packText(rule({ kind: 'register', selector: { metric: 'active_energy_import' }, limit: undefined, levels: { 'data-quality': { threshold: 0 } }, params: { flag: ['swap'] } }))), registry);
    // 523411 -> 0 is a reset: not flagged here; 1.0 -> 400 is a plain rise; 400 -> 300 is a swap.
    assert.deepEqual(feed(e, 'm1', [523_411, 0, 1, 400, 300], 'r1').states, [[], [], [], [], ['firing:data-quality']]);
  });
  it('keeps its baseline across a restart from the snapshot', () => {
    const pack = parseRulePack(packText(rule({ kind: 'register', selector: { metric: 'active_energy_import' }, limit: undefined, levels: { 'data-quality': { threshold: 0 } } })));
    const a = new RulesEngine(pack, registry);
    feed(a, 'm1', [523_411], 'r1');
    const b = new RulesEngine(pack, registry);
    b.restore(a.snapshot());
    assert.deepEqual(feed(b, 'm1', [0], 'r1', T0 + MIN).states, [['firing:data-quality']]);
  });
  it('refuses an instantaneous metric and aggregate input', () => {
    assert.throws(() => parseRulePack(packText(rule({ kind: 'register', selector: { metric: 'active_power' }, limit: undefined, levels: { 'data-quality': { threshold: 0 } } }))), /kind register needs a cumulative \(register\) metric/);
    assert.throws(() => parseRulePack(packText(rule({ kind: 'register', input: 'aggregate', window: '1h', selector: { metric: 'active_energy_import' }, limit: undefined, levels: { 'data-quality': { threshold: 0 } } }))), /kind register works on readings only/);
    assert.throws(() => parseRulePack(packText(rule({ kind: 'register', selector: { metric: 'active_energy_import' }, limit: undefined, levels: { 'data-quality': { threshold: 0 } }, params: { flag: ['rollover'] } }))), /flag/);
  });
});
