/**
 * Ingest benchmark through the real servers (Mosquitto, Kafka, InfluxDB from infra/):
 * a separate publisher process drives 500 meters, two readings a message, QoS 1,
 * as fast as it can. Prints JSON lines:
 *   1. ingest, saturated (one line per --rounds, then their medians): readings/s
 *      sustained end to end (first publish until every reading is stored in InfluxDB
 *      and produced to Kafka), p50/p99 publish-to-stored latency (interpolated from
 *      ingest's histogram), CPU seconds ingest spent per million readings over that
 *      time, ingest's peak RSS and peak V8 heap;
 *   2. ingest, paced below capacity (--paced-rate messages/s): the same figures,
 *      where latency is the pipeline's own rather than time spent in a backlog;
 *   3. ceiling: what a do-nothing MQTT subscriber receives on the same traffic.
 * Ingest runs with the node flags of `npm run ingest` (package.json), or --node-args.
 * --profile DIR writes ingest's CPU profile of each run, a heap snapshot taken
 * halfway through it (live objects only) and an allocation profile (what each site
 * allocated over the run, garbage included: bench/alloc-profile.ts) into DIR; a
 * profiled run is slower, so its figures are not comparable.
 *
 *   npm run bench:ingest [-- --messages 150000 --meters 500 --rounds 3]
 */
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { osFreePort } from '../test/helpers/service-process.ts';
import { influx, kafkaBrokers, mqttUrl, servicePassword } from '../test/helpers/servers.ts';
import { counter, cpuSeconds, ensureSharedStack, histogramQuantile, lineFrom, peakRssMiB, positiveInt, repoRoot, serviceNodeArgs, sleep, spawnTs, writeBenchRegistry } from './lib.ts';

