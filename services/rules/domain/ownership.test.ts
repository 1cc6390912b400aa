/** Which instance holds which alert state, and the state moving between engines with its partition. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { partitionForKey } from '../../../shared/ports/partitioner.ts';
import type { RulesEngine, Transition } from './engine.ts';
import { fingerprintsOf, homePartition, type InputPartitions } from './ownership.ts';
import { agg, batch, engine, MIN, rule, status, T0 } from './testing.ts';

const counts: InputPartitions = { reading: 6, aggregate: 6 };
const chain = (ts: Transition[]) => ts.map((t) => `${t.event.transition}:${t.event.previousState ?? 'null'}->${t.event.state}`);

describe('ownership: a binding lives where its inputs arrive', () => {
  const e = engine(
    rule({ id: 'cod-limit', selector: { metric: 'cod', meters: ['m-ww'] } }),
    rule({ id: 'silent', kind: 'deadman', selector: { meters: ['m-ww', 'm-elec'] }, limit: undefined, levels: { warning: { after: '10m' } } }),
    rule({ id: 'tenant-power', input: 'aggregate', window: '15m', selector: { scope: 'tenant', metric: 'active_power', tenants: ['t1'] }, limit: 500 }),
    rule({ id: 'park-power', input: 'aggregate', window: '15m', selector: { scope: 'park', metric: 'active_power' }, limit: 900 }),
    rule({ id: 'meter-power', input: 'aggregate', window: '15m', selector: { scope: 'meter', metric: 'active_power', meters: ['m-elec'] }, limit: 900 }),
  );
  const homes = new Map([...e.homesOf()].map(([fp, home]) => [`${e.scopeOf(fp)!.ruleId}:${e.scopeOf(fp)!.scope.meter ?? ''}`, home]));
  const table: Array<[string, string, number]> = [
    ['a reading rule: the readings partition of its meter', 'cod-limit:m-ww', partitionForKey('m-ww', 6)],
    ['a deadman rule: the readings partition of its meter', 'silent:m-elec', partitionForKey('m-elec', 6)],
    ['a tenant aggregate rule: the aggregates partition of the tenant id', 'tenant-power:', partitionForKey('t1', 6)],
    ['a park aggregate rule: the aggregates partition of the park id', 'park-power:', partitionForKey('p1', 6)],
    ['a meter aggregate rule: the aggregates partition of the meter id', 'meter-power:m-elec', partitionForKey('m-elec', 6)],
  ];
  for (const [name, id, partition] of table) {
    it(name, () => {
      const home = homes.get(id);
      assert.ok(home, id);
      assert.equal(homePartition(home, counts), partition);
    });
  }

  it('every binding is held by exactly one of the instances that share the partitions', () => {
    const all = [...e.homesOf()];
    assert.equal(all.length, e.size);
    const split = [[0, 2, 4], [1, 3], [5]].map((ps) => new Set(ps));
    const held = split.map((ps) => fingerprintsOf(all, counts, { reading: ps, aggregate: ps }));
    assert.equal(held.flat().length, e.size, 'no binding held twice');
    assert.deepEqual(new Set(held.flat()), new Set(e.fingerprints()), 'none left out');
  });

  it('reading and aggregate partitions count separately', () => {
    const all = [...e.homesOf()];
    const readingsOnly = fingerprintsOf(all, counts, { reading: new Set([0, 1, 2, 3, 4, 5]), aggregate: new Set() });
    assert.deepEqual(readingsOnly.map((fp) => e.scopeOf(fp)!.ruleId).sort(), ['cod-limit', 'silent', 'silent']);
  });
});

describe('ownership: state moves with its partition', () => {
  const ph = (e: RulesEngine, i: number, value: number) => e.onReading(batch('m-ww', T0 + i * 2 * MIN, { ph: value }), T0 + i * 2 * MIN);
  const phRule = rule({ id: 'ph', kind: 'consecutive', selector: { metric: 'ph', meters: ['m-ww'] }, limit: 'registry', op: 'outside', params: { samples: 3 }, levels: { critical: {} } });
  const samples = [7.2, 4.1, 4.0, 3.9, 3.8, 7.1, 7.0];

  /** One engine for the whole incident: the reference. */
  function reference(): string[] {
    const e = engine(phRule);
    return samples.flatMap((v, i) => chain(ph(e, i, v)));
  }

  const handoverAt = [1, 3, 4, 5, 6];
  for (const at of handoverAt) {
    it(`handed over after sample ${at}: the same transitions as one engine, none repeated or lost`, () => {
      const a = engine(phRule);
      const b = engine(phRule);
      const fps = [...a.fingerprints()];
      b.disown(fps);
      const written = new Map<string, unknown>();
      const out: string[] = [];
      for (let i = 0; i < samples.length; i++) {
        const holder = i < at ? a : b;
        if (i === at) {
          // What a wrote (its changed records, before each batch committed) is what b loads.
          a.disown(fps);
          b.own(fps, [...written.values()]);
          // A replay of the uncommitted batch is seen as such.
          assert.deepEqual(ph(b, i - 1, samples[i - 1]!), [], 'the replayed sample is a duplicate');
        }
        out.push(...chain(ph(holder, i, samples[i]!)));
        for (const r of holder.takeChanges().states) written.set(r.fp, r);
      }
      assert.deepEqual(out, reference());
      assert.deepEqual(chain(a.tick(T0 + 60 * MIN)), [], 'the old holder does nothing with state it gave up');
    });
  }

  it('a disowned binding ignores its inputs, commands and timers; alerts() and snapshot() leave it out', () => {
    const e = engine(phRule, rule({ id: 'silent', kind: 'deadman', selector: { meters: ['m-ww'] }, limit: undefined, levels: { warning: { after: '10m' } } }));
    ph(e, 0, 3.0); ph(e, 1, 3.0); ph(e, 2, 3.0);
    assert.equal([...e.alerts()].length, 1);
    e.disown(e.fingerprints());
    assert.equal(e.owned, 0);
    assert.deepEqual([...e.alerts()], []);
    assert.deepEqual(ph(e, 3, 2.0), []);
    assert.deepEqual(e.onMeterStatus(status('m-ww', 'offline', T0 + 10 * MIN), T0 + 10 * MIN), []);
    assert.deepEqual(e.onAggregate(agg({ metric: 'ph', window: '15m', start: T0, meter: 'm-ww', mean: 1 }), T0), []);
    assert.deepEqual(e.tick(T0 + 5 * 60 * MIN), [], 'no deadman for a meter held elsewhere');
    assert.deepEqual(e.snapshot().states, []);
    assert.deepEqual(e.takeChanges().states, []);
  });

  it('own() restores only the records of the fingerprints taken; the others stay fresh and inactive', () => {
    const src = engine(phRule, rule({ id: 'cod', selector: { metric: 'cod', meters: ['m-ww'] } }));
    ph(src, 0, 3.0);
    src.onReading(batch('m-ww', T0, { cod: 150 }), T0);
    const records = src.snapshot().states;
    assert.equal(records.length, 2);
    const dst = engine(phRule, rule({ id: 'cod', selector: { metric: 'cod', meters: ['m-ww'] } }));
    dst.disown(dst.fingerprints());
    const codFp = [...dst.fingerprints()].find((fp) => dst.scopeOf(fp)!.ruleId === 'cod')!;
    assert.deepEqual(dst.own([codFp], records), { owned: 1, restored: 1, ignored: 0 });
    assert.deepEqual([...dst.alerts()].map((a) => a.ruleId), ['cod']);
    assert.equal(dst.owned, 1);
    assert.deepEqual(dst.snapshot().states.map((s) => s.rule), ['cod']);
  });
});
