/**
 * Ingest beside a peer doing the same work: Telegraf 1.37.2 (built once from its
 * Go module, bench/peer/telegraf.ts), mqtt_consumer -> influxdb_v2 + kafka (acks
 * all, idempotent), subscribed as the ingest user. Same private Mosquitto,
 * Kafka and InfluxDB (ports --base-port..+3, stopped at the end), same
 * publisher and traffic; two rounds in alternating order (ingest, Telegraf,
 * Telegraf, ingest), so drift in what else the machine is doing hits both.
 * Completion is judged from outside: InfluxDB holds every point of the run and
 * the Kafka topic's end offsets have grown by every record. Prints a JSON line
 * per run and one with the ratios (ingest / Telegraf, per round). Each run's
 * line also splits the machine's CPU over the run between the subject, each
 * server and the rest, and gives the mean number of busy cores: on a machine
 * whose cores are all busy, the rate is the machine's, not the subject's.
 *
 *   npm run bench:peer [-- --messages 150000 --meters 500 --inflight 5000]
 */
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { InfluxDB } from '@influxdata/influxdb-client';
import { counter, positiveInt, sleep } from './lib.ts';
import { influx, log as logAs, runBench, type Bench } from './pipeline/setup.ts';
import { cpuSnapshot, GroupLags, machineCpu, metricsPage, procStats, type CpuSnapshot, type MachineCpu } from './pipeline/probes.ts';
import { telegrafBinary, telegrafConfig, telegrafVersion } from './peer/telegraf.ts';
import { topics } from '../shared/contracts/kafka-topics.ts';
import { servicePassword } from '../test/helpers/servers.ts';
import { dropSession } from '../test/helpers/mqtt.ts';

