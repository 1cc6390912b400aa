/**
 * Rules benchmark. Prints three JSON lines on stdout (progress on stderr):
 *   1. rules-engine: the pure RulesEngine in a fresh process (node --expose-gc),
 *      bound by the default pack to a registry of electricity, wastewater-quality
 *      and stack-cems meters across tenants of one park, 100,000 (rule, scope)
 *      states or more: aggregates/s through onAggregate (15m active_power means,
 *      1h power_factor means, tenant 1h/1d energy), readings/s through onReading
 *      (pH, COD, TSS, NH3-N, stack gases with O2, energy registers), heap after a
 *      forced GC and the snapshot size;
 *   2. rules-service: the real rules service (a process, BUS=kafka) against the
 *      Kafka from infra/: N AggregateEvents to eip.aggregates.v1 and M reading
 *      batches to eip.readings.v1 are published first (a saturated ingest's
 *      readings with the aggregator's windows), then the service starts and the
 *      time from ready until eip_rules_inputs_total counts them all is the
 *      figure: records/s, CPU seconds per million records over that span, peak
 *      RSS, and the checkpoint (state records written to eip.alert-state.v1: records,
 *      bytes and write ms per input record). Its consumer group is positioned beforehand (at
 *      the end of the other input topics, and just before the bench's records)
 *      so the figure is the bench's records, not whatever backlog the shared topics
 *      hold (--from-beginning: leave the group to start from the beginning, and
 *      count the backlog in);
 *   3. breach-to-alert: Mosquitto -> ingest (process) -> Kafka -> rules (process)
 *      -> eip.alerts.v1: K incidents, each a fresh wastewater meter (pH 6-9): one
 *      normal pH, then three below 6; latency from the publish of the third
 *      breaching sample to the 'firing' AlertEvent of ww-ph-range on eip.alerts.v1.
 *
 *   npm run bench:rules [-- --states 100000 --aggregates 100000 --readings 200000 --incidents 20 --only engine,service,latency]
 */
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import { compile, parseRulePack, RulesEngine, defaultRulePackPath, type RulePack } from '../services/rules/domain/index.ts';
import { alertEventSchema, windowMs, type AggregateEvent, type ReadingBatchEvent, type WindowSize } from '../shared/contracts/events.ts';
import { parseParkRegistry, RegistryIndex } from '../shared/contracts/park-registry.ts';
import { topics } from '../shared/contracts/kafka-topics.ts';
import { createKafkaBus, createKafkaClient, type KafkaEventBus } from '../shared/adapters/kafka/index.ts';
import type { OutgoingMessage, Subscription } from '../shared/ports/event-bus.ts';
import { quietLogger } from '../shared/observability/logger.ts';
import { connect, dropSession } from '../test/helpers/mqtt.ts';
import { osFreePort } from '../test/helpers/service-process.ts';
import { cpuSeconds, ensureSharedStack, histogramQuantile, peakRssMiB, positiveInt, repoRoot, sleep } from './lib.ts';

const usage = `usage: npm run bench:rules [-- options]
  --only LIST              phases to run, comma-separated: engine,service,latency (default: all)
  --states N               at least this many (rule, scope) states bound by the default pack (default 100000)
  --engine-aggregates N    aggregates fed to engine.onAggregate, timed (default 500000)
  --engine-batches N       reading batches fed to engine.onReading, timed (default 400000)
  --aggregates N           aggregates published for the rules service to consume (default 100000)
  --readings N             reading batches published for the rules service to consume with them (default 200000)
  --incidents K            breach-to-alert incidents measured (default 20)
  --timeout SECONDS        bound of each phase (default 300)
  --from-beginning         service phase: do not position the rules group; it reads every input topic from the beginning
  --node-flags=FLAGS       service phase: extra node flags for rules, space-separated (e.g. --node-flags="--max-old-space-size=160")
  --profile DIR            engine phase: a heap snapshot of the engine after the run (engine.heapsnapshot); service phase: rules writes
                           a CPU profile (--cpu-prof) and, once the records are consumed, a heap snapshot to DIR
  -h, --help               this text
Needs Mosquitto, Kafka and InfluxDB from infra/ (started with infra/stack.sh up) for the service and latency phases.
`;

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'engine,service,latency' },
    states: { type: 'string', default: '100000' },
    'engine-aggregates': { type: 'string', default: '500000' },
    'engine-batches': { type: 'string', default: '400000' },
    aggregates: { type: 'string', default: '100000' },
    readings: { type: 'string', default: '200000' },
    incidents: { type: 'string', default: '20' },
    timeout: { type: 'string', default: '300' },
    'from-beginning': { type: 'boolean' },
    profile: { type: 'string' },
    'node-flags': { type: 'string', default: '' },
    'engine-child': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const targetStates = positiveInt('states', values.states, usage);
const engineAggregates = positiveInt('engine-aggregates', values['engine-aggregates'], usage);
const engineBatches = positiveInt('engine-batches', values['engine-batches'], usage);
const serviceAggregates = positiveInt('aggregates', values.aggregates, usage);
const serviceReadings = positiveInt('readings', values.readings, usage);
const incidents = positiveInt('incidents', values.incidents, usage);
const phaseTimeoutMs = positiveInt('timeout', values.timeout, usage) * 1000;
const phases = new Set(values.only.split(',').map((s) => s.trim()).filter(Boolean));
for (const p of phases) {
  if (!['engine', 'service', 'latency'].includes(p)) {
    process.stderr.write(`unknown phase "${p}" in --only\n${usage}`);
    process.exit(2);
  }
}

const began = performance.now();
const log = (msg: string): void => { process.stderr.write(`[bench:rules +${((performance.now() - began) / 1000).toFixed(1)}s] ${msg}\n`); };
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

// --- the bench park -------------------------------------------------------------

