/**
 * Spool benchmark (no servers): appends and drain reads per second, and the
 * peak RSS of a process whose drain keeps up (small backlog, records served
 * from the memory window) against one that spools the whole run before
 * draining it (large backlog, read back from the segment files). Each scenario
 * runs in a fresh process so that its peak RSS is its own. Prints one JSON line.
 *
 *   node bench/spool.ts [--messages 20000 --payload 16384 --memory 16777216]
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../services/ingest/spool.ts';
import { quietLogger } from '../shared/observability/logger.ts';
import { lineFrom, positiveInt, spawnTs } from './lib.ts';

const usage = 'usage: node bench/spool.ts [--messages N --payload BYTES --memory SPOOL_MEMORY_BYTES]\n';
const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' }, payload: { type: 'string', default: '16384' }, memory: { type: 'string', default: String(16 * 1024 * 1024) }, scenario: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const messages = positiveInt('messages', values.messages, usage);
const payloadBytes = positiveInt('payload', values.payload, usage);
const memoryBytes = positiveInt('memory', values.memory, usage);
const batch = 5000;

interface ScenarioResult {
  appendsPerSecond: number;
  appendMiBPerSecond: number;
  drainReadsPerSecond: number;
  peakRssMiB: number;
  peakSpoolMemoryMiB: number;
}

function runScenario(scenario: 'small' | 'large'): ScenarioResult {
  const dir = mkdtempSync(join(tmpdir(), 'eip-bench-spool-'));
  const spool = Spool.open({ dir, logger: quietLogger(), memoryBytes });
  const payload = Buffer.alloc(payloadBytes, 0x61);
  let peak = 0;
  let drained = 0;
  let drainMs = 0;
  const drain = (): void => {
    const t = performance.now();
    const records = spool.take(batch);
    peak = Math.max(peak, spool.memoryBytes);
    if (records.length === 0) return;
    spool.ack(records.at(-1)!.id);
    drained += records.length;
    drainMs += performance.now() - t;
  };
  let appendMs = 0;
  for (let i = 0; i < messages; i++) {
    // A buffer of its own per message, as MQTT.js hands them over.
    const own = Buffer.from(payload);
    const t = performance.now();
    spool.append('eip/park/tenant/meter/telemetry', own, i);
    appendMs += performance.now() - t;
    peak = Math.max(peak, spool.memoryBytes);
    // The drain keeps up: a few hundred records behind, as in a healthy ingest.
    if (scenario === 'small' && i % 200 === 199) drain();
  }
  while (spool.waiting > 0) drain();
  spool.close();
  rmSync(dir, { recursive: true, force: true });
  if (drained !== messages) throw new Error(`drained ${drained} of ${messages}`);
  return {
    appendsPerSecond: Math.round(messages / (appendMs / 1000)),
    appendMiBPerSecond: Math.round((messages * payloadBytes) / 1024 / 1024 / (appendMs / 1000)),
    drainReadsPerSecond: Math.round(messages / (drainMs / 1000)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    peakSpoolMemoryMiB: Number((peak / 1024 / 1024).toFixed(1)),
  };
}

if (values.scenario === 'small' || values.scenario === 'large') {
  process.stdout.write(`${JSON.stringify(runScenario(values.scenario))}\n`);
} else {
  const run = async (scenario: string): Promise<ScenarioResult> => {
    const child = spawnTs('bench/spool.ts', ['--scenario', scenario, '--messages', String(messages), '--payload', String(payloadBytes), '--memory', String(memoryBytes)]);
    return JSON.parse(await lineFrom(child)) as ScenarioResult;
  };
  const small = await run('small');
  const large = await run('large');
  process.stdout.write(`${JSON.stringify({
    bench: 'spool',
    messages,
    payloadBytes,
    backlogMiB: Math.round((messages * payloadBytes) / 1024 / 1024),
    spoolMemoryMiB: Number((memoryBytes / 1024 / 1024).toFixed(1)),
    smallBacklog: small,
    largeBacklog: large,
    peakRssRatioLargeToSmall: Number((large.peakRssMiB / small.peakRssMiB).toFixed(2)),
  })}\n`);
}
