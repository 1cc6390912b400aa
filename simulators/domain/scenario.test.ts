import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
import type { ReadingEnvelope } from '../../shared/contracts/payloads.ts';
import { ParkSimulation, type OutboundMessage } from './simulation.ts';
import { parseScenario, ScenarioError } from './scenario.ts';
import { parseDuration } from './duration.ts';

const registry = loadParkRegistry(demoParkPath);
const entries = [...registry.allMeters()];
const start = Date.parse('2026-11-24T00:00:00Z');
const min = 60_000;

function run(scenario: unknown, meter: string, untilMs = start + 4 * 60 * min): OutboundMessage[] {
  const sim = new ParkSimulation(entries.filter((e) => e.meter.id === meter), { seed: 1, startMs: start, scenario: parseScenario(scenario, start, registry) });
  return sim.advanceTo(untilMs);
}
const valueOf = (m: OutboundMessage, metric: string): number => (JSON.parse(m.payload) as ReadingEnvelope).readings.find((r) => r.metric === metric)!.value;

test('set pushes a value above its limit for the window, then it returns', () => {
  const msgs = run([{ at: '+30m', meter: 'snk-stack-rkef1', metric: 'so2', set: 700, for: '90m' }], 'snk-stack-rkef1');
  for (const m of msgs) {
    const rel = m.eventTimeMs - start;
    const so2 = valueOf(m, 'so2');
    if (rel >= 30 * min && rel < 120 * min) assert.equal(so2, 700);
    else assert.ok(so2 < 550, `so2 ${so2} at +${rel / min}m`);
  }
  assert.equal(msgs.filter((m) => valueOf(m, 'so2') === 700).length, 18);
});

test('silent sends nothing for the window, keeps counting, and resumes', () => {
  const msgs = run([{ at: '+1h', meter: 'cbr-elec-main', fault: 'silent', for: '30m' }], 'cbr-elec-main');
  const rels = msgs.map((m) => (m.eventTimeMs - start) / min);
  assert.equal(rels.filter((r) => r >= 60 && r < 90).length, 0);
  assert.ok(rels.includes(59) && rels.includes(90));
  assert.equal(msgs.length, 240 - 30);
  // seq continues without a gap; the register jumps by the missed half hour.
  const before = msgs.find((m) => m.eventTimeMs === start + 59 * min)!;
  const after = msgs.find((m) => m.eventTimeMs === start + 90 * min)!;
  assert.equal((JSON.parse(after.payload) as ReadingEnvelope).seq, (JSON.parse(before.payload) as ReadingEnvelope).seq + 1);
  assert.ok(valueOf(after, 'active_energy_import') - valueOf(before, 'active_energy_import') > 6000 * 0.3 * 0.5);
});

test('spike multiplies one sample; duplicate sends one message twice; malformed breaks one payload', () => {
  const msgs = run(
    [
      { at: '+10m', meter: 'wwtp-sparing-outlet', metric: 'cod', fault: 'spike', factor: 5 },
      { at: '+20m', meter: 'wwtp-sparing-outlet', fault: 'duplicate' },
      { at: '+30m', meter: 'wwtp-sparing-outlet', fault: 'malformed' },
    ],
    'wwtp-sparing-outlet',
    start + 60 * min,
  );
  const parsed = msgs.filter((m) => m.eventTimeMs !== start + 30 * min);
  const cods = parsed.map((m) => valueOf(m, 'cod'));
  assert.equal(cods.filter((v) => v > 100).length, 1);
  assert.ok(valueOf(parsed.find((m) => m.eventTimeMs === start + 10 * min)!, 'cod') > 150);
  const at20 = msgs.filter((m) => m.eventTimeMs === start + 20 * min);
  assert.equal(at20.length, 2);
  assert.equal(at20[0]!.payload, at20[1]!.payload);
  const at30 = msgs.filter((m) => m.eventTimeMs === start + 30 * min);
  assert.equal(at30.length, 1);
  assert.throws(() => JSON.parse(at30[0]!.payload) as unknown);
  assert.equal(msgs.length, 30 + 1);
});

