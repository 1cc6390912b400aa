/**
 * Liveness of the running process (`npm start`'s all-in-one, on the embedded
 * adapters). A loop dying: the process logs the cause as fatal, stops gracefully
 * and exits 1, so whatever supervises it restarts it, instead of staying up and
 * "ready" with nothing draining. A batch that keeps failing with a retriable
 * error: the stage shows as stalled in /readyz and the metrics. The faults are
 * injected by a preloaded module (test/helpers/inject-loop-failure.ts); the
 * trigger is one ordinary reading.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../helpers/mqtt.ts';
import { tenantPassword } from '../helpers/servers.ts';
import { waitFor } from '../helpers/bus.ts';
import { freePort, metricValue } from '../helpers/service-process.ts';
import { startAllInOne, type AllInOneProcess } from './all-in-one-process.ts';

const fault = './test/helpers/inject-loop-failure.ts';

describe('liveness of the running process', { timeout: 300_000 }, () => {
  const dirs: string[] = [];
  const stacks: AllInOneProcess[] = [];
  after(async () => {
    for (const s of stacks) await s.stop('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** The stack with a fault injected, after one reading reached it. */
  async function withFault(target: string, env: Record<string, string> = {}): Promise<{ stack: AllInOneProcess; exited: Promise<number | null> }> {
    const dir = mkdtempSync(join(tmpdir(), 'eip-liveness-'));
    dirs.push(dir);
    const stack = await startAllInOne({ DATA_DIR: dir, SIMULATOR: 'false', EIP_TEST_INJECT_FAILURE: target, ...env }, {}, { preload: [fault] });
    stacks.push(stack);
    const exited = new Promise<number | null>((resolve) => stack.child.once('exit', (code) => resolve(code)));
    const tenant = await connect(stack.mqttUrl, { username: 'park-wwtp', password: tenantPassword('park-wwtp'), protocolVersion: 4, clientId: `park-wwtp:wwtp-${target}` });
    await tenant.publishAsync('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', JSON.stringify({ v: 1, ts: Date.now() - 60_000, seq: 1, readings: [{ metric: 'ph', value: 7.1, unit: 'pH' }] }), { qos: 1 });
    await tenant.endAsync().catch(() => {});
    return { stack, exited };
  }

  async function failOn(target: string): Promise<{ code: number | null; lines: Array<Record<string, unknown>> }> {
    const { stack, exited } = await withFault(target);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`still running 60 s after the failure:\n${stack.output().slice(-3000)}`)), 60_000); })]);
    clearTimeout(timer);
    const lines = stack.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { code, lines };
  }

  it('the ingest drain loop', async () => {
    const { code, lines } = await failOn('ingest-drain');
    assert.equal(code, 1);
    const fatal = lines.find((l) => l.level === 'fatal');
    assert.equal(fatal?.component, 'ingest drain loop');
    assert.match(String((fatal.err as { message?: string }).message), /injected: the drain loop/);
    assert.ok(lines.some((l) => l.msg === 'ingest stopped'), 'the graceful shutdown ran');
  });

  it('a consumer\'s handler (the aggregator\'s)', async () => {
    const { code, lines } = await failOn('aggregator-handler');
    assert.equal(code, 1);
    const fatal = lines.find((l) => l.level === 'fatal');
    assert.match(String(fatal?.component), /^consumer aggregator \(eip\.readings\.v1\/\d+\)$/);
    assert.match(String((fatal!.err as { stack?: string }).stack), /TypeError: injected: the aggregator handler/);
    assert.ok(lines.some((l) => l.msg === 'stopped'), 'the graceful shutdown ran');
  });

  it('a batch that keeps failing with a retriable error: the stage is stalled in /readyz and the metrics, the process stays up', async () => {
    const opsPort = freePort();
    const { stack } = await withFault('aggregator-retriable', { STALL_TIMEOUT_MS: '3000', AGGREGATOR_OPS_PORT: String(opsPort) });
    const ops = `http://127.0.0.1:${opsPort}`;
    let body: { ready?: boolean; checks?: Record<string, boolean>; reasons?: Record<string, string>; details?: { progress?: Array<{ stage: string; pending: number; since: string }> } } = {};
    await waitFor(async () => {
      const res = await fetch(`${ops}/readyz`);
      body = await res.json() as typeof body;
      return res.status === 503 && body.checks?.progress === false;
    }, 60_000, 'the aggregator not ready because of the stall', 200);
    assert.equal(body.checks?.loops, true, 'not a failure: the loop retries');
    assert.match(body.reasons?.progress ?? '', /^consumer:aggregator: [1-9]\d* pending, no progress for \d+ s \(since \d{4}-.*Z\)$/);
    const stalled = body.details?.progress?.find((d) => d.stage === 'consumer:aggregator');
    assert.ok(stalled && stalled.pending > 0 && !Number.isNaN(Date.parse(stalled.since)), JSON.stringify(body.details));
    assert.equal(await metricValue(ops, 'eip_stage_stalled', { stage: 'consumer:aggregator' }), 1);
    assert.ok(await metricValue(ops, 'eip_stage_pending', { stage: 'consumer:aggregator' }) > 0);
    assert.equal(stack.child.exitCode, null, 'still running');
  });
});