/** Per tenant: 10 electricity, 5 wastewater-quality and 3 stack-cems meters. */
const PER_TENANT = { elec: 10, ww: 5, stack: 3 } as const;

interface BenchTenant { id: string; elec: string[]; ww: string[]; stack: string[] }
interface BenchPark { park: string; tenants: BenchTenant[]; json: unknown }

function benchPark(tag: string, tenantCount: number): BenchPark {
  const park = `rbench-${tag}`;
  const tenants: BenchTenant[] = Array.from({ length: tenantCount }, (_, t) => ({
    id: `t${t}-${tag}`,
    elec: Array.from({ length: PER_TENANT.elec }, (_, i) => `t${t}-e${i}-${tag}`),
    ww: Array.from({ length: PER_TENANT.ww }, (_, i) => `t${t}-w${i}-${tag}`),
    stack: Array.from({ length: PER_TENANT.stack }, (_, i) => `t${t}-s${i}-${tag}`),
  }));
  const json = {
    version: 1,
    parks: [{
      id: park, name: 'rules bench', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 500,
      emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'bench' } },
      tenants: tenants.map((t) => ({
        id: t.id, name: t.id, sector: 'bench', supplySource: 'grid', budgets: { monthlyKgCo2e: 1_000_000 },
        meters: [
          ...t.elec.map((id) => ({ id, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power', 'power_factor', 'active_energy_import'], contractedKw: 500,
            ratings: { active_energy_import: { maxStepPerHour: 1000 } } })),
          ...t.ww.map((id) => ({ id, kind: 'wastewater-quality', cadenceSeconds: 120, metrics: ['ph', 'cod', 'tss', 'nh3n'],
            limits: { ph: { min: 6, max: 9, source: 'bench permit pH' }, cod: { max: 100, source: 'bench permit COD' } } })),
          ...t.stack.map((id) => ({ id, kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2', 'nox', 'pm', 'o2'], o2ReferencePercent: 7,
            limits: { so2: { max: 550, source: 'bench permit SO2' } } })),
        ],
      })),
    }],
  };
  return { park, tenants, json };
}

const registryOf = (p: BenchPark): RegistryIndex => new RegistryIndex(parseParkRegistry(p.json, 'bench registry'));
const loadPack = (): RulePack => parseRulePack(readFileSync(defaultRulePackPath, 'utf8'), defaultRulePackPath);

/** Tenants needed for the default pack to bind at least `states` (rule, scope) states. */
function tenantsFor(pack: RulePack, states: number): { tenants: number; perTenant: number } {
  const perTenant = compile(pack, registryOf(benchPark('probe', 1))).bindings.length;
  if (perTenant === 0) throw new Error('the default rule pack binds nothing on the bench tenant');
  return { tenants: Math.ceil(states / perTenant), perTenant };
}

// --- input streams --------------------------------------------------------------

function aggregate(p: BenchPark, scope: 'meter' | 'tenant', tenant: string, meter: string | undefined, metric: string, unit: string, window: WindowSize, start: number, mean: number, count: number, consumption?: number): AggregateEvent {
  const ev: AggregateEvent = {
    v: 1, windowId: `${scope}:${meter ?? tenant}:${metric}:${window}:${start}`, revision: 0, scope, park: p.park, tenant,
    metric, unit, window, start, end: start + windowMs[window], count, sum: mean * count, min: mean, max: mean, mean, last: mean,
    registerEvents: [], completeness: 1, simulated: false,
  };
  if (meter !== undefined) ev.meter = meter;
  if (consumption !== undefined) ev.consumption = consumption;
  return ev;
}

/**
 * Closed windows in event-time order, hour after hour: each electricity meter's
 * four 15m active_power means (1 in 2,000 above 90 % of the contracted 500 kW) and
 * its 1h power_factor mean; each tenant's 1h energy (scope 2 budget) and, once a
 * day, its 1d energy (energy-management duty).
 */
function* aggregateStream(p: BenchPark, t0: number): Generator<AggregateEvent, never, undefined> {
  let i = 0;
  for (let h = 0; ; h++) {
    const hs = t0 + h * HOUR;
    if (h % 24 === 0) for (const t of p.tenants) yield aggregate(p, 'tenant', t.id, undefined, 'active_energy_import', 'kWh', '1d', hs - DAY, 12_000, 24, 12_000);
    for (let q = 0; q < 4; q++) {
      for (const t of p.tenants) {
        for (const m of t.elec) yield aggregate(p, 'meter', t.id, m, 'active_power', 'kW', '15m', hs + q * 15 * MIN, ++i % 2000 === 0 ? 480 : 100 + (i % 300), 15);
      }
    }
    for (const t of p.tenants) for (const m of t.elec) yield aggregate(p, 'meter', t.id, m, 'power_factor', 'ratio', '1h', hs, 0.93 + (i++ % 5) / 100, 60);
    for (const t of p.tenants) yield aggregate(p, 'tenant', t.id, undefined, 'active_energy_import', 'kWh', '1h', hs, 500, 60, 500);
  }
}

/**
 * One reading batch per meter every two minutes of event time: wastewater pH, COD,
 * TSS, NH3-N (1 meter in 500 goes to pH 4.5 for 12 minutes out of 24); stack O2,
 * SO2, NOx, PM; the electricity energy register.
 */
