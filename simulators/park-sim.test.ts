import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../shared/adapters/mqtt/embedded-broker.ts';
import { loadMqttAccounts } from '../shared/adapters/mqtt/credentials.ts';
import { loadParkRegistry, demoParkPath } from '../shared/contracts/park-registry.ts';
import { parseMeterTopic, telemetryTopic } from '../shared/contracts/mqtt-topics.ts';
import { readingEnvelopeSchema } from '../shared/contracts/payloads.ts';
import { quietLogger } from '../shared/observability/logger.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'simulators/park-sim.ts');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root });
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
  for (const flag of ['--registry', '--credentials', '--url', '--protocol', '--seed', '--mode', '--speed', '--start', '--duration', '--scenario', '--meters', '--progress', '--help',
    '--rate', '--count', '--inflight', '--write-registry']) assert.ok(stdout.includes(flag), flag);
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
  const unwritable = await runCli(['--mode', 'load', '--write-registry', join(dir, 'no-such-dir', 'load.json')]);
  assert.equal(unwritable.code, 2);
  assert.match(unwritable.stderr, /--write-registry: ENOENT/);
});

test('end to end: the CLI publishes every demo meter to the embedded broker', { timeout: 60_000 }, async () => {
  const registry = loadParkRegistry(demoParkPath);
  const users = loadMqttAccounts(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, accounts: users, logger: quietLogger() });
  const sub = await mqtt.connectAsync(broker.url, { username: 'simulator', password: 'simulator-dev-secret', clientId: 'simulator:e2e-observer', protocolVersion: 4 });
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
  const users = loadMqttAccounts(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, accounts: users, logger: quietLogger() });
  try {
    const child = spawn(process.execPath, [cli, '--url', broker.url, '--meters', '^snk-', '--seed', '4'], { cwd: root });
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
  const users = loadMqttAccounts(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, accounts: users, logger: quietLogger() });
  const sub = await mqtt.connectAsync(broker.url, { username: 'simulator', password: 'simulator-dev-secret', clientId: 'simulator:e2e-scenario', protocolVersion: 4 });
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
  const users = loadMqttAccounts(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, accounts: users, logger: quietLogger() });
  const sub = await mqtt.connectAsync(broker.url, { username: 'simulator', password: 'simulator-dev-secret', clientId: 'simulator:e2e-delivery', protocolVersion: 4 });
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

test('load mode against the embedded broker: what the broker received is what the summary acknowledged and what was asked', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'park-sim-load-'));
  const registryPath = join(dir, 'load-park.json');
  // 600 meters: 100 on each demo tenant and a generated tenant for the last 100.
  const written = await runCli(['--mode', 'load', '--meters', '600', '--write-registry', registryPath]);
  assert.equal(written.code, 0, written.stderr);
  assert.deepEqual(JSON.parse(written.stdout.trim()), { registry: registryPath, meters: 600, tenants: 6, addedMeters: 600, addedTenants: ['load-t0'] });

  // The broker knows the generated tenant because it reads the written registry, as the services would.
  const registry = loadParkRegistry(registryPath);
  assert.ok(registry.tenant('load-t0'));
  const users = loadMqttAccounts(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, accounts: users, logger: quietLogger() });
  const sub = await mqtt.connectAsync(broker.url, { username: 'simulator', password: 'simulator-dev-secret', clientId: 'simulator:e2e-load', protocolVersion: 4 });
  try {
    let received = 0;
    let readings = 0;
    const tenants = new Set<string>();
    const lastSeq = new Map<string, number>();
    let outOfOrder = 0;
    sub.on('message', (topic, payload) => {
      const t = parseMeterTopic(topic);
      if (t?.kind !== 'telemetry') return;
      const env = readingEnvelopeSchema.parse(JSON.parse(payload.toString()));
      assert.equal(env.simulated, true);
      assert.ok(registry.meter(t.meter), `unknown meter ${t.meter}`);
      assert.equal(registry.meter(t.meter)!.tenant.id, t.tenant);
      if (env.seq <= (lastSeq.get(t.meter) ?? 0)) outOfOrder++;
      lastSeq.set(t.meter, env.seq);
      received++;
      readings += env.readings.length;
      tenants.add(t.tenant);
    });
    await sub.subscribeAsync('eip/+/+/+/telemetry', { qos: 1 });

    const count = 6000;
    const run = await runCli(['--mode', 'load', '--registry', registryPath, '--meters', '600', '--rate', 'max', '--count', String(count), '--inflight', '300', '--url', broker.url, '--progress', '1']);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout.trim()) as { mode: string; reason: string; sent: number; acknowledged: number; failed: number; unacknowledged: number; readings: number; seconds: number; meters: number; tenants: number; readingsPerSecond: number };
    assert.equal(summary.mode, 'load');
    assert.equal(summary.reason, 'count reached');
    assert.equal(summary.sent, count);
    assert.equal(summary.acknowledged, count);
    assert.equal(summary.failed, 0);
    assert.equal(summary.unacknowledged, 0);
    assert.equal(summary.meters, 600);
    assert.equal(summary.tenants, 6);
    assert.ok(summary.seconds > 0);
    // Not a TTY here: plain progress lines, no carriage returns; no warning about unknown meters.
    assert.match(run.stderr, /park-sim: load 100% sent 6000 {2}acked 6000 /);
    assert.ok(!run.stderr.includes('\r') && !run.stderr.includes('warning'), run.stderr);

    // QoS 1 to the subscriber too: wait for the tail, then compare with the summary.
    for (let i = 0; i < 100 && received < count; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(received, summary.acknowledged);
    assert.equal(received, count);
    assert.equal(readings, summary.readings);
    assert.equal(outOfOrder, 0);
    assert.equal(tenants.size, 6);
    // Every meter took its turn: 6000 messages over 600 meters is 10 each.
    assert.equal(lastSeq.size, 600);
    assert.ok([...lastSeq.values()].every((q) => q === 10));

    // Paced and ended by a wall-clock duration: the count is whatever fitted, and the broker still has every acknowledged one.
    received = 0;
    readings = 0;
    lastSeq.clear();
    const paced = await runCli(['--mode', 'load', '--registry', registryPath, '--meters', '600', '--rate', '3000', '--duration', '1s', '--inflight', '50', '--url', broker.url, '--progress', '0']);
    assert.equal(paced.code, 0, paced.stderr);
    const p = JSON.parse(paced.stdout.trim()) as { reason: string; sent: number; acknowledged: number; readings: number; seconds: number; targetReadingsPerSecond: number };
    assert.equal(p.reason, 'duration reached');
    assert.equal(p.targetReadingsPerSecond, 3000);
    assert.ok(p.acknowledged > 0);
    assert.equal(p.acknowledged, p.sent);
    // The pacer is never ahead of its schedule (by more than the one message that opens it; a stack sends 7 readings).
    assert.ok(p.readings <= 3000 * p.seconds + 7, `${p.readings} readings in ${p.seconds} s`);
    for (let i = 0; i < 100 && received < p.acknowledged; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(received, p.acknowledged);
    assert.equal(readings, p.readings);
    assert.equal(outOfOrder, 0);
  } finally {
    await sub.endAsync();
    await broker.close();
  }
  // The written registry is valid JSON the services can read as it is.
  assert.equal((JSON.parse(readFileSync(registryPath, 'utf8')) as { version: number }).version, 1);
});

