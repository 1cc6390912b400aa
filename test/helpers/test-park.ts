/** A park registry of its own per test run, so runs on shared servers never see each other's data. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface TestPark {
  park: string;
  tenants: [string, string];
  meters: string[];
  registryPath: string;
  dir: string;
}

export function makeTestPark(meterCount: number): TestPark {
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const park = `itest-${tag}`;
  const tenants: [string, string] = [`ta-${tag}`, `tb-${tag}`];
  const meters = Array.from({ length: meterCount }, (_, i) => `m${i}-${tag}`);
  const dir = mkdtempSync(join(tmpdir(), 'eip-itest-'));
  const registry = {
    version: 1,
    parks: [{
      id: park, name: 'integration test park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
      emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'test' } },
      tenants: [
        { id: tenants[0], name: 'A', sector: 'test', supplySource: 'grid', meters: meters.map((id) => ({ id, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power', 'active_energy_import'] })) },
        { id: tenants[1], name: 'B', sector: 'test', supplySource: 'grid', meters: [{ id: `other-${tag}`, kind: 'water', cadenceSeconds: 60, metrics: ['water_intake'] }] },
      ],
    }],
  };
  const registryPath = join(dir, 'registry.json');
  writeFileSync(registryPath, JSON.stringify(registry));
  return { park, tenants, meters, registryPath, dir };
}

/** Two readings a message, about 170 bytes, as meters send them. */
export function readingMessage(park: TestPark, meterIndex: number, seq: number, baseTs: number): { topic: string; payload: string } {
  const meter = park.meters[meterIndex]!;
  const ts = baseTs + seq * 1000;
  return {
    topic: `eip/${park.park}/${park.tenants[0]}/${meter}/telemetry`,
    payload: JSON.stringify({ v: 1, ts, seq, readings: [{ metric: 'active_power', value: 100 + (seq % 50), unit: 'kW' }, { metric: 'active_energy_import', value: 1000 + seq, unit: 'kWh' }] }),
  };
}

export function* readingMessages(park: TestPark, perMeter: number, baseTs: number, firstSeq = 0): Generator<{ topic: string; payload: string }> {
  for (let s = firstSeq; s < firstSeq + perMeter; s++) for (let m = 0; m < park.meters.length; m++) yield readingMessage(park, m, s, baseTs);
}
