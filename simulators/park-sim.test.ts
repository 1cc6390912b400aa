import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../shared/adapters/mqtt/embedded-broker.ts';
import { loadMqttUsers } from '../shared/adapters/mqtt/credentials.ts';
import { loadParkRegistry, demoParkPath } from '../shared/contracts/park-registry.ts';
import { parseMeterTopic, telemetryTopic } from '../shared/contracts/mqtt-topics.ts';
import { readingEnvelopeSchema } from '../shared/contracts/payloads.ts';
import { quietLogger } from '../shared/observability/logger.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'simulators/park-sim.ts');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('--help exits 0 and lists every flag', async () => {
  const { code, stdout } = await runCli(['--help']);
  assert.equal(code, 0);
  for (const flag of ['--registry', '--credentials', '--url', '--protocol', '--seed', '--mode', '--speed', '--start', '--duration', '--scenario', '--meters', '--progress', '--help']) assert.ok(stdout.includes(flag), flag);
});

test('bad flags and bad scenarios exit 2 with a message', async () => {
  const bad = await runCli(['--protocol', '3']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--protocol/);
  const dir = mkdtempSync(join(tmpdir(), 'park-sim-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, '- at: "+30m"\n  meter: snk-stack-rkef1\n  metric: so2\n  set: 700\n');
  const scen = await runCli(['--mode', 'accelerated', '--duration', '1h', '--scenario', file, '--url', 'mqtt://127.0.0.1:1']);
  assert.equal(scen.code, 2);
  assert.match(scen.stderr, /entry 0 for: required/);
});

test('end to end: the CLI publishes every demo meter to the embedded broker', { timeout: 60_000 }, async () => {
  const registry = loadParkRegistry(demoParkPath);
  const users = loadMqttUsers(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, users, logger: quietLogger() });
  const sub = await mqtt.connectAsync(broker.url, { username: 'simulator', password: 'simulator-dev-secret', clientId: 'sim-e2e-observer', protocolVersion: 4 });
  try {
    const counts = new Map<string, number>();
    const statuses = new Map<string, string[]>();
    let notSimulated = 0;
    sub.on('message', (topic, payload) => {
      const t = parseMeterTopic(topic);
      if (!t) return;
      if (t.kind === 'status') {
        statuses.set(t.meter, [...(statuses.get(t.meter) ?? []), (JSON.parse(payload.toString()) as { status: string }).status]);
        return;
      }
      const env = readingEnvelopeSchema.parse(JSON.parse(payload.toString()));
      if (env.simulated !== true) notSimulated++;
      counts.set(topic, (counts.get(topic) ?? 0) + 1);
    });
    await sub.subscribeAsync('eip/#', { qos: 1 });

    const { code, stdout, stderr } = await runCli(['--url', broker.url, '--mode', 'accelerated', '--speed', '600', '--duration', '30m', '--start', '2026-11-24T00:00:00Z', '--progress', '1']);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout.trim()) as { sent: number; acknowledged: number; failed: number; seconds: number; rate: number };
    let expected = 0;
    for (const { meter } of registry.allMeters()) expected += Math.ceil(1800 / meter.cadenceSeconds);
    assert.equal(summary.sent, expected);
    assert.equal(summary.acknowledged, expected);
    assert.equal(summary.failed, 0);
    assert.match(stderr, /sent \d+ acked \d+/);

    // QoS 1 all the way: give the broker a moment to deliver the tail.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(notSimulated, 0);
    for (const { park, tenant, meter } of registry.allMeters()) {
      assert.equal(counts.get(telemetryTopic(park.id, tenant.id, meter.id)), Math.ceil(1800 / meter.cadenceSeconds), meter.id);
      assert.deepEqual(statuses.get(meter.id)?.[0], 'online', `${meter.id} birth`);
      assert.equal(statuses.get(meter.id)?.at(-1), 'offline', `${meter.id} offline on exit`);
    }
  } finally {
    await sub.endAsync();
    await broker.close();
  }
});

test('realtime run exits cleanly on SIGINT after flushing, with a JSON summary', { timeout: 30_000 }, async () => {
  const registry = loadParkRegistry(demoParkPath);
  const users = loadMqttUsers(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, users, logger: quietLogger() });
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--url', broker.url, '--meters', '^snk-', '--seed', '4'], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Every meter ticks once at the start; wait for those, then interrupt.
    await new Promise((r) => setTimeout(r, 2500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout.trim()) as { reason: string; sent: number; acknowledged: number; meters: number };
    assert.equal(summary.reason, 'SIGINT');
    assert.equal(summary.meters, 4);
    assert.ok(summary.sent >= 4);
    assert.equal(summary.acknowledged, summary.sent);
  } finally {
    await broker.close();
  }
});