const usage = 'usage: npm run bench:ingest [-- --messages N --meters N --inflight N --rounds N --paced-rate MSG_PER_S (0 skips) --skip-ceiling --node-args="FLAGS" --profile DIR]\n';
const { values } = parseArgs({ options: { messages: { type: 'string', default: '150000' }, meters: { type: 'string', default: '500' }, inflight: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '1' }, 'paced-rate': { type: 'string', default: '10000' }, 'skip-ceiling': { type: 'boolean' }, 'node-args': { type: 'string' }, profile: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}

const profileDir = values.profile;
const nodeArgs = [
  ...(values['node-args'] === undefined ? serviceNodeArgs('ingest') : values['node-args'].split(/\s+/).filter(Boolean)),
  ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${profileDir}`, '--import', join(repoRoot, 'bench/alloc-profile.ts')] : []),
];
const rounds = positiveInt('rounds', values.rounds, usage);
const messages = Number(values.messages);
const meterCount = Number(values.meters);
const log = (msg: string): void => { process.stderr.write(`[bench] ${msg}\n`); };

ensureSharedStack(log);

const dir = mkdtempSync(join(tmpdir(), 'eip-bench-'));
const { tag, park, registryPath } = writeBenchRegistry(dir, meterCount);

const publish = async (count: number, rate = 0): Promise<void> => {
  const pub = spawnTs('bench/publisher.ts', ['--registry', registryPath, '--messages', String(count), '--inflight', String(values.inflight), '--rate', String(rate), '--url', mqttUrl]);
  log(`publisher: ${await lineFrom(pub)}`);
};

/** Anonymous resident memory of a process (RssAnon), in MiB, as sampled now. */
function rssAnonMiB(pid: number): number {
  const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** A series of a labelled metric, by its sink label. */
const sumOf = (text: string, name: string, sink: string): number => counter(text.split('\n').filter((l) => !l.startsWith(name) || l.includes(`sink="${sink}"`)).join('\n'), name);

const median = (xs: number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
};

// Ingest with every guarantee on: spool, dedup, InfluxDB + Kafka acknowledged.
async function runIngest(phase: string, rate: number, count: number): Promise<Record<string, number | string>> {
  const clientId = `ingest:bench-${tag}-${phase}-${randomBytes(2).toString('hex')}`;
  // Other benchmarks may be running on the machine: a port the OS says is free.
  const opsPort = await osFreePort();
  const ingest = spawn(process.execPath, [...nodeArgs, 'services/ingest/main.ts'], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, LOG_LEVEL: 'warn', BUS: 'kafka', TIMESERIES: 'influxdb', MQTT_PROTOCOL_VERSION: '5', MQTT_CLIENT_ID: clientId,
      // The servers EIP_MQTT_PORT, EIP_KAFKA_PORT and EIP_INFLUX_PORT name (the shared ones by default).
      MQTT_URL: mqttUrl, MQTT_USERNAME: 'ingest', MQTT_PASSWORD: servicePassword('ingest'), KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influx.url,
      PARK_REGISTRY: registryPath, DATA_DIR: dir, OPS_PORT: String(opsPort),
      ...(profileDir ? { EIP_ALLOC_PROFILE_DIR: profileDir } : {}),
    },
  });
  ingest.stdout?.resume();
  ingest.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  const ops = `http://127.0.0.1:${opsPort}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${ops}/readyz`)).status === 200) break; } catch { /* not yet */ }
    if (i > 600) throw new Error('ingest did not become ready');
    await sleep(100);
  }
  log(`${phase}: ingest ready (node ${nodeArgs.join(' ')}); publishing ${count} messages (${count * 2} readings) from ${meterCount} meters${rate ? ` at ${rate} messages/s` : ' as fast as possible'}`);
  const expected = count * 2;
  const cpu0 = cpuSeconds(ingest.pid!);
  const t0 = Date.now();
  const publishing = publish(count, rate);
  let text: string;
  let lastProgress = Date.now();
  let peakHeap = 0;
  let peakExternal = 0;
  let peakAnon = 0;
  let snapshotTaken = !profileDir;
  for (;;) {
    text = await (await fetch(`${ops}/metrics`)).text();
    const written = counter(text, 'eip_ingest_readings_written_total');
    peakHeap = Math.max(peakHeap, counter(text, 'eip_nodejs_heap_size_used_bytes'));
    peakExternal = Math.max(peakExternal, counter(text, 'eip_nodejs_external_memory_bytes'));
    peakAnon = Math.max(peakAnon, rssAnonMiB(ingest.pid!));
    if (written >= expected) break;
    if (!snapshotTaken && written >= expected / 2) {
      snapshotTaken = true;
      ingest.kill('SIGUSR2');
    }
    if (Date.now() - lastProgress > 5000) {
      lastProgress = Date.now();
      log(`${phase}: ${written} / ${expected} readings stored (${Math.round(written / ((Date.now() - t0) / 1000))}/s)`);
    }
    // A scrape costs ingest CPU too: seldom, until the end is near.
    await sleep(written >= expected * 0.95 ? 20 : 200);
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds(ingest.pid!) - cpu0;
  await publishing;
  const result = {
    bench: 'ingest',
    phase,
    readings: expected,
    seconds: Number(seconds.toFixed(2)),
    readingsPerSecond: Math.round(expected / seconds),
    offeredReadingsPerSecond: rate ? rate * 2 : 'as fast as the publisher can',
    latencyP50Ms: Math.round(histogramQuantile(text, 'eip_ingest_event_to_stored_seconds', 0.5) * 1000),
    latencyP99Ms: Math.round(histogramQuantile(text, 'eip_ingest_event_to_stored_seconds', 0.99) * 1000),
    ingestCpuSeconds: Number(cpu.toFixed(2)),
    ingestCpuSecondsPerMillionReadings: Number(((cpu / expected) * 1e6).toFixed(1)),
    ingestPeakRssMiB: peakRssMiB(ingest.pid!),
    ingestPeakHeapUsedMiB: Math.round(peakHeap / 1024 / 1024),
    ingestPeakExternalMiB: Math.round(peakExternal / 1024 / 1024),
    // RSS less the mapped files (the node binary's pages): heap, Buffers, malloc.
    ingestPeakRssAnonMiB: peakAnon,
    batches: counter(text, 'eip_ingest_batch_messages_count'),
    meanBatchMessages: Math.round(counter(text, 'eip_ingest_batch_messages_sum') / Math.max(1, counter(text, 'eip_ingest_batch_messages_count'))),
    meanStoreWriteMs: Math.round((sumOf(text, 'eip_ingest_write_seconds_sum', 'timeseries') / Math.max(1, sumOf(text, 'eip_ingest_write_seconds_count', 'timeseries'))) * 1000),
    meanBusWriteMs: Math.round((sumOf(text, 'eip_ingest_write_seconds_sum', 'bus') / Math.max(1, sumOf(text, 'eip_ingest_write_seconds_count', 'bus'))) * 1000),
    meters: meterCount,
    readingsPerMessage: 2,
    cpus: cpus().length,
    nodeArgs: nodeArgs.join(' '),
    guarantees: 'spool before ack, dedup, InfluxDB 2xx and Kafka acks=-1 before release',
  };
  ingest.kill('SIGTERM');
  await new Promise((r) => ingest.on('exit', r));
  spawnSync(process.execPath, ['-e', `import('./test/helpers/mqtt.ts').then(m => m.dropSession(${JSON.stringify(mqttUrl)}, { clientId: '${clientId}', username: 'ingest', password: ${JSON.stringify(servicePassword('ingest'))} }))`], { cwd: repoRoot });
  return result;
}

// 1. Saturated: the publisher as fast as it can; the figure is the sustained rate.
const saturated: Array<Record<string, number | string>> = [];
for (let round = 1; round <= rounds; round++) {
  const r = await runIngest('saturated', 0, messages);
  saturated.push(r);
  process.stdout.write(`${JSON.stringify({ ...r, round })}\n`);
}
if (rounds > 1) {
  const of = (key: string): number => median(saturated.map((r) => Number(r[key])));
  process.stdout.write(`${JSON.stringify({
    bench: 'ingest', phase: 'saturated', rounds, median: true,
    readingsPerSecond: Math.round(of('readingsPerSecond')), ingestCpuSecondsPerMillionReadings: Number(of('ingestCpuSecondsPerMillionReadings').toFixed(1)),
    ingestPeakRssMiB: Math.round(of('ingestPeakRssMiB')), ingestPeakHeapUsedMiB: Math.round(of('ingestPeakHeapUsedMiB')), latencyP50Ms: Math.round(of('latencyP50Ms')), latencyP99Ms: Math.round(of('latencyP99Ms')),
  })}\n`);
}
// 2. Paced below capacity: the latency figures are the pipeline's, not time in a backlog.
const pacedRate = Number(values['paced-rate']);
if (pacedRate > 0) process.stdout.write(`${JSON.stringify(await runIngest('paced', pacedRate, Math.min(messages, pacedRate * 10)))}\n`);

// 3. The ceiling: a do-nothing subscriber on the same traffic.
if (!values['skip-ceiling']) {
  const sub = spawnTs('bench/null-subscriber.ts', ['--messages', String(messages), '--filter', `eip/${park}/+/+/telemetry`]);
  await lineFrom(sub, (l) => l === 'ready');
  const done = lineFrom(sub, (l) => l.startsWith('{'));
  await publish(messages);
  const ceiling = JSON.parse(await done) as { messagesPerSecond: number; seconds: number };
  process.stdout.write(`${JSON.stringify({ bench: 'ingest-ceiling', subscriber: 'do-nothing MQTT.js, QoS 1', messagesPerSecond: ceiling.messagesPerSecond, readingsPerSecond: ceiling.messagesPerSecond * 2, seconds: ceiling.seconds })}\n`);
}
rmSync(dir, { recursive: true, force: true });