const usage = 'usage: npm run bench:peer [-- --messages N (150000) --meters N (500) --inflight N (5000) --base-port P (22283) --keep]\n';
const { values } = parseArgs({ options: {
  messages: { type: 'string', default: '150000' }, meters: { type: 'string', default: '500' }, inflight: { type: 'string', default: '5000' },
  'base-port': { type: 'string', default: '22283' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} });
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const messages = positiveInt('messages', values.messages, usage);
const meters = positiveInt('meters', values.meters, usage);
const inflight = positiveInt('inflight', values.inflight, usage);
const basePort = positiveInt('base-port', values['base-port'], usage);
const log = (msg: string): void => logAs('peer', msg);
const telegrafTopic = 'bench.telegraf.readings';
const telegrafMeasurement = 'telegraf_reading';

interface RunResult { bench: 'peer'; subject: string; round: number; readings: number; seconds: number; readingsPerSecond: number; cpuSecondsPerMillionReadings: number; peakRssMiB: number; machineCpuSecondsPerMillionReadings: MachineCpu }

/** Points of a measurement's `value` field written since fromMs. */
async function storedPoints(b: Bench, measurement: string, fromMs: number): Promise<number> {
  const api = new InfluxDB({ url: b.stack.influxUrl, token: influx.token, timeout: 60_000 }).getQueryApi(influx.org);
  const flux = `from(bucket: ${JSON.stringify(influx.bucket)})
  |> range(start: time(v: ${JSON.stringify(new Date(fromMs - 1_000).toISOString())}), stop: time(v: ${JSON.stringify(new Date(Date.now() + 3_600_000).toISOString())}))
  |> filter(fn: (r) => r._measurement == ${JSON.stringify(measurement)} and r._field == "value")
  |> group()
  |> count()`;
  let n = 0;
  for await (const { values: row, tableMeta } of api.iterateRows(flux)) n += Number((tableMeta.toObject(row) as { _value?: number })._value ?? 0);
  return n;
}

/**
 * Publishes the traffic and waits until InfluxDB holds `points` new points and
 * the topic `records` new records; the time runs from the first publish.
 * Kafka is cheap to ask, so it is asked often; InfluxDB's count is a query over the run.
 */
async function runTraffic(b: Bench, lags: GroupLags, measurement: string, topic: string, points: number, records: number): Promise<{ seconds: number; completedAt: number }> {
  const kafkaBefore = await lags.endOffsets(topic);
  const fromMs = Date.now();
  let publisherDoneAt = 0;
  const published = b.publish({ messages, inflight }).then((p) => { publisherDoneAt = Date.now(); return p; });
  let kafkaDone = false;
  let influxDone = false;
  let lastGrowth = Date.now();
  let lastSeen = -1;
  for (;;) {
    await sleep(kafkaDone ? 100 : 250);
    if (!kafkaDone) kafkaDone = (await lags.endOffsets(topic)) - kafkaBefore >= records;
    if (!influxDone && (kafkaDone || Date.now() - lastGrowth > 1_000)) {
      const n = await storedPoints(b, measurement, fromMs);
      if (n > lastSeen) { lastSeen = n; lastGrowth = Date.now(); }
      influxDone = n >= points;
    }
    if (kafkaDone && influxDone) break;
    if (Date.now() - lastGrowth > 120_000) throw new Error(`${measurement}: InfluxDB stopped at ${lastSeen} of ${points} points (Kafka ${kafkaDone ? 'complete' : 'incomplete'})`);
  }
  const completedAt = Date.now();
  const pub = await published;
  // From the first publish (the publisher's line arrives when its last publish is acknowledged, and
  // says how long it published), not from the publisher process's start.
  const firstPublish = publisherDoneAt - pub.seconds * 1000;
  return { seconds: (completedAt - Math.max(fromMs, firstPublish)) / 1000, completedAt };
}

async function runIngest(b: Bench, lags: GroupLags, round: number): Promise<RunResult> {
  await b.start('ingest');
  const ingest = b.services.get('ingest')!;
  const readings = messages * 2;
  const writtenBefore = counter(await metricsPage(b.opsUrl('ingest')), 'eip_ingest_readings_written_total');
  const cpuBefore = procStats(ingest.child.pid!).cpuSeconds;
  const machineBefore = cpuSnapshot(b.stack);
  const { seconds } = await runTraffic(b, lags, 'reading', topics.readings.name, readings, messages);
  const machineAfter = cpuSnapshot(b.stack);
  const stats = procStats(ingest.child.pid!);
  const written = counter(await metricsPage(b.opsUrl('ingest')), 'eip_ingest_readings_written_total') - writtenBefore;
  await ingest.stop('SIGTERM');
  b.services.delete('ingest');
  // Its persistent session would otherwise queue the next run's traffic in the broker.
  await dropSession(b.stack.mqttUrl, { clientId: `ingest:bench-${b.tag}`, username: 'ingest', password: servicePassword('ingest'), protocolVersion: 5 });
  if (written < readings) log(`ingest reports ${written} of ${readings} readings written`);
  return result('ingest', round, readings, seconds, stats.cpuSeconds - cpuBefore, stats.peakRssMiB, machineBefore, machineAfter);
}

async function runTelegraf(b: Bench, lags: GroupLags, bin: string, round: number): Promise<RunResult> {
  const conf = join(b.dir, `telegraf-${round}.conf`);
  writeFileSync(conf, telegrafConfig({
    mqttUrl: b.stack.mqttUrl, topicFilter: `eip/${b.park}/+/+/telemetry`, clientId: `ingest:telegraf-${b.tag}-${round}`, username: 'ingest', password: servicePassword('ingest'),
    influxUrl: b.stack.influxUrl, token: influx.token, org: influx.org, bucket: influx.bucket, measurement: telegrafMeasurement,
    kafkaBrokers: b.stack.kafkaBrokers, kafkaTopic: telegrafTopic, maxUndelivered: inflight,
  }));
  const child = spawn(bin, ['--config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-20_000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  await waitForOutput(child, () => out, /mqtt_consumer\] Connected/, 60_000);
  // The SUBACK follows the CONNACK; give it a moment before the traffic starts.
  await sleep(1_000);
  const cpuBefore = procStats(child.pid!).cpuSeconds;
  const machineBefore = cpuSnapshot(b.stack);
  const readings = messages * 2;
  // One Kafka record per metric, that is per reading.
  const { seconds } = await runTraffic(b, lags, telegrafMeasurement, telegrafTopic, readings, readings).catch((err: unknown) => {
    throw new Error(`${String(err)}\nTelegraf output:\n${out.slice(-3_000)}`);
  });
  const machineAfter = cpuSnapshot(b.stack);
  const stats = procStats(child.pid!);
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
  return result(`telegraf ${telegrafVersion}`, round, readings, seconds, stats.cpuSeconds - cpuBefore, stats.peakRssMiB, machineBefore, machineAfter);
}

async function waitForOutput(child: ChildProcess, out: () => string, re: RegExp, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!re.test(out())) {
    if (child.exitCode !== null) throw new Error(`Telegraf exited (${child.exitCode}):\n${out()}`);
    if (Date.now() > until) throw new Error(`Telegraf did not connect within ${timeoutMs} ms:\n${out()}`);
    await sleep(100);
  }
}

function result(subject: string, round: number, readings: number, seconds: number, subjectCpu: number, peakRssMiB: number, before: CpuSnapshot, after: CpuSnapshot): RunResult {
  const r: RunResult = {
    bench: 'peer', subject, round, readings, seconds: Math.round(seconds * 100) / 100, readingsPerSecond: Math.round(readings / seconds),
    cpuSecondsPerMillionReadings: Math.round((subjectCpu / readings) * 1e6 * 10) / 10, peakRssMiB,
    machineCpuSecondsPerMillionReadings: machineCpu(before, after, subjectCpu, readings),
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
  return r;
}

async function main(b: Bench): Promise<void> {
  const bin = telegrafBinary(log);
  const kafka = new Kafka({ clientId: 'bench-peer', brokers: [b.stack.kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: telegrafTopic, numPartitions: topics.readings.partitions, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const lags = new GroupLags(b.stack.kafkaBrokers);
  await lags.connect();
  try {
    log(`${messages} messages of 2 readings from ${meters} meters, ${inflight} in flight, per run`);
    const runs: RunResult[] = [];
    for (const [round, order] of [[1, ['ingest', 'telegraf']], [2, ['telegraf', 'ingest']]] as const) {
      for (const who of order) {
        log(`round ${round}: ${who}`);
        runs.push(who === 'ingest' ? await runIngest(b, lags, round) : await runTelegraf(b, lags, bin, round));
      }
    }
    const ratios = [1, 2].map((round) => {
      const i = runs.find((r) => r.round === round && r.subject === 'ingest')!;
      const t = runs.find((r) => r.round === round && r.subject !== 'ingest')!;
      const ratio = (a: number, c: number): number => Math.round((a / c) * 100) / 100;
      return { round, readingsPerSecond: ratio(i.readingsPerSecond, t.readingsPerSecond), cpuSecondsPerMillionReadings: ratio(i.cpuSecondsPerMillionReadings, t.cpuSecondsPerMillionReadings), peakRss: ratio(i.peakRssMiB, t.peakRssMiB) };
    });
    process.stdout.write(`${JSON.stringify({ bench: 'peer-ratios', ingestOverTelegraf: ratios, messages, meters, inflight, cpus: cpus().length })}\n`);
  } finally {
    await lags.disconnect();
  }
}

await runBench('peer', basePort, meters, values.keep ?? false, main);