test('drift, stuck and register-reset', () => {
  const drift = run([{ at: '+1h', meter: 'wwtp-sparing-outlet', metric: 'ph', fault: 'drift', perHour: 1, for: '2h' }], 'wwtp-sparing-outlet');
  const ph = (rel: number): number => valueOf(drift.find((m) => m.eventTimeMs === start + rel * min)!, 'ph');
  assert.ok(ph(178) > 8.5, `ph after ~2h of +1/h drift: ${ph(178)}`);
  assert.ok(ph(200) < 8.7);

  const stuck = run([{ at: '+1h', meter: 'snk-stack-rkef2', metric: 'nox', fault: 'stuck', for: '1h' }], 'snk-stack-rkef2');
  const window = stuck.filter((m) => m.eventTimeMs >= start + 55 * min && m.eventTimeMs < start + 120 * min).map((m) => valueOf(m, 'nox'));
  assert.equal(new Set(window).size, 1);

  const reset = run([{ at: '+1h', meter: 'btx-gas', metric: 'gas_volume', fault: 'register-reset' }], 'btx-gas');
  const gas = reset.map((m) => valueOf(m, 'gas_volume'));
  const drop = gas.findIndex((v, i) => i > 0 && v < gas[i - 1]!);
  assert.equal(reset[drop]!.eventTimeMs, start + 60 * min);
  assert.ok(gas[drop]! < 900);
  assert.ok(gas.slice(drop).every((v, i, a) => i === 0 || v >= a[i - 1]!));
});

// Ahead and behind, on and off the cadence grid, longer than the skew itself.
const skews = [
  { meter: 'snk-stack-rkef1', offset: '+10m', offsetMs: 10 * min, at: '+30m', for: '1h' },
  { meter: 'wwtp-sparing-outlet', offset: '-2h', offsetMs: -120 * min, at: '+1h', for: '2h' },
  { meter: 'cbr-elec-main', offset: '+90s', offsetMs: 90_000, at: '+7m30s', for: '13m' },
];
for (const s of skews) {
  test(`clock-skew ${s.offset} on ${s.meter}: ts is off by exactly the offset inside the span, true outside, nothing else changes`, () => {
    const plain = run([], s.meter);
    const skewed = run([{ at: s.at, meter: s.meter, fault: 'clock-skew', offset: s.offset, for: s.for }], s.meter);
    assert.equal(skewed.length, plain.length);
    const from = start + parseDuration(s.at)!;
    const until = from + parseDuration(s.for)!;
    let inSpan = 0;
    skewed.forEach((m, i) => {
      const env = JSON.parse(m.payload) as ReadingEnvelope;
      const inside = m.eventTimeMs >= from && m.eventTimeMs < until;
      if (inside) inSpan++;
      assert.equal(Date.parse(env.ts as string) - m.eventTimeMs, inside ? s.offsetMs : 0);
      // Sent on time, with the same seq and values: only the meter's clock is wrong.
      assert.equal(m.sendAtMs, m.eventTimeMs);
      const base = JSON.parse(plain[i]!.payload) as ReadingEnvelope;
      assert.deepEqual({ ...env, ts: null }, { ...base, ts: null });
    });
    const cadence = registry.meter(s.meter)!.meter.cadenceSeconds * 1000;
    assert.equal(inSpan, Math.ceil((until - start) / cadence) - Math.ceil((from - start) / cadence));
    assert.ok(inSpan > 0);
  });
}

