/**
 * Aggregator benchmark against the Kafka and InfluxDB from infra/. Prints one
 * JSON line on stdout (progress on stderr):
 *
 *   N aggregator processes (BUS=kafka, one consumer group) are started and given
 *   time to join; then M meters x K minutes of reading events (2 readings each,
 *   a bench park of its own, 6 tenants) are published to eip.readings.v1, and the
 *   figure is the time from the first publish until the instances together have
 *   consumed them all (eip_aggregator_readings_total{outcome="accepted"}: the
 *   bench park's readings; records of other parks on the shared topic are read
 *   too and reported as otherRecords), with CPU seconds, each instance's batch
 *   time (p50 / p99 from eip_aggregator_batch_seconds), the time spent encoding
 *   checkpoints (eip_aggregator_checkpoint_seconds) and peak RSS. CPU seconds
 *   count from the end of the settle to the last record consumed (start-up and
 *   group join excluded), per million records consumed (the bench's and any
 *   other park's on the shared topic). Afterwards
 *   the checkpoint records the group wrote to eip.aggregator-state.v1 during the
 *   run are read back: how many, and their bytes (the readings partitions'
 *   checkpoints, and the roll-up stage's apart).
 *
 * The group is positioned at the end of the readings topic first, so only the
 * bench's records count, not the shared topic's backlog.
 *
 *   npm run bench:aggregator [-- --meters 1000 --minutes 180 --instances 2]
 */
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createKafkaBus, createKafkaClient } from '../shared/adapters/kafka/index.ts';
import { topics } from '../shared/contracts/kafka-topics.ts';
import type { ReadingBatchEvent } from '../shared/contracts/events.ts';
import type { OutgoingMessage } from '../shared/ports/event-bus.ts';
import { quietLogger } from '../shared/observability/logger.ts';
import { counter, cpuSeconds, histogramQuantile, peakRssMiB, positiveInt, repoRoot, sleep } from './lib.ts';

const usage = `usage: npm run bench:aggregator [-- options]
  --meters N       meters of the bench park (default 1000)
  --minutes K      minutes of readings per meter, one event of 2 readings a minute (default 180)
  --instances N    aggregator processes in the consumer group (default 1)
  --settle S       seconds given to the instances to join the group before publishing (default 10)
  --timeout S      bound of the run (default 300)
  --checkpoint-interval-ms N   the instances' AGGREGATOR_CHECKPOINT_INTERVAL_MS (default: the service's; 0 checkpoints after every batch)
  --node-flags=F   extra node flags for the instances, space-separated (e.g. --node-flags="--max-old-space-size=160")
  --profile DIR    the instances write a CPU profile (--cpu-prof) and, once the records are consumed, a heap snapshot to DIR
  -h, --help       this text
Needs Kafka and InfluxDB from infra/ (infra/stack.sh up; EIP_KAFKA_PORT / EIP_INFLUX_PORT for others).
Each run leaves its records on the readings topic: on shared servers, prefer a Kafka of its own.
`;

