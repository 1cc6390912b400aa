/**
 * A loop dying inside the running process (`npm start`'s all-in-one, on the
 * embedded adapters): the process logs the cause as fatal, stops gracefully and
 * exits 1, so whatever supervises it restarts it, instead of staying up and
 * "ready" with nothing draining. The fault is injected by a preloaded module
 * (test/helpers/inject-loop-failure.ts); the trigger is one ordinary reading.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../helpers/mqtt.ts';
import { tenantPassword } from '../helpers/servers.ts';
import { startAllInOne, type AllInOneProcess } from './all-in-one-process.ts';

const fault = './test/helpers/inject-loop-failure.ts';

describe('a loop that fails takes the process down with its cause', { timeout: 240_000 }, () => {
  const dirs: string[] = [];
  const stacks: AllInOneProcess[] = [];
  after(async () => {
    for (const s of stacks) await s.stop('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function failOn(target: string): Promise<{ code: number | null; lines: Array<Record<string, unknown>> }> {
    const dir = mkdtempSync(join(tmpdir(), 'eip-loop-failure-'));
    dirs.push(dir);
    const stack = await startAllInOne({ DATA_DIR: dir, SIMULATOR: 'false', EIP_TEST_INJECT_FAILURE: target }, {}, { preload: [fault] });
    stacks.push(stack);
    const tenant = await connect(stack.mqttUrl, { username: 'park-wwtp', password: tenantPassword('park-wwtp'), protocolVersion: 4, clientId: `wwtp-${target}` });
    const exited = new Promise<number | null>((resolve) => stack.child.once('exit', (code) => resolve(code)));
    await tenant.publishAsync('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', JSON.stringify({ v: 1, ts: Date.now() - 60_000, seq: 1, readings: [{ metric: 'ph', value: 7.1, unit: 'pH' }] }), { qos: 1 });
    await tenant.endAsync().catch(() => {});
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
});