function* readingStream(p: BenchPark, t0: number): Generator<ReadingBatchEvent, never, undefined> {
  for (let r = 0; ; r++) {
    const ts = t0 + r * 2 * MIN;
    const receivedAt = ts + 500;
    let k = 0;
    for (const t of p.tenants) {
      const base = { v: 1 as const, park: p.park, tenant: t.id, seq: r, receivedAt, simulated: false };
      for (const m of t.ww) {
        const ph = k++ % 500 === 0 && Math.floor(r / 6) % 2 === 1 ? 4.5 : 7.2;
        yield { ...base, meter: m, readings: [
          { metric: 'ph', unit: 'pH', value: ph, ts }, { metric: 'cod', unit: 'mg/L', value: 40 + (k % 20), ts },
          { metric: 'tss', unit: 'mg/L', value: 30 + (k % 7), ts }, { metric: 'nh3n', unit: 'mg/L', value: 5, ts },
        ] };
      }
      for (const m of t.stack) {
        yield { ...base, meter: m, readings: [
          { metric: 'o2', unit: '%', value: 8, ts }, { metric: 'so2', unit: 'mg/Nm3', value: 300 + (r % 10), ts },
          { metric: 'nox', unit: 'mg/Nm3', value: 250, ts }, { metric: 'pm', unit: 'mg/Nm3', value: 40, ts },
        ] };
      }
      for (const m of t.elec) yield { ...base, meter: m, readings: [{ metric: 'active_energy_import', unit: 'kWh', value: 10_000 + r * 2, ts }] };
    }
  }
}

/** Feeds `total` items, generated untimed in chunks; only the feed loop is timed. */
function timed<T>(gen: Iterator<T, never, undefined>, total: number, feed: (item: T) => number, count: (item: T) => number = () => 1): { ms: number; transitions: number; units: number } {
  const chunkSize = 50_000;
  const chunk: T[] = [];
  let ms = 0;
  let transitions = 0;
  let units = 0;
  for (let done = 0; done < total;) {
    const n = Math.min(chunkSize, total - done);
    chunk.length = 0;
    for (let i = 0; i < n; i++) {
      const item = gen.next().value;
      units += count(item);
      chunk.push(item);
    }
    const t = performance.now();
    for (const item of chunk) transitions += feed(item);
    ms += performance.now() - t;
    done += n;
  }
  chunk.length = 0;
  return { ms, transitions, units };
}

// --- phase 1: the pure engine (in a child with --expose-gc) -----------------------

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function runEngineChild(): void {
  const pack = loadPack();
  const { tenants, perTenant } = tenantsFor(pack, targetStates);
  const park = benchPark(randomBytes(3).toString('hex'), tenants);
  const registry = registryOf(park);
  const t0 = Math.floor(Date.now() / DAY) * DAY - 30 * DAY;
  const heapBefore = heapAfterGc();
  const built = performance.now();
  const engine = new RulesEngine(pack, registry);
  const buildMs = performance.now() - built;
  const states = engine.size;
  if (states < targetStates) throw new Error(`the engine binds ${states} states, fewer than ${targetStates}`);
  log(`engine: ${states} states (${perTenant} per tenant, ${tenants} tenants), built in ${Math.round(buildMs)} ms`);

  const aggs = aggregateStream(park, t0);
  const batches = readingStream(park, t0);
  const onAgg = (a: AggregateEvent): number => engine.onAggregate(a, a.end).length;
  const onReading = (b: ReadingBatchEvent): number => engine.onReading(b, b.receivedAt).length;
  const readingsOf = (b: ReadingBatchEvent): number => b.readings.length;
  // Warm-up, untimed: every state gets its first input (and its buffer), the JIT settles.
  const perHour = tenants * (2 + PER_TENANT.elec * 5);
  timed(aggs, perHour, onAgg);
  timed(batches, tenants * (PER_TENANT.elec + PER_TENANT.ww + PER_TENANT.stack), onReading);

  log(`engine: ${engineAggregates} aggregates through onAggregate`);
  const a = timed(aggs, engineAggregates, onAgg);
  log(`engine: ${engineBatches} reading batches through onReading`);
  const r = timed(batches, engineBatches, onReading, readingsOf);

  const heap = heapAfterGc();
  if (values.profile !== undefined) {
    mkdirSync(values.profile, { recursive: true });
    log(`engine: heap snapshot ${writeHeapSnapshot(join(values.profile, 'engine.heapsnapshot'))}`);
  }
  const s0 = performance.now();
  const snapshot = engine.snapshot();
  const text = JSON.stringify(snapshot);
  const snapshotMs = performance.now() - s0;
  const snapshotStates = snapshot.states.length;
  const snapshotBytes = Buffer.byteLength(text);
  process.stdout.write(`${JSON.stringify({
    bench: 'rules-engine',
    states,
    tenants,
    meters: tenants * (PER_TENANT.elec + PER_TENANT.ww + PER_TENANT.stack),
    skippedBindings: engine.skipped.length,
    aggregates: engineAggregates,
    aggregatesPerSecond: Math.round(engineAggregates / (a.ms / 1000)),
    aggregateTransitions: a.transitions,
    readingBatches: engineBatches,
    readings: r.units,
    readingsPerSecond: Math.round(r.units / (r.ms / 1000)),
    readingBatchesPerSecond: Math.round(engineBatches / (r.ms / 1000)),
    readingTransitions: r.transitions,
    heapMiB: Number((heap / 2 ** 20).toFixed(1)),
    engineHeapMiB: Number(((heap - heapBefore) / 2 ** 20).toFixed(1)),
    heapBytesPerState: Math.round((heap - heapBefore) / states),
    snapshotBytes,
    snapshotStates,
    snapshotBytesPerState: Math.round(snapshotBytes / Math.max(1, snapshotStates)),
    snapshotMs: Math.round(snapshotMs),
    engineBuildMs: Math.round(buildMs),
    heapNote: 'heapUsed after forced GC with the engine and its registry live; engineHeapMiB and heapBytesPerState exclude the registry (measured before the engine was built)',
    node: process.version,
  })}\n`);
  // Keep the registry reachable until after the measurement.
  if (registry.registry.parks.length === 0) log('empty registry');
}

if (values['engine-child']) {
  runEngineChild();
  process.exit(0);
}

// --- processes, Kafka, clean-up ---------------------------------------------------