test('scenario validation names the entry and the field', () => {
  const bad = (doc: unknown): string => {
    try {
      parseScenario(doc, start, registry);
    } catch (err) {
      assert.ok(err instanceof ScenarioError);
      return err.message;
    }
    assert.fail('expected a ScenarioError');
  };
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'silent', for: '5m' }, { at: '+1m', meter: 'btx-gas', metric: 'gas_volume', set: 1 }]), /entry 1 for: required/);
  assert.match(bad({ events: [{ at: 'later', meter: 'btx-gas', fault: 'duplicate' }] }), /entry 0 at: "later"/);
  assert.match(bad([{ at: '+1m', meter: 'nope', fault: 'duplicate' }]), /entry 0 meter: unknown meter "nope"/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', metric: 'so2', set: 5, for: '1h' }]), /entry 0 metric: meter "btx-gas" has no metric "so2"/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'explode' }]), /entry 0 fault:/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', metric: 'gas_volume', fault: 'spike' }]), /entry 0 factor: required/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'silent', for: 'a while' }]), /entry 0 for: not a duration/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'silent', for: '1h', colour: 'red' }]), /entry 0 .*colour/);
  assert.match(bad('nonsense'), /list of entries/);
  // The delivery and register faults.
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'late-burst' }]), /entry 0 for: required/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'out-of-order' }]), /entry 0 for: required/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'clock-skew', for: '1h' }]), /entry 0 offset: required/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'clock-skew', offset: '10m', for: '1h' }]), /entry 0 offset: not a signed duration/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'clock-skew', offset: '-0m', for: '1h' }]), /entry 0 offset: a clock-skew of zero/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'silent', offset: '+1m', for: '1h' }]), /entry 0 offset: only a clock-skew/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', metric: 'gas_volume', fault: 'rollover' }]), /entry 0 modulus: required/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', metric: 'gas_volume', fault: 'rollover', modulus: -5 }]), /entry 0 modulus:/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'rollover', modulus: 1e6 }]), /entry 0 metric: required/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', metric: 'gas_volume', fault: 'rollover', modulus: 1e6, for: '1h' }]), /entry 0 for: a rollover has no end/);
  assert.match(bad([{ at: '+1m', meter: 'wwtp-sparing-outlet', metric: 'ph', fault: 'rollover', modulus: 1e6 }]), /entry 0 metric: "ph" is not a register/);
  assert.match(bad([{ at: '+1m', meter: 'btx-gas', fault: 'duplicate', modulus: 1e6 }]), /entry 0 modulus: only a rollover/);
  assert.match(bad([
    { at: '+1h', meter: 'btx-gas', fault: 'late-burst', for: '30m' },
    { at: '+1h20m', meter: 'btx-gas', fault: 'out-of-order', for: '30m' },
  ]), /entry 1 for: overlaps entry 0 \(late-burst\) on meter "btx-gas"/);
  assert.match(bad([
    { at: '+1h', meter: 'btx-gas', metric: 'gas_volume', fault: 'rollover', modulus: 1e6 },
    { at: '+2h', meter: 'btx-gas', metric: 'gas_volume', fault: 'rollover', modulus: 1e5 },
  ]), /entry 1 fault: .*already has a rollover \(entry 0\)/);
  assert.match(bad([
    { at: '+3h', meter: 'btx-gas', metric: 'gas_volume', fault: 'rollover', modulus: 1e6 },
    { at: '+1h', meter: 'btx-gas', metric: 'gas_volume', fault: 'register-reset' },
  ]), /entry 1 fault: a register-reset \(entry 1\) before the rollover \(entry 0\)/);
  // Spans that touch but do not overlap are fine, and so is a reset after the wrap.
  assert.equal(parseScenario([
    { at: '+1h', meter: 'btx-gas', fault: 'late-burst', for: '30m' },
    { at: '+1h30m', meter: 'btx-gas', fault: 'out-of-order', for: '30m' },
    { at: '+1h', meter: 'btx-gas', metric: 'gas_volume', fault: 'rollover', modulus: 1e6 },
    { at: '+2h', meter: 'btx-gas', metric: 'gas_volume', fault: 'register-reset' },
  ], start, registry).length, 4);
  // Absolute times with a zone are accepted.
  assert.equal(parseScenario([{ at: '2026-11-24T01:00:00Z', meter: 'btx-gas', fault: 'duplicate' }], start, registry)[0]!.fromMs, 3_600_000);
});

test('the bundled scenarios are valid', async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const doc: unknown = parse(readFileSync(new URL('../scenarios/demo-incidents.yaml', import.meta.url), 'utf8'));
  assert.equal(parseScenario(doc, start, registry).length, 8);
  const faults: unknown = parse(readFileSync(new URL('../scenarios/delivery-faults.yaml', import.meta.url), 'utf8'));
  assert.deepEqual(parseScenario(faults, start, registry).map((e) => e.fault), ['late-burst', 'out-of-order', 'clock-skew', 'rollover']);
});
