/**
 * Fault-injection run that proves no loss: the load publisher sends
 * --readings readings through private Mosquitto, Kafka and InfluxDB (started by
 * infra/ on their own ports, so nothing a developer runs is touched) into
 * ingest, the aggregator and rules, while a seeded schedule SIGKILLs and
 * restarts the services, restarts the servers and pauses the broker; poison
 * messages are mixed in. At the end it judges from outside: InfluxDB points
 * per meter, Kafka readings, dead letters, aggregates and alert transitions,
 * against what was published. Prints one JSON object; exit 1 if anything was
 * lost, doubled or wrong.
 *
 *   npm run bench:chaos [-- --readings 1000000 --rate 8000 --faults 10 --seed 1]
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { counter, positiveInt, repoRoot, sleep } from './lib.ts';
import { planFaults, type PlannedFault } from './chaos/faults.ts';
import { privateStack, type ServerName } from './chaos/stack.ts';
import { chaosFleet, meterTopic, park, phAt, phMeter, phTenant, poisonPayload, powerAt, powerFactorAt, ResilientPublisher } from './chaos/traffic.ts';
import { scanTopics, storedPointsByMeter } from './chaos/verify.ts';
import { topics } from '../shared/contracts/kafka-topics.ts';
import { alertEventSchema, aggregateEventSchema, deadLetterSchema, readingBatchEventSchema } from '../shared/contracts/events.ts';
import { servicePassword } from '../test/helpers/servers.ts';
import { startService, type ServiceProcess } from '../test/helpers/service-process.ts';

const usage = 'usage: npm run bench:chaos [-- --readings N (1000000) --meters N (200) --rate READINGS_PER_S (5000) --faults N (10) --poison N (300) --seed N (1) --base-port P (21883) --keep]\n';
const { values } = parseArgs({ options: {
  readings: { type: 'string', default: '1000000' }, meters: { type: 'string', default: '200' }, rate: { type: 'string', default: '5000' },
  faults: { type: 'string', default: '10' }, poison: { type: 'string', default: '300' }, seed: { type: 'string', default: '1' },
  'base-port': { type: 'string', default: '21883' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} });
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const readingsWanted = positiveInt('readings', values.readings, usage);
const meterCount = positiveInt('meters', values.meters, usage);
const rate = positiveInt('rate', values.rate, usage);
const faultCount = Number(values.faults);
const poisonCount = Number(values.poison);
const seed = positiveInt('seed', values.seed, usage);
const basePort = positiveInt('base-port', values['base-port'], usage);
const log = (msg: string): void => { process.stderr.write(`[chaos +${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`); };
const t0 = Date.now();

const dir = mkdtempSync(join(tmpdir(), 'eip-chaos-'));
const fleet = chaosFleet(meterCount);
const registryPath = join(dir, 'registry.json');
writeFileSync(registryPath, JSON.stringify(fleet.registry));
const stack = privateStack(join(dir, 'run'), registryPath, basePort);
const influx = { token: 'eip-dev-token', org: 'eip', bucket: 'telemetry' };

// ---- services -------------------------------------------------------------
type ServiceName = 'ingest' | 'aggregator' | 'rules';
const opsPorts: Record<ServiceName, number> = { ingest: basePort + 10, aggregator: basePort + 11, rules: basePort + 12 };
const tag = randomBytes(3).toString('hex');
const serviceEnv = (name: ServiceName): Record<string, string> => ({
  LOG_LEVEL: 'warn', BUS: 'kafka', KAFKA_BROKERS: stack.kafkaBrokers, TIMESERIES: 'influxdb', INFLUX_URL: stack.influxUrl,
  INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org, INFLUX_BUCKET: influx.bucket, PARK_REGISTRY: registryPath,
  DATA_DIR: join(dir, name), OPS_PORT: String(opsPorts[name]), MQTT_URL: stack.mqttUrl, MQTT_PROTOCOL_VERSION: '5',
  ...(name === 'ingest' && { MQTT_USERNAME: 'ingest', MQTT_PASSWORD: servicePassword('ingest'), MQTT_CLIENT_ID: `ingest:chaos-${tag}` }),
  ...(name === 'rules' && { MQTT_USERNAME: 'rules', MQTT_PASSWORD: servicePassword('rules'), MQTT_CLIENT_ID: `rules:chaos-${tag}`, RULE_PACK: join(repoRoot, 'bench/chaos/rule-pack.yaml') }),
});
const services = new Map<ServiceName, ServiceProcess>();

/** Starts a service and waits until it is ready; resolves with the time that took. */
async function start(name: ServiceName): Promise<number> {
  const t = Date.now();
  services.set(name, await startService(name, serviceEnv(name), opsPorts[name], 120_000));
  return Date.now() - t;
}