const children = new Set<ChildProcess>();
const cleanups: Array<{ label: string; fn: () => Promise<unknown> | void }> = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function within<T>(p: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms / 1000)} s: ${label}`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}


interface Service {
  name: string;
  child: ChildProcess;
  ops: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts services/<name>/main.ts as a process and waits for /readyz (bounded). */
async function startService(name: string, env: Record<string, string>, readyTimeoutMs: number, nodeFlags: readonly string[] = []): Promise<Service & { readyAt: number }> {
  const port = await osFreePort();
  const child = spawn(process.execPath, [...nodeFlags, `services/${name}/main.ts`], {
    cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn', ...env, OPS_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-20_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { children.delete(child); resolve(); }));
  const ops = `http://127.0.0.1:${port}`;
  const service: Service = {
    name, child, ops, output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      try {
        await within(exited, 30_000, `${name} to stop`);
      } catch {
        log(`${name} did not stop within 30 s of SIGTERM; SIGKILL`);
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${out}`);
    try {
      if ((await fetch(`${ops}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      await service.stop();
      throw new Error(`${name} not ready within ${Math.round(readyTimeoutMs / 1000)} s:\n${out}`);
    }
    await sleep(100);
  }
  return { ...service, readyAt: performance.now() };
}

async function metricsText(ops: string): Promise<string> {
  return (await fetch(`${ops}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
}

/** Sum of a metric's samples whose labels include `label` (e.g. topic="eip.aggregates.v1"; '' for all). */
function labeled(text: string, name: string, label = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) && line.includes(label)) || (label === '' && line.startsWith(`${name} `))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const credentials = JSON.parse(readFileSync(join(repoRoot, 'infra/dev-credentials.json'), 'utf8')) as { services: Record<string, string> };
const passwordOf = (user: string): string => {
  const p = credentials.services[user];
  if (p === undefined) throw new Error(`infra/dev-credentials.json has no password for ${user}`);
  return p;
};
const mqttUrl = `mqtt://127.0.0.1:${process.env.EIP_MQTT_PORT ?? '1883'}`;
const kafkaBrokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.EIP_KAFKA_PORT ?? '9092'}`).split(',');
const influxUrl = process.env.INFLUX_URL ?? `http://127.0.0.1:${process.env.EIP_INFLUX_PORT ?? '8086'}`;

type Positions = Array<{ partition: number; offset: string }>;
const endsOf = async (admin: Admin, topic: string): Promise<Positions> => (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, offset: o.high }));
const sumOffsets = (p: Positions): number => p.reduce((s, o) => s + Number(o.offset), 0);
const backlogOf = async (admin: Admin, topic: string): Promise<number> => (await admin.fetchTopicOffsets(topic)).reduce((s, o) => s + Number(o.high) - Number(o.low), 0);

/**
 * Commits offsets for a new group (no members yet), so its consumers start there.
 * One join for every topic: admin.setOffsets joins the group once per topic, and
 * each join of an empty group waits out the broker's initial rebalance delay (~3 s).
 */
async function position(client: Kafka, groupId: string, at: Record<string, Positions>): Promise<void> {
  const consumer = client.consumer({ groupId, allowAutoTopicCreation: false });
  const names = Object.keys(at);
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: names, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    // Nothing consumed is resolved or committed: only the explicit commit below counts.
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} });
    consumer.pause(names.map((topic) => ({ topic })));
    await within(joined, 60_000, `joining consumer group ${groupId} to position it`);
    await consumer.commitOffsets(Object.entries(at).flatMap(([topic, parts]) => parts.map((p) => ({ topic, partition: p.partition, offset: p.offset }))));
  } finally {
    await consumer.disconnect();
  }
}

// --- phase 1 from the parent: spawn the child ----------------------------------------

async function enginePhase(): Promise<string> {
  log('engine: in a fresh process with --expose-gc');
  const child = spawn(process.execPath, ['--expose-gc', 'bench/rules.ts', '--engine-child', ...process.argv.slice(2)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await within(new Promise<number | null>((resolve) => child.once('exit', (c) => { children.delete(child); resolve(c); })), phaseTimeoutMs, 'engine phase').catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const line = out.split('\n').find((l) => l.startsWith('{"bench":"rules-engine"'));
  if (code !== 0 || !line) throw new Error(`engine phase failed (exit ${code}): ${out}`);
  return line;
}

// --- main -------------------------------------------------------------------------

const tag = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'eip-bench-rules-'));
cleanups.push({ label: 'temp folder', fn: () => rmSync(dir, { recursive: true, force: true }) });

let bus: KafkaEventBus | undefined;
let admin: Admin | undefined;
let kafkaClient: Kafka | undefined;
const groupsToDelete: string[] = [];
const logger = quietLogger('bench-rules');

/** Kafka clients shared by phases 2 and 3. */
const benchParks: BenchPark[] = [];

