import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limitInForce, loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
import { readingEnvelopeSchema, type ReadingEnvelope } from '../../shared/contracts/payloads.ts';
import { parseMeterTopic } from '../../shared/contracts/mqtt-topics.ts';
import { ParkSimulation } from './simulation.ts';
import { createMeterState, nextReadings } from './meter-state.ts';
import { mulberry32 } from './prng.ts';
import { parseDuration, parseSignedDuration } from './duration.ts';

const registry = loadParkRegistry(demoParkPath);
const entries = [...registry.allMeters()];
const start = Date.parse('2026-11-23T00:00:00Z'); // a Monday, so the week includes a weekend
const hour = 3_600_000;

const value = (env: ReadingEnvelope, metric: string): number => {
  const r = env.readings.find((x) => x.metric === metric);
  assert.ok(r, `no ${metric}`);
  return r.value;
};

test('mulberry32 repeats for a seed and differs between seeds', () => {
  const a = mulberry32(7), b = mulberry32(7), c = mulberry32(8);
  const xs = Array.from({ length: 5 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

test('durations parse', () => {
  assert.equal(parseDuration('+30m'), 30 * 60_000);
  assert.equal(parseDuration('1h30m'), 90 * 60_000);
  assert.equal(parseDuration('2d'), 48 * hour);
  assert.equal(parseDuration('soon'), null);
  assert.equal(parseSignedDuration('+10m'), 10 * 60_000);
  assert.equal(parseSignedDuration('-2h'), -2 * hour);
  assert.equal(parseSignedDuration('-1h30m'), -90 * 60_000);
  for (const unsigned of ['10m', '+-5m', '++5m', '-', '-soon']) assert.equal(parseSignedDuration(unsigned), null, unsigned);
});

test('same seed gives identical payloads; another seed differs', () => {
  const run = (seed: number): string[] => new ParkSimulation(entries, { seed, startMs: start }).advanceTo(start + 6 * hour).map((m) => `${m.topic} ${m.payload}`);
  const a = run(1);
  assert.ok(a.length > 100);
  assert.deepEqual(run(1), a);
  assert.notDeepEqual(run(2), a);
});

test('a meter does not change with the --meters filter (per-meter seeds)', () => {
  const one = entries.filter((e) => e.meter.id === 'snk-stack-rkef1');
  const alone = new ParkSimulation(one, { seed: 3, startMs: start }).advanceTo(start + hour).map((m) => m.payload);
  const all = new ParkSimulation(entries, { seed: 3, startMs: start }).advanceTo(start + hour).filter((m) => m.meter === 'snk-stack-rkef1').map((m) => m.payload);
  assert.deepEqual(alone, all);
});

test('every payload is a valid simulated envelope on the meter telemetry topic, with increasing seq', () => {
  const msgs = new ParkSimulation(entries, { seed: 1, startMs: start }).advanceTo(start + 2 * hour);
  const lastSeq = new Map<string, number>();
  for (const m of msgs) {
    const env = readingEnvelopeSchema.parse(JSON.parse(m.payload));
    assert.equal(env.simulated, true);
    const topic = parseMeterTopic(m.topic);
    assert.equal(topic?.meter, m.meter);
    assert.equal(topic?.kind, 'telemetry');
    assert.equal(env.seq, (lastSeq.get(m.meter) ?? 0) + 1);
    lastSeq.set(m.meter, env.seq);
  }
  // One message per cadence over the window, start inclusive and end exclusive.
  for (const e of entries) assert.equal(lastSeq.get(e.meter.id), Math.ceil(7200 / e.meter.cadenceSeconds), e.meter.id);
});

test('registers are monotonic and energy grows by power x dt', () => {
  for (const id of ['snk-elec-main', 'btx-elec-main', 'mfp-elec-main']) {
    const entry = registry.meter(id)!;
    const state = createMeterState(entry, 5);
    const dt = entry.meter.cadenceSeconds * 1000;
    let prev: ReadingEnvelope | null = null;
    for (let t = start; t < start + 7 * 24 * hour; t += dt) {
      const env = nextReadings(state, t);
      if (prev) {
        const dE = value(env, 'active_energy_import') - value(prev, 'active_energy_import');
        assert.ok(dE >= 0, `${id} energy went down`);
        const expected = value(env, 'active_power') * (dt / hour);
        assert.ok(Math.abs(dE - expected) <= 0.01 + expected * 1e-6, `${id}: dE ${dE} vs P*dt ${expected}`);
        assert.ok(value(env, 'active_power') < entry.meter.contractedKw!, 'power above contracted');
      }
      prev = env;
    }
  }
  for (const e of entries) {
    const state = createMeterState(e, 9);
    const registers = e.meter.metrics.filter((m) => ['active_energy_import', 'reactive_energy', 'gas_volume', 'steam_mass', 'steam_energy', 'water_intake', 'water_discharge'].includes(m));
    const last = new Map<string, number>();
    for (let t = start; t < start + 2 * 24 * hour; t += e.meter.cadenceSeconds * 1000) {
      const env = nextReadings(state, t);
      for (const m of registers) {
        const v = value(env, m);
        assert.ok(v >= (last.get(m) ?? -Infinity), `${e.meter.id} ${m} went down`);
        last.set(m, v);
      }
    }
  }
});

test('industrial load follows shifts and dips at the weekend', () => {
  const state = createMeterState(registry.meter('btx-elec-main')!, 1);
  const power = (t: number): number => value(nextReadings(state, t), 'active_power');
  // Park time is UTC+8: 10:00 local is 02:00Z.
  const weekdayDay = power(Date.parse('2026-11-25T02:00:00Z'));
  const weekdayNight = power(Date.parse('2026-11-25T18:00:00Z'));
  const sunday = power(Date.parse('2026-11-29T02:00:00Z'));
  assert.ok(weekdayNight < weekdayDay, `night ${weekdayNight} < day ${weekdayDay}`);
  assert.ok(sunday < weekdayDay * 0.8, `sunday ${sunday} vs weekday ${weekdayDay}`);
});

test('by default every value stays inside its limits, and near its set point', () => {
  const msgs = new ParkSimulation(entries, { seed: 11, startMs: start }).advanceTo(start + 7 * 24 * hour);
  let checked = 0;
  for (const m of msgs) {
    const entry = registry.meter(m.meter)!;
    const envelope = JSON.parse(m.payload) as ReadingEnvelope;
    for (const r of envelope.readings) {
      const l = limitInForce(entry.park, entry.meter, r.metric, Date.parse(String(envelope.ts)))?.value;
      if (l?.max !== undefined) assert.ok(r.value < l.max, `${m.meter} ${r.metric} ${r.value} >= ${l.max}`);
      if (l?.min !== undefined) assert.ok(r.value > l.min, `${m.meter} ${r.metric} ${r.value} <= ${l.min}`);
      if (r.metric === 'power_factor') assert.ok(r.value > 0.8 && r.value <= 0.99);
      if (r.metric === 'o2') assert.ok(r.value > 5 && r.value < 11);
      checked++;
    }
  }
  assert.ok(checked > 10_000);
  // Daily discharge stays under the per-hectare limit.
  const wwtp = registry.meter('wwtp-discharge')!;
  const s = createMeterState(wwtp, 1);
  const first = value(nextReadings(s, start), 'water_discharge');
  let last = first;
  for (let t = start + 300_000; t <= start + 24 * hour; t += 300_000) last = value(nextReadings(s, t), 'water_discharge');
  assert.ok(last - first < 69.1 * wwtp.park.usedAreaHa, `daily discharge ${last - first}`);
});
