/** The alert state machine, commands, flapping, silences, fingerprints, snapshot and restore. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alertEventSchema, type AlertCommand } from '../../../shared/contracts/events.ts';
import type { RulesEngine, Transition } from './engine.ts';
import { fingerprint } from './fingerprint.ts';
import { ack, agg, batch, engine, HOUR, MIN, resolveCmd, rule, states, T0 } from './testing.ts';

const cod = (e: RulesEngine, at: number, value: number, simulated = false) => e.onReading(batch('m-ww', at, { cod: value }, { simulated }), at);
const fpOf = (e: RulesEngine) => [...e.fingerprints()][0]!;
const chain = (ts: Transition[]) => ts.map((t) => `${t.event.transition}:${t.event.previousState ?? 'null'}->${t.event.state}`);

describe('alert state machine', () => {
  it('pending -> firing once the condition has held for `for` (tick; exactly at the duration)', () => {
    const e = engine(rule({ for: '15m' }));
    assert.deepEqual(states(cod(e, T0, 120)), ['pending:critical']);
    assert.deepEqual(states(e.tick(T0 + 15 * MIN - 1)), []);
    const fired = e.tick(T0 + 15 * MIN);
    assert.deepEqual(chain(fired), ['2:pending->firing']);
    assert.deepEqual(fired[0]?.event.provenance.values, [120]);
    assert.deepEqual(states(e.tick(T0 + 20 * MIN)), []);
  });

  it('pending -> firing also on a later breaching sample past the duration', () => {
    const e = engine(rule({ for: '15m' }));
    cod(e, T0, 120);
    assert.deepEqual(chain(cod(e, T0 + 16 * MIN, 130)), ['2:pending->firing']);
  });

  it('pending -> resolved (cancelled) when the condition clears before `for`', () => {
    const e = engine(rule({ for: '15m' }));
    cod(e, T0, 120);
    const out = cod(e, T0 + 5 * MIN, 90);
    assert.deepEqual(chain(out), ['2:pending->resolved']);
    assert.match(out[0]?.event.provenance.detail ?? '', /^cancelled/);
    assert.deepEqual(states(e.tick(T0 + 30 * MIN)), []);
  });

  it('firing -> acknowledged -> resolved when the value clears; transitions monotonic', () => {
    const e = engine(rule());
    const fp = fpOf(e);
    const all = [...cod(e, T0, 120), ...e.onCommand(ack(fp, T0 + MIN), T0 + MIN), ...cod(e, T0 + 2 * MIN, 130), ...cod(e, T0 + 3 * MIN, 90)];
    assert.deepEqual(chain(all), ['1:null->firing', '2:firing->acknowledged', '3:acknowledged->resolved']);
    assert.equal(all[1]?.event.by, 'operator');
    assert.ok(all.every((t) => t.event.fingerprint === fp));
  });

  const ignored: Array<[string, (e: RulesEngine, fp: string) => AlertCommand]> = [
    ['an unknown fingerprint', () => ack('nope', T0 + MIN)],
    ['a command older than the alert (a replay)', (_e, fp) => ack(fp, T0 - 1)],
  ];
  for (const [name, make] of ignored) {
    it(`ignores an acknowledge for ${name}`, () => {
      const e = engine(rule());
      cod(e, T0, 120);
      assert.deepEqual(e.onCommand(make(e, fpOf(e)), T0 + MIN), []);
    });
  }

  it('ignores acknowledging a pending or an already acknowledged alert', () => {
    const e = engine(rule({ for: '15m' }));
    const fp = fpOf(e);
    cod(e, T0, 120);
    assert.deepEqual(e.onCommand(ack(fp, T0 + MIN), T0 + MIN), []);
    e.tick(T0 + 15 * MIN);
    assert.equal(e.onCommand(ack(fp, T0 + 16 * MIN), T0 + 16 * MIN).length, 1);
    assert.deepEqual(e.onCommand(ack(fp, T0 + 17 * MIN), T0 + 17 * MIN), []);
  });

  it('a resolve command resolves; the still-breaching condition does not re-open it; a new breach after a clear opens a new alert', () => {
    const e = engine(rule());
    const fp = fpOf(e);
    cod(e, T0, 120);
    const resolved = e.onCommand(resolveCmd(fp, T0 + MIN), T0 + MIN);
    assert.deepEqual(chain(resolved), ['2:firing->resolved']);
    assert.equal(resolved[0]?.event.by, 'operator');
    assert.deepEqual(cod(e, T0 + 2 * MIN, 125), []);
    assert.deepEqual(cod(e, T0 + 3 * MIN, 90), []);
    const again = cod(e, T0 + 4 * MIN, 140);
    assert.deepEqual(chain(again), ['3:null->firing']);
    assert.equal(again[0]?.event.fingerprint, fp);
    assert.deepEqual(e.onCommand(ack(fp, T0 + 2 * MIN), T0 + 5 * MIN), []); // predates this alert
  });

  it('a resolve command followed by a worse level opens a new alert', () => {
    const e = engine(rule({ levels: { warning: { factor: 0.8 }, critical: {} } }));
    cod(e, T0, 85);
    e.onCommand(resolveCmd(fpOf(e), T0 + MIN), T0 + MIN);
    assert.deepEqual(cod(e, T0 + 2 * MIN, 90), []);
    assert.deepEqual(chain(cod(e, T0 + 3 * MIN, 120)), ['3:null->firing']);
  });

  it('an acknowledged alert that escalates fires again; de-escalation stays acknowledged', () => {
    const e = engine(rule({ levels: { warning: { factor: 0.8 }, critical: {} } }));
    cod(e, T0, 85);
    e.onCommand(ack(fpOf(e), T0 + MIN), T0 + MIN);
    assert.deepEqual(states(cod(e, T0 + 2 * MIN, 120)), ['firing:critical']);
    e.onCommand(ack(fpOf(e), T0 + 3 * MIN), T0 + 3 * MIN);
    const down = cod(e, T0 + 4 * MIN, 85);
    assert.deepEqual(chain(down), ['5:acknowledged->acknowledged']);
    assert.equal(down[0]?.event.severity, 'warning');
  });

  it('marks transitions caused by simulated input', () => {
    const e = engine(rule());
    assert.equal(cod(e, T0, 120, true)[0]?.event.simulated, true);
    assert.equal(cod(e, T0 + MIN, 90, false)[0]?.event.simulated, false);
  });
});

describe('flapping suppression', () => {
  it('N condition changes within the period hold the alert firing; tick resolves once it calms', () => {
    const e = engine(rule({ flapping: { changes: 3, within: '1h' } }));
    const t = (i: number) => T0 + i * MIN;
    assert.deepEqual(chain(cod(e, t(0), 120)), ['1:null->firing']);
    assert.deepEqual(chain(cod(e, t(1), 90)), ['2:firing->resolved']); // 2 changes
    assert.deepEqual(chain(cod(e, t(2), 120)), ['3:null->firing']); // 3 changes
    assert.deepEqual(cod(e, t(3), 90), []); // flapping: held firing
    assert.deepEqual([...e.alerts()].map((a) => [a.state, a.held]), [['firing', true]]);
    assert.deepEqual(cod(e, t(4), 120), []); // breaching again: still the same firing alert
    assert.deepEqual(cod(e, t(5), 90), []);
    assert.deepEqual(e.tick(t(30)), []);
    // The changes at t(3), t(4), t(5) leave the hour one by one; at t(3) + 1h only two remain.
    assert.deepEqual(chain(e.tick(t(3) + HOUR)), ['4:firing->resolved']);
  });
});

describe('silences', () => {
  const silence = (over: Partial<Extract<AlertCommand, { kind: 'silence' }>> = {}): AlertCommand => ({
    v: 1, kind: 'silence', commandId: 's', by: 'operator', at: T0, silenceId: 'maint', matchers: { meter: 'm-ww' }, startsAt: T0, endsAt: T0 + 48 * HOUR, ...over,
  });

  const cases: Array<[string, AlertCommand, number, string | undefined]> = [
    ['a matching meter, inside the window', silence(), T0 + HOUR, 'maint'],
    ['a matcher on rule id and metric', silence({ matchers: { ruleId: 'r1', metric: 'cod' } }), T0 + HOUR, 'maint'],
    ['another meter', silence({ matchers: { meter: 'm-ww2' } }), T0 + HOUR, undefined],
    ['another rule', silence({ matchers: { ruleId: 'other' } }), T0 + HOUR, undefined],
    ['before it starts', silence({ startsAt: T0 + 2 * HOUR }), T0 + HOUR, undefined],
    ['exactly at its end (expired)', silence({ endsAt: T0 + HOUR }), T0 + HOUR, undefined],
    ['inside a recurring 2-hour window', silence({ recurrence: { everyMs: 24 * HOUR, durationMs: 2 * HOUR } }), T0 + 25 * HOUR, 'maint'],
    ['outside the recurring window', silence({ recurrence: { everyMs: 24 * HOUR, durationMs: 2 * HOUR } }), T0 + 3 * HOUR, undefined],
  ];
  for (const [name, cmd, at, expected] of cases) {
    it(`${expected ? 'silences' : 'does not silence'}: ${name}`, () => {
      const e = engine(rule());
      e.onCommand(cmd, T0);
      const out = cod(e, at, 120);
      assert.deepEqual(states(out), ['firing:critical']); // the state changes either way
      assert.equal(out[0]?.silencedBy, expected);
    });
  }

  it('unsilence lifts it; expiry is purged on tick and reported as removed', () => {
    const e = engine(rule());
    e.onCommand(silence(), T0);
    assert.equal(e.takeChanges().silences.length, 1);
    e.onCommand({ v: 1, kind: 'unsilence', commandId: 'u', by: 'operator', at: T0, silenceId: 'maint' }, T0);
    assert.equal(cod(e, T0 + MIN, 120)[0]?.silencedBy, undefined);
    assert.deepEqual(e.takeChanges().removedSilences, ['maint']);
    e.onCommand(silence({ endsAt: T0 + HOUR }), T0);
    e.tick(T0 + 30 * MIN);
    assert.equal(e.activeSilences(T0 + 30 * MIN).length, 1);
    e.takeChanges();
    e.tick(T0 + HOUR);
    assert.equal(e.activeSilences(T0 + HOUR).length, 0);
    assert.deepEqual(e.takeChanges().removedSilences, ['maint']);
  });
});

describe('fingerprints', () => {
  it('are a stable hash of rule id and scope ids, and differ per scope', () => {
    const a = engine(rule({ selector: { metric: 'cod' } }));
    const b = engine(rule({ selector: { metric: 'cod' }, version: 7, limit: 5 }));
    assert.deepEqual([...a.fingerprints()], [...b.fingerprints()]);
    const fps = [...a.fingerprints()];
    assert.equal(new Set(fps).size, 2);
    assert.equal(fps[0], fingerprint('r1', { park: 'p1', tenant: 't1', meter: 'm-ww', metric: 'cod' }));
    assert.match(fps[0], /^[0-9a-f]{32}$/);
  });
});

describe('snapshot and restore', () => {
  const rules = [
    rule({ id: 'cod-for', for: '10m', levels: { warning: { factor: 0.8 }, critical: {} } }),
    rule({ id: 'ph-3', kind: 'consecutive', selector: { metric: 'ph', meters: ['m-ww'] }, op: 'outside', limit: 'registry', params: { samples: 3 } }),
    rule({ id: 'cod-roll', kind: 'rolling', params: { over: '30m', bucket: '5m', minSamples: 2 }, flapping: { changes: 3, within: '1h' } }),
    rule({ id: 'silent', kind: 'deadman', selector: { meters: ['m-ww'] }, limit: undefined, levels: { warning: { after: '10m' }, critical: { after: '30m' } } }),
    rule({ id: 'water', kind: 'budget', selector: { metric: 'water_intake', scope: 'tenant' }, input: 'aggregate', window: '1h', field: 'consumption', limit: 'budget.dailyWaterIntakeM3', levels: { warning: {} }, params: { period: 'day', proRata: false } }),
  ];
  type Step = (e: RulesEngine) => Transition[];
  const codFp = fingerprint('cod-for', { park: 'p1', tenant: 't1', meter: 'm-ww', metric: 'cod' });
  const steps: Step[] = [];
  let t = T0;
  const values = [50, 85, 110, 120, 130, 140, 90, 60, 150, 160, 20, 10];
  values.forEach((v, i) => {
    const at = (t += 3 * MIN);
    steps.push((e) => e.onReading(batch('m-ww', at, { cod: v, ph: i % 4 === 0 ? 7 : 5 }), at));
    steps.push((e) => e.tick(at + MIN));
    steps.push((e) => e.onAggregate(agg({ metric: 'water_intake', window: '1h', start: T0 + i * HOUR, tenant: 't1', consumption: 30, revision: 0 }), at));
    if (i === 6) steps.push((e) => e.onCommand(ack(codFp, at), at));
  });
  steps.push((e) => e.tick(t + 20 * MIN));
  steps.push((e) => e.tick(t + 45 * MIN));
  steps.push((e) => e.onReading(batch('m-ww', t + 46 * MIN, { cod: 5 }), t + 46 * MIN));

  const run = (e: RulesEngine, from: number, to: number) => steps.slice(from, to).flatMap((s) => s(e)).map((x) => x.event);

  it('the scenario itself produces a variety of transitions, each a valid AlertEvent', () => {
    const events = run(engine(...rules), 0, steps.length);
    for (const ev of events) assert.deepEqual(alertEventSchema.parse(ev), ev);
    const kinds = new Set(events.map((ev) => `${ev.ruleId}:${ev.state}`));
    for (const k of ['cod-for:pending', 'cod-for:firing', 'cod-for:acknowledged', 'ph-3:firing', 'cod-roll:firing', 'silent:firing', 'silent:resolved', 'water:firing']) assert.ok(kinds.has(k), `${k} in ${[...kinds].join(', ')}`);
  });

  for (const cut of [5, 11, 19, 26, 33]) {
    it(`a restart after step ${cut}, replaying the last 4 inputs, neither repeats nor loses a transition`, () => {
      const reference = run(engine(...rules), 0, steps.length);
      const first = engine(...rules);
      const before = run(first, 0, cut);
      const snap: unknown = JSON.parse(JSON.stringify(first.snapshot()));
      const second = engine(...rules);
      const report = second.restore(snap as Parameters<RulesEngine['restore']>[0]);
      assert.equal(report.ignored, 0);
      const after = run(second, Math.max(0, cut - 4), steps.length);
      assert.deepEqual([...before, ...after], reference);
    });
  }

  it('restoring from the changed records alone (a compacted topic) is the same as from a full snapshot', () => {
    const reference = run(engine(...rules), 0, steps.length);
    const first = engine(...rules);
    const topic = new Map<string, unknown>();
    const silences = new Map<string, unknown>();
    const before: ReturnType<typeof run> = [];
    for (let i = 0; i < 20; i++) {
      before.push(...run(first, i, i + 1));
      const ch = first.takeChanges();
      for (const r of ch.states) topic.set(r.fp, JSON.parse(JSON.stringify(r)));
      for (const s of ch.silences) silences.set(s.id, s);
      for (const id of ch.removedSilences) silences.delete(id);
    }
    const second = engine(...rules);
    second.restore({ states: [...topic.values()], silences: [...silences.values()] });
    assert.deepEqual([...before, ...run(second, 20, steps.length)], reference);
  });

  it('keeps each record small', () => {
    const e = engine(...rules);
    run(e, 0, steps.length);
    for (const r of e.snapshot().states) assert.ok(JSON.stringify(r).length < 1500, `${r.rule}: ${JSON.stringify(r).length} bytes`);
  });

  it('a new rule version keeps the alert and its transition count, drops evaluation buffers', () => {
    const first = engine(rule({ kind: 'consecutive', params: { samples: 2 } }));
    first.onReading(batch('m-ww', T0, { cod: 120 }), T0);
    first.onReading(batch('m-ww', T0 + MIN, { cod: 120 }), T0 + MIN);
    const second = engine(rule({ kind: 'consecutive', params: { samples: 3 }, version: 2 }));
    second.restore(JSON.parse(JSON.stringify(first.snapshot())) as { states: unknown[] });
    const out = second.onReading(batch('m-ww', T0 + 2 * MIN, { cod: 50 }), T0 + 2 * MIN);
    assert.deepEqual(chain(out), ['2:firing->resolved']);
    assert.equal(out[0]?.event.ruleVersion, 2);
  });

  it('ignores records it cannot use', () => {
    const e = engine(rule());
    const report = e.restore({ states: [{ v: 1, fp: 'unknown', rule: 'r1', ruleVersion: 1, seq: 1, lvl: 0 }, { garbage: true }], silences: [{ id: 'x' }] });
    assert.deepEqual(report, { restored: 0, ignored: 3 });
  });
});