async function kafka(): Promise<{ bus: KafkaEventBus; admin: Admin; client: Kafka }> {
  if (!bus || !admin || !kafkaClient) {
    const b = (bus = createKafkaBus({ brokers: kafkaBrokers, clientId: `bench-rules-${tag}`, logger }));
    const client = (kafkaClient = createKafkaClient({ brokers: kafkaBrokers, clientId: `bench-rules-admin-${tag}`, logger }));
    const a = (admin = client.admin());
    cleanups.push({ label: 'Kafka clients', fn: async () => { await b.close(); await a.disconnect(); } });
    await within(a.connect(), 30_000, 'Kafka admin connect');
    cleanups.push({ label: 'consumer groups', fn: async () => {
      if (groupsToDelete.length) await a.deleteGroups(groupsToDelete).catch((err: unknown) => log(`could not delete consumer groups: ${(err as Error).message}`));
    } });
    // Rules keeps a record per fingerprint in the compacted eip.alert-state.v1 (key
    // `state:<fingerprint>`, see services/rules/rules.ts), and reads that topic in full on
    // every start. Tombstone the keys the bench parks' services wrote, found in what was
    // appended during the run: compaction then drops them instead of keeping them forever.
    const stateTopic = topics.alertState.name;
    const from = await endsOf(a, stateTopic);
    cleanups.push({ label: 'alert-state tombstones', fn: async () => {
      if (benchParks.length === 0) return;
      const pack = loadPack();
      const ours = new Set(benchParks.flatMap((p) => compile(pack, registryOf(p)).bindings.map((x) => `state:${x.fp}`)));
      const scanGroup = `bench-rules-${tag}-state-scan`;
      groupsToDelete.push(scanGroup);
      const written = [...await keysIn(client, scanGroup, stateTopic, from, await endsOf(a, stateTopic))].filter((k) => ours.has(k));
      for (let i = 0; i < written.length; i += 20_000) {
        await b.publish(written.slice(i, i + 20_000).map((key): OutgoingMessage => ({ topic: stateTopic, key, value: null })));
      }
      log(`clean-up: ${written.length} alert-state records of the bench parks tombstoned`);
    } });
  }
  return { bus, admin, client: kafkaClient };
}

