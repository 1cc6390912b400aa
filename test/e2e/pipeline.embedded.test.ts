/**
 * End to end in the embedded mode, as `npm start` runs it: one process with the
 * aedes broker, SQLite bus and store, ingest, aggregator, rules, console and the
 * simulator playing a scenario with a known breach. Checked only through the
 * console API: exactly the expected alerts fire and resolve, and no others.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startAllInOne, type AllInOneProcess } from './all-in-one-process.ts';
import { makeE2ePark, expectedAlerts } from './e2e-park.ts';
import { ConsoleClient, assertExactAlerts } from './console-client.ts';

describe('end to end, embedded (npm start)', { timeout: 240_000 }, () => {
  const p = makeE2ePark();
  let stack: AllInOneProcess | undefined;
  after(async () => {
    await stack?.stop();
    rmSync(p.dir, { recursive: true, force: true });
  });

  it('raises and resolves exactly the scenario\'s alerts, seen through the console API', async () => {
    stack = await startAllInOne({ DATA_DIR: join(p.dir, 'data'), PARK_REGISTRY: p.registryPath, SIMULATOR: 'true', SIMULATOR_SCENARIO: p.scenarioPath, SIMULATOR_SEED: '7', SIMULATOR_BACKFILL_MINUTES: '0' });
    const client = new ConsoleClient(stack.consoleUrl);
    const details = await assertExactAlerts(client, p.park, expectedAlerts, 150_000, 10_000);
    const ph = details[0]!;
    assert.equal(ph.severity, 'critical');
    assert.equal(ph.tenant, 'park-wwtp');
    assert.ok(ph.history[0]!.provenance.values.every((v) => v < 6), 'fired on the breaching samples');
    assert.ok(ph.simulated, 'the simulator marks its traffic');
    // The park page shows the meters the simulator brought online.
    const park = await client.get<{ metersOnline: number; meters: number }>(`/api/parks/${p.park}`);
    assert.equal(park.metersOnline, park.meters);
  });
});