test('load mode without the written registry: a broker that does not know a generated tenant refuses it, exit 1', { timeout: 60_000 }, async () => {
  const registry = loadParkRegistry(demoParkPath);
  const users = loadMqttAccounts(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, accounts: users, logger: quietLogger() });
  try {
    const run = await runCli(['--mode', 'load', '--meters', '501', '--count', '10', '--url', broker.url, '--progress', '0']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /warning: 501 load meters and 1 generated tenant \(.*\) are not in /);
    assert.match(run.stderr, /tenant load-t0: .*(Bad username or password|Not authorized)/i);
  } finally {
    await broker.close();
  }
});

test('realtime with --backfill publishes the past at once with true timestamps, then stops at --duration', { timeout: 60_000 }, async () => {
  const registry = loadParkRegistry(demoParkPath);
  const users = loadMqttAccounts(join(root, 'infra/dev-credentials.json'), registry);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, accounts: users, logger: quietLogger() });
  const sub = await mqtt.connectAsync(broker.url, { username: 'simulator', password: 'simulator-dev-secret', clientId: 'simulator:backfill-observer', protocolVersion: 4 });
  try {
    const stamps: number[] = [];
    sub.on('message', (topic, payload) => {
      if (parseMeterTopic(topic)?.kind !== 'telemetry') return;
      const env = readingEnvelopeSchema.parse(JSON.parse(payload.toString()));
      stamps.push(typeof env.ts === 'number' ? env.ts : Date.parse(String(env.ts)));
    });
    await sub.subscribeAsync('eip/+/+/+/telemetry', { qos: 1 });
    const started = Date.now();
    // Duration counts from the backfill's start: 20 minutes back, ending now.
    const { code, stdout, stderr } = await runCli(['--url', broker.url, '--backfill', '20m', '--duration', '20m', '--meters', '^wwtp-', '--progress', '0']);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout.trim()) as { sent: number; acknowledged: number };
    const expected = [...registry.allMeters()].filter((e) => e.meter.id.startsWith('wwtp-')).reduce((n, e) => n + Math.ceil(1200 / e.meter.cadenceSeconds), 0);
    assert.equal(summary.sent, expected);
    assert.equal(summary.acknowledged, summary.sent);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(stamps.length, summary.sent);
    assert.ok(Math.min(...stamps) >= started - 20 * 60_000 - 1_000 && Math.min(...stamps) < started - 19 * 60_000, 'the first reading is 20 minutes old');
    assert.ok(Math.max(...stamps) <= Date.now(), 'nothing from the future');
  } finally {
    await sub.endAsync();
    await broker.close();
  }
});