// Cumulative readings written by ingest, across its restarts (its counter restarts at 0).
let writtenBase = 0;
let writtenLast = 0;
async function ingestWritten(): Promise<number> {
  try {
    const now = counter(await (await fetch(`http://127.0.0.1:${opsPorts.ingest}/metrics`)).text(), 'eip_ingest_readings_written_total');
    if (now < writtenLast) writtenBase += writtenLast;
    writtenLast = now;
  } catch { /* down: keep the last figure */ }
  return writtenBase + writtenLast;
}

/** Time until ingest stores readings again and is ready, after a fault ends. */
async function recovery(timeoutMs = 180_000): Promise<number> {
  const start = Date.now();
  const before = await ingestWritten();
  while (Date.now() - start < timeoutMs) {
    await sleep(250);
    if ((await ingestWritten()) > before) {
      try {
        if ((await fetch(`http://127.0.0.1:${opsPorts.ingest}/readyz`)).status === 200) return Date.now() - start;
      } catch { /* not yet */ }
    }
  }
  return NaN;
}

interface FaultResult extends PlannedFault { startedAtMs: number; recoveredMs: number }

async function inject(f: PlannedFault): Promise<FaultResult> {
  const startedAtMs = Date.now() - publishStart;
  log(`fault ${f.kind} for ${f.downMs} ms`);
  let recoveredMs: number;
  const [verb, target] = f.kind.split('-') as ['kill' | 'restart' | 'pause', string];
  if (verb === 'kill') {
    const name = target as ServiceName;
    await services.get(name)!.stop('SIGKILL');
    await sleep(f.downMs);
    recoveredMs = await start(name);
  } else if (verb === 'restart') {
    const server = target as ServerName;
    await stack.down(server);
    await sleep(f.downMs);
    await stack.up(server);
    recoveredMs = await recovery();
  } else {
    await stack.pause(target as ServerName, f.downMs);
    recoveredMs = await recovery();
  }
  log(`  recovered in ${recoveredMs} ms`);
  return { ...f, startedAtMs, recoveredMs };
}