const { values } = parseArgs({
  options: {
    meters: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '180' },
    instances: { type: 'string', default: '1' },
    settle: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '300' },
    profile: { type: 'string' },
    'checkpoint-interval-ms': { type: 'string' },
    'node-flags': { type: 'string', default: '' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const meters = positiveInt('meters', values.meters, usage);
const minutes = positiveInt('minutes', values.minutes, usage);
const instances = positiveInt('instances', values.instances, usage);
const settleMs = positiveInt('settle', values.settle, usage) * 1000;
const timeoutMs = positiveInt('timeout', values.timeout, usage) * 1000;
const nodeFlags = values['node-flags'].split(' ').filter(Boolean);
const checkpointIntervalMs = values['checkpoint-interval-ms'];
if (checkpointIntervalMs !== undefined && !/^\d+$/.test(checkpointIntervalMs)) {
  process.stderr.write(`--checkpoint-interval-ms must be a whole number of ms\n${usage}`);
  process.exit(2);
}
const log = (msg: string): void => { process.stderr.write(`[bench:aggregator] ${msg}\n`); };

const kafkaBrokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.EIP_KAFKA_PORT ?? '9092'}`).split(',');
const influxUrl = process.env.INFLUX_URL ?? `http://127.0.0.1:${process.env.EIP_INFLUX_PORT ?? '8086'}`;
const logger = quietLogger('bench-aggregator');

const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'eip-bench-agg-'));
const park = `bagg-${tag}`;
const tenantIds = Array.from({ length: 6 }, (_, i) => `bt${i}-${tag}`);
const meterIds = Array.from({ length: meters }, (_, i) => `bm${i}-${tag}`);
const tenantOf = (i: number): string => tenantIds[i % tenantIds.length]!;
const registryPath = join(dir, 'registry.json');
writeFileSync(registryPath, JSON.stringify({
  version: 1,
  parks: [{
    id: park, name: 'aggregator bench park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'bench' } },
    tenants: tenantIds.map((id) => ({
      id, name: id, sector: 'bench', supplySource: 'grid',
      meters: meterIds.filter((_, i) => tenantOf(i) === id).map((m) => ({ id: m, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power', 'active_energy_import'] })),
    })),
  }],
}));

const group = `bench-agg-${tag}`;
const children = new Set<ChildProcess>();
const kill = (): void => { for (const c of children) c.kill('SIGKILL'); };
process.on('SIGINT', () => { kill(); process.exit(130); });

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Commits the end of the readings topic for the new group, so it skips the shared backlog. */
async function positionAtEnd(client: Kafka): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topics.readings.name);
    await admin.setOffsets({ groupId: group, topic: topics.readings.name, partitions: ends.map((o) => ({ partition: o.partition, offset: o.high })) });
  } finally {
    await admin.disconnect();
  }
}