test('end to end with the demo scenario: silent, duplicate and malformed reach the wire', { timeout: 60_000 }, async () => {
  const registry = loadParkRegistry(demoParkPath);
  const users = loadMqttUsers(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, users, logger: quietLogger() });
  const sub = await mqtt.connectAsync(broker.url, { username: 'simulator', password: 'simulator-dev-secret', clientId: 'sim-e2e-scenario', protocolVersion: 4 });
  try {
    const counts = new Map<string, number>();
    let malformed = 0;
    sub.on('message', (topic, payload) => {
      const t = parseMeterTopic(topic);
      if (t?.kind !== 'telemetry') return;
      counts.set(t.meter, (counts.get(t.meter) ?? 0) + 1);
      try {
        JSON.parse(payload.toString());
      } catch {
        malformed++;
      }
    });
    await sub.subscribeAsync('eip/+/+/+/telemetry', { qos: 1 });
    const scenario = join(root, 'simulators/scenarios/demo-incidents.yaml');
    const { code, stderr } = await runCli(['--url', broker.url, '--mode', 'accelerated', '--speed', '3600', '--duration', '2h', '--scenario', scenario, '--meters', '^(cbr-stack-furnace|btx-elec-main|mfp-elec-main)$', '--progress', '0']);
    assert.equal(code, 0, stderr);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(counts.get('cbr-stack-furnace'), 24 - 5); // silent from +45m for 25m: 5 ticks missing
    assert.equal(counts.get('btx-elec-main'), 24 + 1); // one duplicate
    assert.equal(counts.get('mfp-elec-main'), 8);
    assert.equal(malformed, 1);
  } finally {
    await sub.endAsync();
    await broker.close();
  }
});

test('end to end with delivery faults: a shuffled span cut by the end of the run is still sent, a skewed clock reaches the wire', { timeout: 60_000 }, async () => {
  const registry = loadParkRegistry(demoParkPath);
  const users = loadMqttUsers(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, users, logger: quietLogger() });
  const sub = await mqtt.connectAsync(broker.url, { username: 'simulator', password: 'simulator-dev-secret', clientId: 'sim-e2e-delivery', protocolVersion: 4 });
  try {
    const received = new Map<string, { seq: number; ts: string }[]>();
    sub.on('message', (topic, payload) => {
      const t = parseMeterTopic(topic);
      if (t?.kind !== 'telemetry') return;
      const env = readingEnvelopeSchema.parse(JSON.parse(payload.toString()));
      received.set(t.meter, [...(received.get(t.meter) ?? []), { seq: env.seq, ts: String(env.ts) }]);
    });
    await sub.subscribeAsync('eip/+/+/+/telemetry', { qos: 1 });
    const scenario = join(root, 'simulators/scenarios/delivery-faults.yaml');
    const startIso = '2026-11-24T00:00:00Z';
    const { code, stdout, stderr } = await runCli(['--url', broker.url, '--mode', 'accelerated', '--speed', '3600', '--duration', '70m', '--start', startIso, '--scenario', scenario,
      '--meters', '^(wwtp-sparing-outlet|cbr-pretreat-outlet|snk-stack-rkef2)$', '--progress', '0']);
    assert.equal(code, 0, stderr);
    assert.equal((JSON.parse(stdout.trim()) as { acknowledged: number }).acknowledged, 35 + 35 + 14);
    await new Promise((r) => setTimeout(r, 300));
    const seqsOf = (meter: string): number[] => (received.get(meter) ?? []).map((r) => r.seq);
    const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
    // The late-burst (+20m for 30m) was released at +50m, in order.
    assert.deepEqual(seqsOf('wwtp-sparing-outlet'), oneTo(35));
    // The out-of-order span (+1h for 20m) was cut at +70m: its 5 records are sent at the end, shuffled.
    const pretreat = seqsOf('cbr-pretreat-outlet');
    assert.deepEqual([...pretreat].sort((a, b) => a - b), oneTo(35));
    assert.deepEqual(pretreat.slice(0, 30), oneTo(30));
    assert.notDeepEqual(pretreat.slice(30), [31, 32, 33, 34, 35]);
    // The stack's clock runs two hours behind from +30m.
    const stack = received.get('snk-stack-rkef2') ?? [];
    assert.equal(stack.length, 14);
    stack.forEach((r, i) => {
      const trueMs = Date.parse(startIso) + i * 300_000;
      assert.equal(Date.parse(r.ts), i >= 6 ? trueMs - 2 * 3_600_000 : trueMs, `record ${i}`);
    });
  } finally {
    await sub.endAsync();
    await broker.close();
  }
});