// ---- run -------------------------------------------------------------------
let publishStart = 0;
async function main(): Promise<Record<string, unknown>> {
  log(`private servers on ports ${basePort}..${basePort + 3} under ${dir} (first run builds InfluxDB)`);
  await stack.up();
  await Promise.all((['ingest', 'aggregator', 'rules'] as const).map(start));

  const phEvery = 1_000;
  const msgRate = rate / 2;
  const elecMessages = Math.ceil(readingsWanted / 2);
  const spanMs = (elecMessages / msgRate) * 1000;
  const faults = planFaults(seed, faultCount, spanMs);
  const poisonAt = new Set(Array.from({ length: poisonCount }, (_, i) => Math.floor(((i + 0.5) / poisonCount) * elecMessages)));
  const publisher = new ResilientPublisher(stack.mqttUrl, 'simulator', servicePassword('simulator'), `simulator:chaos-${tag}`);
  log(`publishing ${elecMessages} messages of 2 readings at ${msgRate}/s from ${meterCount} meters, a pH reading a second, ${poisonCount} poison; ${faults.length} faults`);

  publishStart = Date.now();
  const sweeper = setInterval(() => publisher.sweep(), 100);
  const faultResults: FaultResult[] = [];
  const faultLoop = (async () => {
    for (const f of faults) {
      const wait = publishStart + f.atMs - Date.now();
      // One fault at a time, with a breath after the previous recovery.
      await sleep(Math.max(5_000, wait));
      faultResults.push(await inject(f));
    }
  })();

  // The pH meter publishes once a second from start to end, faults included:
  // its readings are the heartbeat that recovery times are measured by.
  let phSent = 0;
  let phStop = false;
  const phTs0 = publishStart;
  const sendPh = (): void => {
    publisher.send(meterTopic(phTenant, phMeter), `{"v":1,"ts":${phTs0 + phSent * phEvery},"seq":${phSent},"readings":[{"metric":"ph","value":${phAt(phSent)},"unit":"pH"}]}`);
    phSent++;
  };
  const phLoop = (async () => {
    // Runs on to the end of a calm stretch once stopped, so every excursion resolves.
    while (!phStop || phSent % 60 !== 50) {
      await sleep(Math.max(0, phTs0 + phSent * phEvery - Date.now()));
      sendPh();
    }
  })();

  let sent = 0;
  let poisonSent = 0;
  let lastProgress = Date.now();
  while (sent < elecMessages) {
    const allowed = Math.min(elecMessages, Math.floor(((Date.now() - publishStart) / 1000) * msgRate) + 1);
    while (sent < allowed && publisher.canSend) {
      const i = sent++;
      const m = i % meterCount;
      const seq = Math.floor(i / meterCount);
      const ts = publishStart + Math.floor((i * 1000) / msgRate);
      publisher.send(meterTopic(fleet.meters[m]!.tenant, fleet.meters[m]!.meter),
        `{"v":1,"ts":${ts},"seq":${seq},"readings":[{"metric":"active_power","value":${powerAt(m, seq)},"unit":"kW"},{"metric":"power_factor","value":${powerFactorAt(m, seq)},"unit":"ratio"}]}`);
      if (poisonAt.has(i)) {
        const p = poisonPayload(poisonSent++, seed, ts);
        const target = p.unknownMeter ? meterTopic(fleet.meters[0]!.tenant, `chaos-ghost-${poisonSent}`) : meterTopic(fleet.meters[p.meterIndex % meterCount]!.tenant, fleet.meters[p.meterIndex % meterCount]!.meter);
        publisher.send(target, p.payload);
      }
    }
    if (Date.now() - lastProgress > 10_000) {
      lastProgress = Date.now();
      log(`published ${sent}/${elecMessages} messages, ${publisher.stats.acknowledged} acknowledged, ${publisher.inFlight} in flight, ingest wrote ${await ingestWritten()} readings`);
    }
    await sleep(5);
  }
  log('load published; waiting for the remaining faults and acknowledgements');
  await faultLoop;
  phStop = true;
  await phLoop;
  while (publisher.inFlight > 0) await sleep(100);
  clearInterval(sweeper);
  const publishSeconds = (Date.now() - publishStart) / 1000;
  await publisher.close();

  // Expected raw points per meter.
  const expected = new Map<string, number>();
  for (let i = 0; i < elecMessages; i++) expected.set(fleet.meters[i % meterCount]!.meter, (expected.get(fleet.meters[i % meterCount]!.meter) ?? 0) + 2);
  expected.set(phMeter, phSent);
  const expectedTotal = [...expected.values()].reduce((a, b) => a + b, 0);

  log(`waiting until InfluxDB holds ${expectedTotal} points (or stops growing for 120 s)`);
  let stored: Map<string, number>;
  let storedTotal = 0;
  let lastGrowth = Date.now();
  for (;;) {
    stored = await storedPointsByMeter(stack.influxUrl, influx.token, influx.org, influx.bucket, park, publishStart);
    const total = [...stored.values()].reduce((a, b) => a + b, 0);
    if (total > storedTotal) lastGrowth = Date.now();
    storedTotal = total;
    if (total >= expectedTotal || Date.now() - lastGrowth > 120_000) break;
    await sleep(3_000);
  }
  // Let the aggregator and rules drain what ingest produced last.
  await sleep(15_000);

  // ---- judge from Kafka ----------------------------------------------------
  const readingKeys = new Set<string>();
  let readingRecords = 0;
  const deadLetters = new Map<string, string>();
  const deadReasons: Record<string, number> = {};
  const aggregates = new Map<string, { revision: number; count: number; sum: number }>();
  const transitions = new Map<number, string>();
  let alertConflicts = 0;
  await scanTopics(stack.kafkaBrokers, [topics.readings.name, topics.deadLetters.name, topics.aggregates.name, topics.alerts.name], (topic, m) => {
    const value = m.value ? JSON.parse(m.value.toString()) as unknown : null;
    if (topic === topics.readings.name) {
      const r = readingBatchEventSchema.safeParse(value);
      if (r.success && r.data.park === park) { readingRecords++; readingKeys.add(`${r.data.meter}/${r.data.seq}`); }
    } else if (topic === topics.deadLetters.name) {
      const d = deadLetterSchema.safeParse(value);
      if (d.success && d.data.source.startsWith(`eip/${park}/`)) {
        const id = `${d.data.source} ${d.data.payloadBase64}`;
        if (!deadLetters.has(id)) deadReasons[d.data.reason] = (deadReasons[d.data.reason] ?? 0) + 1;
        deadLetters.set(id, d.data.reason);
      }
    } else if (topic === topics.aggregates.name) {
      const a = aggregateEventSchema.safeParse(value);
      if (a.success && a.data.park === park && a.data.scope === 'meter' && a.data.window === '1m' && a.data.metric === 'active_power') {
        const key = `${a.data.meter}|${a.data.start}`;
        const prev = aggregates.get(key);
        if (!prev || a.data.revision >= prev.revision) aggregates.set(key, { revision: a.data.revision, count: a.data.count, sum: a.data.sum });
      }
    } else if (topic === topics.alerts.name) {
      const e = alertEventSchema.safeParse(value);
      if (e.success && e.data.park === park && e.data.meter === phMeter) {
        const prev = transitions.get(e.data.transition);
        if (prev !== undefined && prev !== e.data.state) alertConflicts++;
        transitions.set(e.data.transition, e.data.state);
      }
    }
  });

  // Aggregates offline: 1-minute windows of active_power per meter, from the published set.
  const offline = new Map<string, { count: number; sum: number }>();
  // Windows that ended two minutes before the load's last reading are closed whatever
  // the partition's watermark; later ones are compared only when the aggregator emitted them.
  const lastTs = publishStart + Math.floor(((elecMessages - 1) * 1000) / msgRate);
  const closedBy = lastTs - 120_000;
  for (let i = 0; i < elecMessages; i++) {
    const m = i % meterCount;
    const seq = Math.floor(i / meterCount);
    const ts = publishStart + Math.floor((i * 1000) / msgRate);
    const start = ts - (ts % 60_000);
    const key = `${fleet.meters[m]!.meter}|${start}`;
    const w = offline.get(key) ?? { count: 0, sum: 0 };
    w.count++;
    w.sum += powerAt(m, seq);
    offline.set(key, w);
  }
  let aggregateMismatches = 0;
  let aggregateMissing = 0;
  const examples: string[] = [];
  let windowsCompared = 0;
  for (const [key, want] of offline) {
    const got = aggregates.get(key);
    if (!got && Number(key.split('|')[1]) + 60_000 > closedBy) continue;
    windowsCompared++;
    if (!got) { aggregateMissing++; if (examples.length < 5) examples.push(`${key}: missing`); continue; }
    if (got.count !== want.count || Math.abs(got.sum - want.sum) > 1e-6 * Math.max(1, Math.abs(want.sum))) {
      aggregateMismatches++;
      if (examples.length < 5) examples.push(`${key}: got ${got.count}/${got.sum}, want ${want.count}/${want.sum}`);
    }
  }

  // Alert transitions: one firing and one resolution per excursion.
  const excursions = Math.floor((phSent - 35) / 60) + 1;
  const states = [...transitions].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
  const firings = states.filter((s) => s === 'firing').length;
  const resolutions = states.filter((s) => s === 'resolved').length;
  const transitionGaps = states.length ? Math.max(...transitions.keys()) - transitions.size : 0;

  let lost = 0;
  let extra = 0;
  for (const [meter, want] of expected) {
    const got = stored.get(meter) ?? 0;
    if (got < want) lost += want - got;
    if (got > want) extra += got - want;
  }
  const expectedMessages = elecMessages + phSent;
  const kafkaMissing = expectedMessages - readingKeys.size;
  const ok = lost === 0 && extra === 0 && kafkaMissing === 0 && deadLetters.size === poisonSent && aggregateMismatches === 0 && aggregateMissing === 0
    && firings === excursions && resolutions === excursions && alertConflicts === 0 && transitionGaps === 0;
  return {
    ok, seed, seconds: Math.round((Date.now() - t0) / 1000), publishSeconds: Math.round(publishSeconds),
    readings: { published: expectedTotal, messages: expectedMessages, republishedMessages: publisher.stats.republished, stored: storedTotal, lost, duplicatePoints: extra },
    kafka: { readingRecords, distinctMessages: readingKeys.size, missing: kafkaMissing, duplicateRecords: readingRecords - readingKeys.size },
    poison: { published: poisonSent, deadLettered: deadLetters.size, reasons: deadReasons },
    aggregates: { windowsCompared, windowsOffline: offline.size, missing: aggregateMissing, mismatched: aggregateMismatches, examples },
    alerts: { excursions, firings, resolutions, transitions: transitions.size, conflicts: alertConflicts, gaps: transitionGaps },
    faults: faultResults.map((f) => ({ kind: f.kind, atS: Math.round(f.startedAtMs / 1000), downMs: f.downMs, recoveredMs: f.recoveredMs })),
  };
}

let result: Record<string, unknown> | undefined;
let failure: unknown;
try {
  result = await main();
} catch (err) {
  failure = err;
} finally {
  await Promise.all([...services.values()].map((p) => Promise.race([p.stop('SIGTERM'), sleep(5_000).then(() => p.stop('SIGKILL'))])));
  await stack.down().catch((err: unknown) => log(`stopping the private servers: ${String(err)}`));
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
if (failure) {
  log(`failed: ${failure instanceof Error ? failure.stack ?? failure.message : JSON.stringify(failure)}`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result?.ok ? 0 : 1);