/** The keys of a topic's records between two positions. */
async function keysIn(client: Kafka, groupId: string, topic: string, from: Positions, to: Positions): Promise<Set<string>> {
  const keys = new Set<string>();
  const start = new Map(from.map((f) => [f.partition, BigInt(f.offset)]));
  const remaining = new Map(to.filter((t) => BigInt(t.offset) > (start.get(t.partition) ?? 0n)).map((t) => [t.partition, BigInt(t.offset)]));
  if (remaining.size === 0) return keys;
  const consumer = client.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    let done = (): void => {};
    const finished = new Promise<void>((resolve) => { done = resolve; });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = remaining.get(batch.partition);
        if (end === undefined) return;
        for (const m of batch.messages) if (BigInt(m.offset) < end && m.key) keys.add(m.key.toString());
        if (BigInt(batch.lastOffset()) + 1n >= end) {
          remaining.delete(batch.partition);
          if (remaining.size === 0) done();
        }
      },
    });
    for (const [partition, offset] of start) if (remaining.has(partition)) consumer.seek({ topic, partition, offset: offset.toString() });
    await within(finished, 60_000, `reading ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return keys;
}

/** A bench park of its own for a phase (unique id per run), written as a registry file. */
async function benchFiles(phase: string): Promise<{ bus: KafkaEventBus; admin: Admin; client: Kafka; park: BenchPark; registryPath: string }> {
  const { bus: b, admin: a, client } = await kafka();
  const { tenants } = tenantsFor(loadPack(), targetStates);
  const park = benchPark(`${tag}${phase}`, tenants);
  benchParks.push(park);
  const registryPath = join(dir, `registry-${phase}.json`);
  writeFileSync(registryPath, JSON.stringify(park.json));
  return { bus: b, admin: a, client, park, registryPath };
}

/** Rules' tick period; its first tick writes every never-seen deadman state at once. */
const TICK_MS = 5000;
const rulesEnv = (group: string, path: string): Record<string, string> => ({
  BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influxUrl, ALERTS_MQTT: 'false',
  RULES_GROUP: group, RULES_BATCH_MAX: '5000', PARK_REGISTRY: path, DATA_DIR: dir, TICK_INTERVAL_MS: String(TICK_MS),
});

async function servicePhase(): Promise<Record<string, unknown>> {
  const { bus: b, admin: a, client, park: p, registryPath: path } = await benchFiles('s');
  const group = `bench-rules-${tag}-svc`;
  groupsToDelete.push(group);
  const aggTopic = topics.aggregates.name;
  const readTopic = topics.readings.name;
  const before: Record<string, Positions> = { [aggTopic]: await endsOf(a, aggTopic), [readTopic]: await endsOf(a, readTopic) };
  const backlog: Record<string, number> = { [aggTopic]: await backlogOf(a, aggTopic), [readTopic]: await backlogOf(a, readTopic) };

  log(`service: publishing ${serviceAggregates} aggregates to ${aggTopic} and ${serviceReadings} reading batches to ${readTopic} (park ${p.park})`);
  const aggs = aggregateStream(p, Math.floor(Date.now() / DAY) * DAY - 2 * DAY);
  // Readings around now: deadman rules see live meters, as behind a saturated ingest.
  const reads = readingStream(p, Date.now() - 4 * MIN);
  const p0 = performance.now();
  let readingValues = 0;
  const publishAll = async <T>(total: number, next: () => T, msg: (item: T) => OutgoingMessage): Promise<void> => {
    for (let done = 0; done < total;) {
      const n = Math.min(10_000, total - done);
      const msgs: OutgoingMessage[] = [];
      for (let i = 0; i < n; i++) msgs.push(msg(next()));
      await b.publish(msgs);
      done += n;
    }
  };
  await within((async () => {
    await publishAll(serviceAggregates, () => aggs.next().value, (e) => ({ topic: aggTopic, key: e.meter ?? e.tenant ?? e.park, value: JSON.stringify(e) }));
    await publishAll(serviceReadings, () => reads.next().value, (r) => {
      readingValues += r.readings.length;
      return { topic: readTopic, key: r.meter, value: JSON.stringify(r) };
    });
  })(), phaseTimeoutMs, 'publishing the aggregates and readings');
  const publishSeconds = (performance.now() - p0) / 1000;
  const after: Record<string, Positions> = { [aggTopic]: await endsOf(a, aggTopic), [readTopic]: await endsOf(a, readTopic) };
  const published = (t: string): number => sumOffsets(after[t]!) - sumOffsets(before[t]!);

  const target: Record<string, number> = {};
  let skippedBacklog: Record<string, number> = {};
  if (values['from-beginning']) {
    for (const t of [aggTopic, readTopic]) target[t] = backlog[t]! + published(t);
  } else {
    // Just before the bench's records, and at the end of everything else the service reads.
    // The group reads readings, aggregates and the routed topic; its router (group.router) meter status and commands.
    const others = [topics.rulesRouted.name];
    const routed = [topics.meterStatus.name, topics.alertCommands.name];
    const at: Record<string, Positions> = { [aggTopic]: before[aggTopic]!, [readTopic]: before[readTopic]! };
    for (const t of others) at[t] = await endsOf(a, t);
    const routerAt: Record<string, Positions> = {};
    for (const t of routed) routerAt[t] = await endsOf(a, t);
    await Promise.all([position(client, group, at), position(client, `${group}.router`, routerAt)]);
    groupsToDelete.push(`${group}.router`);
    skippedBacklog = { ...backlog };
    for (const t of [...others, ...routed]) skippedBacklog[t] = await backlogOf(a, t);
    for (const t of [aggTopic, readTopic]) target[t] = published(t);
  }
  const goal = (target[aggTopic] ?? 0) + (target[readTopic] ?? 0);
  if (goal !== serviceAggregates + serviceReadings) log(`service: ${goal - serviceAggregates - serviceReadings} records from elsewhere are counted too; waiting for ${goal}`);

  log('service: starting rules (restores eip.alert-state.v1 first)');
  const s0 = performance.now();
  if (values.profile !== undefined) mkdirSync(values.profile, { recursive: true });
  const profile = values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${values.profile}`];
  const nodeFlags = values['node-flags'].split(' ').filter(Boolean);
  const rules = await startService('rules', rulesEnv(group, path), Math.min(phaseTimeoutMs, 180_000), [...nodeFlags, ...profile]);
  cleanups.push({ label: 'rules (service phase)', fn: () => rules.stop() });
  const cpuAtReady = cpuSeconds(rules.child.pid!);
  // The start-up's own peak: reading the compacted state topic back, which holds whatever earlier runs left on a shared Kafka.
  const peakRssAtReady = peakRssMiB(rules.child.pid!);
  const startupSeconds = (rules.readyAt - s0) / 1000;
  let text = await metricsText(rules.ops);
  const counted = (t: string): number => labeled(text, 'eip_rules_inputs_total', `topic="${t}"`);
  const both = (): number => counted(aggTopic) + counted(readTopic);
  const atReady: Record<string, number> = { [aggTopic]: counted(aggTopic), [readTopic]: counted(readTopic) };
  const atReadyState = { records: labeled(text, 'eip_rules_state_records_total'), bytes: labeled(text, 'eip_rules_state_bytes_total'), seconds: labeled(text, 'eip_rules_write_seconds_sum') };
  log(`service: ready after ${startupSeconds.toFixed(1)} s (${both()} records already counted); waiting for ${goal}`);
  const deadline = rules.readyAt + phaseTimeoutMs;
  let last = -1;
  let lastChange = performance.now();
  let lastLog = performance.now();
  const done: Record<string, number> = {};
  for (;;) {
    text = await metricsText(rules.ops);
    const now = performance.now();
    for (const t of [aggTopic, readTopic]) if (done[t] === undefined && counted(t) >= (target[t] ?? 0)) done[t] = now;
    const seen = both();
    if (done[aggTopic] !== undefined && done[readTopic] !== undefined) break;
    if (seen !== last) {
      last = seen;
      lastChange = now;
    }
    if (rules.child.exitCode !== null) throw new Error(`rules exited (${rules.child.exitCode}) at ${seen} / ${goal} records:\n${rules.output()}`);
    if (now - lastChange > 60_000) throw new Error(`rules made no progress for 60 s at ${seen} / ${goal} records:\n${rules.output()}`);
    if (now > deadline) throw new Error(`rules counted ${seen} / ${goal} records within the ${phaseTimeoutMs / 1000} s bound`);
    if (now - lastLog > 5000) {
      lastLog = now;
      log(`service: ${counted(aggTopic)} aggregates, ${counted(readTopic)} reading batches / ${goal} records (${Math.round(seen / ((now - rules.readyAt) / 1000))}/s)`);
    }
    await sleep(100);
  }
  const seconds = (performance.now() - rules.readyAt) / 1000;
  const cpuUsed = cpuSeconds(rules.child.pid!) - cpuAtReady;
  const handled = both() - atReady[aggTopic]! - atReady[readTopic]!;
  if (handled < goal / 2) log(`service: ${goal - handled} of ${goal} records were handled before /readyz answered; use more --aggregates and --readings for a steadier figure`);
  const stateRecords = labeled(text, 'eip_rules_state_records_total') - atReadyState.records;
  const stateBytes = labeled(text, 'eip_rules_state_bytes_total') - atReadyState.bytes;
  const writeSeconds = labeled(text, 'eip_rules_write_seconds_sum') - atReadyState.seconds;
  const round1 = (x: number): number => Math.round(x * 10) / 10;
  const round3 = (x: number): number => Math.round(x * 1000) / 1000;
  const result = {
    bench: 'rules-service',
    nodeFlags,
    aggregates: serviceAggregates,
    readingBatches: serviceReadings,
    readingValues,
    consumed: both(),
    seconds: Number(seconds.toFixed(2)),
    // Counted from ready: what the service handled before /readyz said so is left out of both sides.
    recordsPerSecond: Math.round(handled / seconds),
    aggregatesPerSecond: Math.round((counted(aggTopic) - atReady[aggTopic]!) / (((done[aggTopic] ?? 0) - rules.readyAt) / 1000)),
    readingBatchesPerSecond: Math.round((counted(readTopic) - atReady[readTopic]!) / (((done[readTopic] ?? 0) - rules.readyAt) / 1000)),
    countedBeforeReady: atReady[aggTopic]! + atReady[readTopic]!,
    rulesPeakRssMiB: peakRssMiB(rules.child.pid!),
    rulesPeakRssAtReadyMiB: peakRssAtReady,
    cpuSecondsPerMillionRecords: round1((cpuUsed / Math.max(1, handled)) * 1e6),
    states: labeled(text, 'eip_rules_live_states'),
    transitions: labeled(text, 'eip_rules_transitions_total'),
    otherInputs: labeled(text, 'eip_rules_inputs_total') - both(),
    invalidInputs: labeled(text, 'eip_rules_invalid_inputs_total'),
    // The checkpoint: changed state records written to eip.alert-state.v1 with each turn, per input record.
    stateRecordsPerRecord: round3(stateRecords / Math.max(1, handled)),
    stateBytesPerRecord: Math.round(stateBytes / Math.max(1, handled)),
    stateBytesPerStateRecord: Math.round(stateBytes / Math.max(1, stateRecords)),
    writeMsPerRecord: round3((writeSeconds * 1000) / Math.max(1, handled)),
    writeSecondsTotal: round1(writeSeconds),
    batchP50Ms: Number((histogramQuantile(text, 'eip_rules_batch_seconds', 0.5) * 1000).toFixed(1)),
    batchP99Ms: Number((histogramQuantile(text, 'eip_rules_batch_seconds', 0.99) * 1000).toFixed(1)),
    startupSeconds: Number(startupSeconds.toFixed(2)),
    publishSeconds: Number(publishSeconds.toFixed(2)),
    rulesBatchMax: Number(rulesEnv(group, path).RULES_BATCH_MAX),
    groupPositioned: !values['from-beginning'],
    skippedBacklog,
    measured: 'records (aggregates and reading batches, published beforehand) counted between /readyz 200 and the moment eip_rules_inputs_total of both topics reached them, over that time, CPU over the same span; each batch evaluated, its transitions and changed states produced to Kafka (acks=-1), alert events written to InfluxDB, offsets committed; write = the produce of transitions and state records, until acknowledged',
    cpus: cpus().length,
  };
  if (values.profile !== undefined) {
    // The heap as the run left it; the graceful stop below writes the CPU profile.
    rules.child.kill('SIGUSR2');
    await sleep(15_000);
  }
  log('service: stopping rules');
  await rules.stop();
  return result;
}

