import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
import type { ReadingEnvelope } from '../../shared/contracts/payloads.ts';
import { ParkSimulation, type OutboundMessage } from './simulation.ts';
import { parseScenario } from './scenario.ts';
import { parseDuration } from './duration.ts';

const registry = loadParkRegistry(demoParkPath);
const start = Date.parse('2026-11-24T00:00:00Z');
const min = 60_000;
const end = start + 6 * 60 * min;

function run(scenario: unknown[], meter: string): OutboundMessage[] {
  const sim = new ParkSimulation([registry.meter(meter)!], { seed: 2, startMs: start, scenario: parseScenario(scenario, start, registry) });
  return sim.advanceTo(end);
}
const valueOf = (m: OutboundMessage, metric: string): number => (JSON.parse(m.payload) as ReadingEnvelope).readings.find((r) => r.metric === metric)!.value;

// Registers that grow slowly and fast against their modulus: one wrap, or a wrap every half hour or so.
const cases = [
  { meter: 'btx-gas', metric: 'gas_volume', modulus: 1_000_000, at: '+1h', wraps: 1 },
  { meter: 'cbr-elec-main', metric: 'active_energy_import', modulus: 100_000, at: '+30m', wraps: 1 },
  { meter: 'snk-elec-main', metric: 'active_energy_import', modulus: 50_000, at: '+2h', wraps: 'several' },
  { meter: 'wwtp-discharge', metric: 'water_discharge', modulus: 1_000_000, at: '+0m', wraps: 1 },
  { meter: 'snk-water-intake', metric: 'water_intake', modulus: 999_999, at: '+97m', wraps: 1 },
] as const;

for (const c of cases) {
  test(`rollover of ${c.meter} ${c.metric} at ${c.modulus} (${c.at}): wraps on the tick at or after its time, and only drops by the modulus`, () => {
    const plain = run([], c.meter);
    const rolled = run([{ at: c.at, meter: c.meter, metric: c.metric, fault: 'rollover', modulus: c.modulus }], c.meter);
    assert.equal(rolled.length, plain.length);
    const values = rolled.map((m) => valueOf(m, c.metric));
    const truth = plain.map((m) => valueOf(m, c.metric));
    assert.ok(values.every((v) => v >= 0 && v < c.modulus), 'inside the register range');

    // Every step is the true consumption, less the modulus where the register wrapped.
    const wrapTimes: number[] = [];
    for (let i = 1; i < values.length; i++) {
      const step = values[i]! - values[i - 1]!;
      const trueStep = truth[i]! - truth[i - 1]!;
      if (step < 0) {
        wrapTimes.push(rolled[i]!.eventTimeMs);
        assert.ok(Math.abs(step + c.modulus - trueStep) < 0.01, `wrap at +${(rolled[i]!.eventTimeMs - start) / min}m: ${values[i - 1]} -> ${values[i]}`);
      } else assert.ok(Math.abs(step - trueStep) < 0.01, `step ${step} vs ${trueStep}`);
    }

    const cadence = registry.meter(c.meter)!.meter.cadenceSeconds * 1000;
    const wrapTick = start + Math.ceil(parseDuration(c.at)! / cadence) * cadence;
    if (wrapTick === start) {
      // The first tick is the wrap: it reads half its own increase.
      assert.ok(values[0]! < truth[1]! - truth[0]!, `first value ${values[0]}`);
    } else assert.ok(wrapTimes.includes(wrapTick), `wraps at ${wrapTimes.map((t) => (t - start) / min).join(', ')} min, expected ${(wrapTick - start) / min}`);
    if (c.wraps === 1) assert.equal(wrapTimes.length, wrapTick === start ? 0 : 1);
    else assert.ok(wrapTimes.length > 3, `${wrapTimes.length} wraps`);
    // The other metrics of the meter are untouched.
    for (const metric of registry.meter(c.meter)!.meter.metrics.filter((m) => m !== c.metric)) {
      assert.deepEqual(rolled.map((m) => valueOf(m, metric)), plain.map((m) => valueOf(m, metric)), metric);
    }
  });
}