/** Readings of the bench park the aggregator took (the registry holds that park alone). */
function accepted(page: string): number {
  let n = 0;
  for (const line of page.split('\n')) if (line.startsWith('eip_aggregator_readings_total{') && line.includes('outcome="accepted"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}

async function startInstance(index: number): Promise<{ child: ChildProcess; ops: string }> {
  const port = 19_800 + (process.pid % 100) * 4 + index;
  if (values.profile !== undefined) mkdirSync(values.profile, { recursive: true });
  const profile = values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${values.profile}`];
  const child = spawn(process.execPath, [...nodeFlags, ...profile, 'services/aggregator/main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env, LOG_LEVEL: 'error', BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influxUrl,
      INFLUX_TOKEN: process.env.INFLUX_TOKEN ?? 'eip-dev-token', INFLUX_ORG: process.env.INFLUX_ORG ?? 'eip', INFLUX_BUCKET: process.env.INFLUX_BUCKET ?? 'telemetry',
      INFLUX_AGGREGATES_BUCKET: `${process.env.INFLUX_BUCKET ?? 'telemetry'}_downsampled`, PARK_REGISTRY: registryPath, DATA_DIR: dir,
      AGGREGATOR_GROUP: group, ALLOWED_LATENESS_MS: String(5 * 60_000), PARTITION_LATENESS_MS: String(30 * 60_000), OUT_OF_ORDERNESS_MS: '0', IDLE_PARTITION_MS: '1500', OPS_PORT: String(port),
      ...(checkpointIntervalMs !== undefined && { AGGREGATOR_CHECKPOINT_INTERVAL_MS: checkpointIntervalMs }),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const ops = `http://127.0.0.1:${port}`;
  await within((async () => {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`aggregator ${index} exited (${child.exitCode})`);
      try {
        if ((await fetch(`${ops}/readyz`)).status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(100);
    }
  })(), 60_000, `aggregator ${index} ready`);
  return { child, ops };
}

const client = createKafkaClient({ brokers: kafkaBrokers, clientId: 'bench-aggregator', logger });
const bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'bench-aggregator', logger });
try {
  await positionAtEnd(client);
  const admin = client.admin();
  await admin.connect();
  const stateStart = await admin.fetchTopicOffsets(topics.aggregatorState.name);
  await admin.disconnect();

  log(`starting ${instances} aggregator process(es) in group ${group}`);
  const running = await Promise.all(Array.from({ length: instances }, (_, i) => startInstance(i)));
  await sleep(settleMs);
  const cpuAtStart = running.map((r) => cpuSeconds(r.child.pid!));

  const total = meters * minutes;
  const base = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 5 * 3_600_000;
  const t0 = performance.now();
  log(`publishing ${total} reading events (${2 * total} readings)`);
  for (let minute = 0; minute < minutes; minute++) {
    const batch: OutgoingMessage[] = [];
    for (let i = 0; i < meters; i++) {
      const ts = base + minute * 60_000 + (i % 60) * 1000;
      const ev: ReadingBatchEvent = {
        v: 1, park, tenant: tenantOf(i), meter: meterIds[i]!, seq: minute, receivedAt: ts, simulated: false,
        readings: [{ metric: 'active_power', unit: 'kW', value: 50 + ((i + minute) % 40), ts }, { metric: 'active_energy_import', unit: 'kWh', value: 1000 + minute * (1 + (i % 3)), ts }],
      };
      batch.push({ topic: topics.readings.name, key: ev.meter, value: JSON.stringify(ev) });
    }
    await bus.publish(batch);
  }
  const published = performance.now();
  log(`published in ${Math.round(published - t0)} ms; waiting for the group to consume them`);
  // The bench park's readings only: other parks' records on the shared topic are read too, and counted apart.
  const consumed = async (): Promise<number> => (await Promise.all(running.map(async (r) => accepted(await (await fetch(`${r.ops}/metrics`)).text())))).reduce((a, b) => a + b, 0);
  await within((async () => {
    let logged = performance.now();
    for (let n = await consumed(); n < 2 * total; n = await consumed()) {
      if (performance.now() - logged > 5000) {
        logged = performance.now();
        log(`${n / 2} / ${total} records consumed`);
      }
      // Not much more often: each scrape of /metrics costs the instance CPU the figure would include.
      await sleep(250);
    }
  })(), timeoutMs, 'consuming the bench records');
  const done = performance.now();
  const cpuUsed = running.map((r, i) => cpuSeconds(r.child.pid!) - cpuAtStart[i]!);
  const pages = await Promise.all(running.map(async (r) => (await fetch(`${r.ops}/metrics`)).text()));
  const perInstance = running.map((r, i) => ({
    records: counter(pages[i]!, 'eip_aggregator_records_total'),
    otherRecords: counter(pages[i]!, 'eip_aggregator_records_total') - accepted(pages[i]!) / 2,
    batchP50Ms: Math.round(histogramQuantile(pages[i]!, 'eip_aggregator_batch_seconds', 0.5) * 10_000) / 10,
    batchP99Ms: Math.round(histogramQuantile(pages[i]!, 'eip_aggregator_batch_seconds', 0.99) * 10_000) / 10,
    batches: counter(pages[i]!, 'eip_aggregator_batch_seconds_count'),
    checkpointsEncoded: counter(pages[i]!, 'eip_aggregator_checkpoint_seconds_count'),
    checkpointSeconds: Math.round(counter(pages[i]!, 'eip_aggregator_checkpoint_seconds_sum') * 100) / 100,
    peakRssMiB: peakRssMiB(r.child.pid!),
    cpuSeconds: Math.round(cpuUsed[i]! * 100) / 100,
  }));
  if (values.profile !== undefined) {
    // The heap at its fullest, then a clean exit so that the CPU profile is written.
    for (const r of running) r.child.kill('SIGUSR2');
    await sleep(20_000);
    await Promise.all(running.map((r) => new Promise<void>((resolve) => { r.child.once('exit', () => resolve()); r.child.kill('SIGTERM'); })));
  }
  for (const r of running) r.child.kill('SIGTERM');

  // Checkpoints written by this group since the start: every record of the state topic past the start offsets.
  let checkpoints = 0;
  let checkpointBytes = 0;
  let largest = 0;
  let rollupCheckpoints = 0;
  let rollupCheckpointBytes = 0;
  const consumer = client.consumer({ groupId: `bench-agg-read-${tag}`, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.aggregatorState.name], fromBeginning: true });
  const admin2 = client.admin();
  await admin2.connect();
  const stateEnd = await admin2.fetchTopicOffsets(topics.aggregatorState.name);
  const endOf = new Map(stateEnd.map((o) => [o.partition, BigInt(o.high)]));
  const startOf = new Map(stateStart.map((o) => [o.partition, BigInt(o.high)]));
  const left = new Set(stateEnd.filter((o) => BigInt(o.high) > (startOf.get(o.partition) ?? 0n)).map((o) => o.partition));
  if (left.size > 0) {
    await within(new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const off = BigInt(m.offset);
            if (off < (startOf.get(batch.partition) ?? 0n) || off >= (endOf.get(batch.partition) ?? 0n)) continue;
            const key = m.key?.toString() ?? '';
            if (key !== group && !key.startsWith(`${group}/`)) continue;
            if (key === `${group}/rollups`) {
              // The roll-up stage's checkpoint, counted apart from the readings partitions'.
              rollupCheckpoints++;
              rollupCheckpointBytes += m.value?.length ?? 0;
              continue;
            }
            checkpoints++;
            checkpointBytes += m.value?.length ?? 0;
            largest = Math.max(largest, m.value?.length ?? 0);
          }
          if (BigInt(batch.lastOffset()) + 1n >= (endOf.get(batch.partition) ?? 0n)) left.delete(batch.partition);
          if (left.size === 0) resolve();
        },
      });
      for (const p of left) consumer.seek({ topic: topics.aggregatorState.name, partition: p, offset: String(startOf.get(p) ?? 0n) });
    }), 120_000, 'reading the checkpoints back');
  }
  await consumer.disconnect();
  await admin2.deleteGroups([`bench-agg-read-${tag}`, group, `${group}.rollups`]).catch(() => undefined);
  await admin2.disconnect();

  process.stdout.write(`${JSON.stringify({
    bench: 'aggregator',
    meters, minutes, instances, nodeFlags, checkpointIntervalMs: checkpointIntervalMs === undefined ? 'default' : Number(checkpointIntervalMs), records: total, readings: 2 * total,
    publishMs: Math.round(published - t0),
    consumeMs: Math.round(done - t0),
    recordsPerSecond: Math.round(total / ((done - t0) / 1000)),
    cpuSecondsPerMillionRecords: Math.round((cpuUsed.reduce((a, b) => a + b, 0) / perInstance.reduce((a, p) => a + p.records, 0)) * 1e6 * 10) / 10,
    checkpoints, checkpointBytes, meanCheckpointBytes: checkpoints ? Math.round(checkpointBytes / checkpoints) : 0, largestCheckpointBytes: largest,
    checkpointBytesPerRecord: Math.round((checkpointBytes / total) * 10) / 10,
    // Encoding the readings partitions' checkpoints (JSON and gzip), per record consumed.
    checkpointMsPerRecord: Math.round((perInstance.reduce((a, p) => a + p.checkpointSeconds, 0) / perInstance.reduce((a, p) => a + p.records, 0)) * 1e3 * 1e4) / 1e4,
    rollupCheckpoints, rollupCheckpointBytes, meanRollupCheckpointBytes: rollupCheckpoints ? Math.round(rollupCheckpointBytes / rollupCheckpoints) : 0,
    perInstance,
  })}\n`);
} finally {
  kill();
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
}