async function latencyPhase(): Promise<Record<string, unknown>> {
  const { bus: b, admin: a, client, park: p, registryPath: path } = await benchFiles('l');
  const group = `bench-rules-${tag}-lat`;
  const watchGroup = `bench-rules-${tag}-watch`;
  groupsToDelete.push(group, watchGroup);
  const inputs = [topics.readings.name, topics.aggregates.name, topics.rulesRouted.name];
  const routed = [topics.meterStatus.name, topics.alertCommands.name];
  const at = Object.fromEntries(await Promise.all(inputs.map(async (t) => [t, await endsOf(a, t)] as const)));
  const routerAt = Object.fromEntries(await Promise.all(routed.map(async (t) => [t, await endsOf(a, t)] as const)));
  groupsToDelete.push(`${group}.router`);
  await Promise.all([position(client, group, at), position(client, `${group}.router`, routerAt), position(client, watchGroup, { [topics.alerts.name]: await endsOf(a, topics.alerts.name) })]);

  // Firing ww-ph-range alerts of this park, by meter, with their arrival time.
  const arrived = new Map<string, number>();
  /** The alert's `at`: the rules service's clock when it evaluated the third sample. */
  const evaluatedAt = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const watch: Subscription = await within(b.subscribe({
    groupId: watchGroup, topics: [topics.alerts.name], fromBeginning: true,
    handleBatch: async (batch) => {
      const at = performance.now();
      for (const m of batch.messages) {
        const e = alertEventSchema.safeParse(JSON.parse(m.value?.toString() ?? 'null'));
        if (!e.success || e.data.park !== p.park || e.data.ruleId !== 'ww-ph-range' || e.data.state !== 'firing' || e.data.meter === undefined) continue;
        if (!arrived.has(e.data.meter)) {
          arrived.set(e.data.meter, at);
          evaluatedAt.set(e.data.meter, e.data.at);
        }
        waiters.get(e.data.meter)?.();
      }
    },
  }), 60_000, 'subscribing to eip.alerts.v1');
  cleanups.push({ label: 'alert watcher', fn: () => watch.stop() });

  log('latency: starting rules and ingest');
  const r0 = performance.now();
  const rules = await startService('rules', rulesEnv(group, path), Math.min(phaseTimeoutMs, 180_000));
  cleanups.push({ label: 'rules (latency phase)', fn: () => rules.stop() });
  const rulesStartupSeconds = (rules.readyAt - r0) / 1000;
  const i0 = performance.now();
  const clientId = `ingest:bench-rules-${tag}`;
  const ingestPassword = passwordOf('ingest');
  const ingest = await startService('ingest', {
    BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influxUrl, MQTT_URL: mqttUrl, MQTT_PROTOCOL_VERSION: '5',
    MQTT_CLIENT_ID: clientId, MQTT_PASSWORD: ingestPassword, PARK_REGISTRY: path, DATA_DIR: dir,
  }, Math.min(phaseTimeoutMs, 120_000));
  const ingestStartupSeconds = (ingest.readyAt - i0) / 1000;
  // Stop first, then drop the persistent session it leaves on the broker.
  cleanups.push({ label: 'ingest MQTT session', fn: () => dropSession(mqttUrl, { clientId, username: 'ingest', password: ingestPassword }) });
  cleanups.push({ label: 'ingest', fn: () => ingest.stop() });

  const sim: MqttClient = await within(connect(mqttUrl, { username: 'simulator', password: passwordOf('simulator'), protocolVersion: 5, clean: true, clientId: `simulator:bench-rules-sim-${tag}` }), 15_000, 'MQTT connect as simulator');
  cleanups.push({ label: 'MQTT simulator client', fn: () => sim.endAsync() });

  const ww = p.tenants.flatMap((t) => t.ww.map((m) => ({ tenant: t.id, meter: m })));
  const stride = Math.max(1, Math.floor(ww.length / (incidents + 1)));
  let lastTs = 0;
  const send = async (tenant: string, meter: string, seq: number, ph: number): Promise<void> => {
    const ts = (lastTs = Math.max(Date.now(), lastTs + 1));
    await sim.publishAsync(`eip/${p.park}/${tenant}/${meter}/telemetry`, JSON.stringify({ v: 1, ts, seq, readings: [{ metric: 'ph', value: ph, unit: 'pH' }] }), { qos: 1 });
  };
  const phaseDeadline = performance.now() + phaseTimeoutMs;
  const toRules: number[] = [];
  const incident = async (k: number): Promise<number> => {
    const m = ww[(k * stride) % ww.length]!;
    await send(m.tenant, m.meter, 0, 7.1);
    await send(m.tenant, m.meter, 1, 4.2);
    await send(m.tenant, m.meter, 2, 4.1);
    // The pipeline idle again, as between samples two minutes apart.
    await sleep(300);
    const fired = new Promise<void>((resolve) => waiters.set(m.meter, resolve));
    const t0 = performance.now();
    const wall0 = Date.now();
    await send(m.tenant, m.meter, 3, 4.0);
    const budget = Math.min(60_000, phaseDeadline - performance.now());
    try {
      if (!arrived.has(m.meter)) await within(fired, Math.max(1, budget), `the firing ww-ph-range alert of ${m.meter} on eip.alerts.v1`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- rules output ---\n${rules.output()}\n--- ingest output ---\n${ingest.output()}`, { cause: err });
    } finally {
      waiters.delete(m.meter);
    }
    const at = arrived.get(m.meter);
    if (at === undefined || at < t0) throw new Error(`the alert of ${m.meter} arrived before its third breaching sample was published`);
    if (k > 0) toRules.push((evaluatedAt.get(m.meter) ?? Number.NaN) - wall0);
    return at - t0;
  };

  // The first tick dirties every fresh deadman state (about 9,000 here) and writes them in
  // one go, holding input for a few hundred ms: a start-up event, not the steady latency.
  const settle = rules.readyAt + TICK_MS + 1500 - performance.now();
  if (settle > 0) {
    log(`latency: waiting ${(settle / 1000).toFixed(1)} s for the rules service's first tick to pass`);
    await sleep(settle);
  }
  log(`latency: 1 warm-up incident, then ${incidents} measured`);
  const warmupMs = await incident(0);
  const latencies: number[] = [];
  for (let k = 1; k <= incidents; k++) {
    latencies.push(await incident(k));
    log(`latency: incident ${k}: ${latencies.at(-1)!.toFixed(1)} ms`);
    await sleep(200);
  }
  const sorted = [...latencies].sort((x, y) => x - y);
  const q = (f: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(f * sorted.length) - 1))]!);
  const ingestText = await metricsText(ingest.ops);
  const result = {
    bench: 'breach-to-alert',
    incidents,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    maxMs: Math.round(sorted.at(-1)!),
    minMs: Math.round(sorted[0]!),
    meanMs: Math.round(latencies.reduce((s, x) => s + x, 0) / latencies.length),
    warmupMs: Math.round(warmupMs),
    measuredAfterFirstTick: true,
    // The alert's own `at` (rules' clock when it judged the sample) minus the publish time: the part up to rules.
    publishToRulesP50Ms: Math.round([...toRules].sort((x, y) => x - y)[Math.floor((toRules.length - 1) / 2)] ?? Number.NaN),
    rulesStartupSeconds: Number(rulesStartupSeconds.toFixed(2)),
    ingestStartupSeconds: Number(ingestStartupSeconds.toFixed(2)),
    path: 'MQTT publish (simulator, QoS 1, PUBACK awaited) -> Mosquitto -> ingest (spool, InfluxDB + Kafka eip.readings.v1) -> rules (ww-ph-range, 3 consecutive samples outside 6-9) -> eip.alerts.v1 -> a kafkajs consumer (bus adapter, fresh group)',
    ingestDeadLettered: labeled(ingestText, 'eip_ingest_dead_lettered_total'),
    rulesPeakRssMiB: peakRssMiB(rules.child.pid!),
    ingestPeakRssMiB: peakRssMiB(ingest.child.pid!),
    states: labeled(await metricsText(rules.ops), 'eip_rules_live_states'),
  };
  return result;
}

async function cleanUp(): Promise<void> {
  for (const c of cleanups.reverse()) {
    try {
      const t = performance.now();
      await within(Promise.resolve(c.fn()), 60_000, `clean-up: ${c.label}`);
      const ms = performance.now() - t;
      if (ms > 1000) log(`clean-up: ${c.label} took ${(ms / 1000).toFixed(1)} s`);
    } catch (err) {
      log(`clean-up of ${c.label} failed: ${(err as Error).message}`);
    }
  }
  cleanups.length = 0;
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

let failed = false;
try {
  if (phases.has('engine')) process.stdout.write(`${await enginePhase()}\n`);
  if (phases.has('service') || phases.has('latency')) {
    ensureSharedStack(log);
  }
  if (phases.has('service')) process.stdout.write(`${JSON.stringify(await servicePhase())}\n`);
  if (phases.has('latency')) process.stdout.write(`${JSON.stringify(await latencyPhase())}\n`);
} catch (err) {
  failed = true;
  log(`FAILED: ${(err as Error).stack ?? String(err)}`);
} finally {
  log('cleaning up');
  await cleanUp();
}
process.exit(failed ? 1 : 0);
