/** Property-based fuzzing of the ingest pipeline (test/helpers/fuzz-properties.ts): seeded, FUZZ_SEED / FUZZ_RUNS to vary. */
import { describe, it } from 'node:test';
import { assertFuzz, fuzzNamed, pipelineCase } from '../../test/helpers/fuzz-properties.ts';
import { NOW } from '../../test/helpers/fuzz-arbitraries.ts';

const energy = 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry';
const ph = 'eip/nusantara-eip/celebes-battery/cbr-pretreat-outlet/telemetry';
const msg = (topic: string, payload: unknown) => ({ topic, payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)) });
const env = (ts: unknown, reading: Record<string, unknown> = { metric: 'active_energy_import', value: 1, unit: 'kWh' }) => ({ v: 1, ts, seq: 1, readings: [reading] });

describe('fuzz: the ingest pipeline', () => {
  it('stores every valid reading behind the poison that used to wedge the drain loop, and dead-letters the poison', () =>
    pipelineCase([
      msg(energy, env(NOW, { metric: 'active_energy_import', value: 1e306, unit: 'MWh' })),
      null,
      msg(energy, env(0)),
      msg(energy, env('0001-01-01T00:00:00Z')),
      msg(energy, env(1e16)),
      msg(energy, env(1e300)),
      msg(energy, env(NOW * 1e6 + 5e14)),
      null,
      msg(ph, [{ bt: -1e308, n: 'ph', u: 'pH', v: 7 }]),
      msg(ph, [{ n: 'ph', u: 'pH', v: 7, t: -5e9 }]),
      msg(ph, [{ bt: 1e308, t: 1e308, n: 'ph', u: 'pH', v: 7 }]),
      msg(ph, [{ bt: NOW / 1000, n: 'ph', u: 'pH', v: 1e308, bv: 1e308 }]),
      msg(energy, `{"v":1,"ts":${NOW},"seq":1,"readings":[{"metric":"active_energy_import","value":1e400,"unit":"kWh"}]}`),
      null,
    ], { deadLetters: 11 }));
  for (const p of fuzzNamed('ingest pipeline')) it(p.name, { timeout: 300_000 }, () => assertFuzz(p));
});
