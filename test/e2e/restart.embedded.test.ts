/**
 * `npm start` stopped in the middle of an incident and started again on the same
 * data folder: the alert is still firing, not fired twice, and resolves once.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connect } from '../helpers/mqtt.ts';
import { tenantPassword } from '../helpers/servers.ts';
import { eventually, waitFor } from '../helpers/bus.ts';
import { startAllInOne, type AllInOneProcess } from './all-in-one-process.ts';
import { makeE2ePark } from './e2e-park.ts';
import { ConsoleClient } from './console-client.ts';

const minute = 60_000;

describe('npm start restarted mid-incident', { timeout: 240_000 }, () => {
  const p = makeE2ePark();
  const data = join(p.dir, 'data');
  const env = { DATA_DIR: data, PARK_REGISTRY: p.registryPath, SIMULATOR: 'false' };
  let stack: AllInOneProcess | undefined;
  let tenant: MqttClient | undefined;
  after(async () => {
    await tenant?.endAsync().catch(() => {});
    await stack?.stop();
    rmSync(p.dir, { recursive: true, force: true });
  });

  const t0 = Date.now() - 20 * minute;
  const ph = (client: MqttClient, seq: number, value: number) => client.publishAsync(
    `eip/${p.park}/park-wwtp/wwtp-sparing-outlet/telemetry`,
    JSON.stringify({ v: 1, ts: t0 + seq * 2 * minute, seq, readings: [{ metric: 'ph', value, unit: 'pH' }] }),
    { qos: 1 },
  );
  const tenantClient = (s: AllInOneProcess) => connect(s.mqttUrl, { username: 'park-wwtp', password: tenantPassword('park-wwtp'), protocolVersion: 4, clientId: 'park-wwtp:logger-restart' });

  it('keeps the alert firing across the restart without a second firing, then resolves it once', async () => {
    stack = await startAllInOne(env);
    let client = new ConsoleClient(stack.consoleUrl);
    tenant = await tenantClient(stack);
    for (let seq = 0; seq < 3; seq++) await ph(tenant, seq, 4.4);
    const firing = await eventually(async () => (await client.alerts(p.park)).find((a) => a.ruleId === 'ww-ph-range' && a.state === 'firing'), 60_000, 'pH alert firing', 200);
    await tenant.endAsync();

    assert.equal(await stack.stop('SIGTERM'), 0, 'a clean stop');
    stack = await startAllInOne(env);
    client = new ConsoleClient(stack.consoleUrl);
    // The console rebuilds its board from the bus in the same data folder.
    const after = await eventually(async () => (await client.alerts(p.park)).find((a) => a.fingerprint === firing.fingerprint), 30_000, 'alert known after restart', 200);
    assert.equal(after.state, 'firing');

    tenant = await tenantClient(stack);
    await ph(tenant, 3, 4.3);
    // A breaching sample after the restart must not fire it again: give rules time to see it.
    await waitFor(async () => (await client.get<{ points: unknown[] }>(`/api/parks/${p.park}/series?meter=wwtp-sparing-outlet&metric=ph&from=${t0}&to=${Date.now() + 1}`)).points.length === 4, 30_000, 'fourth sample stored', 200);
    await new Promise((r) => setTimeout(r, 3_000));
    assert.deepEqual((await client.detail(firing.fingerprint)).history.map((h) => h.state), ['firing']);

    await ph(tenant, 4, 7.2);
    await waitFor(async () => (await client.detail(firing.fingerprint)).state === 'resolved', 60_000, 'resolved', 200);
    const detail = await client.detail(firing.fingerprint);
    assert.deepEqual(detail.history.map((h) => [h.transition, h.state]), [[1, 'firing'], [2, 'resolved']]);
  });
});
