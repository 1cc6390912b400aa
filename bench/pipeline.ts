/**
 * The whole pipeline on real servers: the load publisher -> Mosquitto -> ingest
 * -> Kafka -> aggregator -> rules, and the console streaming the alerts to an
 * operator over Server-Sent Events, all on private Mosquitto, Kafka and
 * InfluxDB instances of the run's own (ports --base-port..+3), stopped at the end.
 *
 * 1. latency phase, paced at --latency-rate readings/s for --latency-minutes:
 *    publish-to-stored p50/p99 (ingest's histogram, this phase's observations
 *    only) and publish-to-alert p50/p99 (an instantaneous limit rule; the
 *    breaching reading's publish time until the console's stream delivers the
 *    firing alert);
 * 2. a ladder of paced rates from --from by --step up to --to, each for --minutes:
 *    a rate is sustained when ingest's backlog and the lag of every consumer
 *    group stay bounded (bench/pipeline/judge.ts: below --lag-bound records
 *    after the first fifth of the step, and not growing); the ladder stops at
 *    the first rate that is not. Between steps the pipeline drains.
 * Reports the highest sustained rate, each service's peak RSS and CPU seconds
 * per million readings. Prints JSON lines (one a phase and a summary).
 *
 *   npm run bench:pipeline [-- --minutes 5 --from 10000 --step 5000 --to 60000]
 */
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { bucketsDelta, bucketsQuantile, counter, histogramBuckets, positiveInt, sleep } from './lib.ts';
import { allServices, consoleToken, log as logAs, runBench, type Bench, type ServiceName } from './pipeline/setup.ts';
import { cpuSnapshot, followAlerts, GroupLags, machineCpu, metricsPage, procStats, type MachineCpu, type StreamedAlert } from './pipeline/probes.ts';
import { judgeLag, percentile, type LagSample, type LagVerdict } from './pipeline/judge.ts';

const usage = 'usage: npm run bench:pipeline [-- --minutes N (5) --from READINGS_PER_S (10000) --step N (5000) --to N (60000) --latency-rate N (10000) --latency-minutes N (2) --lag-bound RECORDS (20000) --meters N (500) --base-port P (22083) --keep]\n';
const { values } = parseArgs({ options: {
  minutes: { type: 'string', default: '5' }, from: { type: 'string', default: '10000' }, step: { type: 'string', default: '5000' }, to: { type: 'string', default: '60000' },
  'latency-rate': { type: 'string', default: '10000' }, 'latency-minutes': { type: 'string', default: '2' }, 'lag-bound': { type: 'string', default: '20000' },
  meters: { type: 'string', default: '500' }, 'base-port': { type: 'string', default: '22083' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} });
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const minutes = Number(values.minutes);
if (!(minutes > 0)) { process.stderr.write(`--minutes must be above 0\n${usage}`); process.exit(2); }
const latencyMinutes = Number(values['latency-minutes']);
if (!(latencyMinutes >= 0)) { process.stderr.write(`--latency-minutes must be 0 or more\n${usage}`); process.exit(2); }
const from = positiveInt('from', values.from, usage);
const step = positiveInt('step', values.step, usage);
const to = positiveInt('to', values.to, usage);
const latencyRate = positiveInt('latency-rate', values['latency-rate'], usage);
const lagBound = positiveInt('lag-bound', values['lag-bound'], usage);
const meters = positiveInt('meters', values.meters, usage);
const basePort = positiveInt('base-port', values['base-port'], usage);
const log = (msg: string): void => logAs('pipeline', msg);
const sampleEveryMs = 5_000;
/** Every this many messages one breaches the limit (meter 0 each time: it fires, and its next message resolves it). */
const spikeEvery = 1_000;
/** Readings ingest has written; NaN when its metrics page did not answer in time (a loaded machine). */
const written = async (b: Bench): Promise<number> => {
  const page = await metricsPage(b.opsUrl('ingest'));
  return page.includes('eip_ingest_readings_written_total') ? counter(page, 'eip_ingest_readings_written_total') : NaN;
};
const cpuOf = (b: Bench): Record<ServiceName, number> => Object.fromEntries(allServices.map((s) => [s, procStats(b.services.get(s)!.child.pid!).cpuSeconds])) as Record<ServiceName, number>;
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

interface StepResult { readingsPerSecond: number; sustained: boolean; publisherMessagesPerSecond: number; ingestBacklog: LagVerdict; groups: Record<string, LagVerdict>; cpuSecondsPerMillionReadings: Record<ServiceName, number>; machineCpuSecondsPerMillionReadings: MachineCpu }

/** Publishes at `rate` readings/s for `ms`, sampling ingest's backlog and every group's lag. */
async function paced(b: Bench, lags: GroupLags, rate: number, ms: number, spikes: number): Promise<StepResult> {
  const messages = Math.round(((rate / 2) * ms) / 1000);
  let writtenBefore = await written(b);
  for (let i = 0; !Number.isFinite(writtenBefore) && i < 10; i++) writtenBefore = await written(b);
  const cpuBefore = cpuOf(b);
  const machineBefore = cpuSnapshot(b.stack);
  const t0 = Date.now();
  const publishing = b.publish({ messages, rate: rate / 2, spikeEvery: spikes });
  const backlog: LagSample[] = [];
  const groups = new Map<string, LagSample[]>();
  let done = false;
  void publishing.finally(() => { done = true; });
  while (!done) {
    await sleep(sampleEveryMs);
    const atMs = Date.now() - t0;
    // Readings the schedule had offered by now, less those ingest has written.
    const offered = Math.min(messages * 2, (rate * atMs) / 1000);
    const now = await written(b);
    if (Number.isFinite(now)) backlog.push({ atMs, lag: Math.max(0, offered - (now - writtenBefore)) });
    for (const [g, lag] of await lags.read().catch(() => new Map<string, number>())) groups.set(g, [...(groups.get(g) ?? []), { atMs, lag }]);
    if (backlog.length % 6 === 0 && backlog.length > 0) log(`  ${Math.round(atMs / 1000)} s: ingest backlog ${Math.round(backlog.at(-1)!.lag)} readings; lag ${[...groups].map(([g, s]) => `${g} ${s.at(-1)!.lag}`).join(', ')}`);
  }
  const pub = await publishing;
  const cpuAfter = cpuOf(b);
  const machineAfter = cpuSnapshot(b.stack);
  const spent = Object.fromEntries(allServices.map((s) => [s, cpuAfter[s] - cpuBefore[s]])) as Record<ServiceName, number>;
  const ingestBacklog = judgeLag(backlog, lagBound);
  const verdicts = Object.fromEntries([...groups].map(([g, s]) => [g, judgeLag(s, lagBound)]));
  // The backlog is counted against the schedule, so a publisher that falls behind it (it shares the cores) fails the step too.
  return {
    readingsPerSecond: rate, sustained: ingestBacklog.bounded && Object.values(verdicts).every((v) => v.bounded),
    publisherMessagesPerSecond: pub.messagesPerSecond, ingestBacklog, groups: verdicts,
    cpuSecondsPerMillionReadings: Object.fromEntries(allServices.map((s) => [s, round((spent[s] / (messages * 2)) * 1e6)])) as Record<ServiceName, number>,
    machineCpuSecondsPerMillionReadings: machineCpu(machineBefore, machineAfter, allServices.reduce((sum, s) => sum + spent[s], 0), messages * 2),
  };
}

/** Waits until ingest has written all it was given and every group is nearly caught up. */
async function drain(b: Bench, lags: GroupLags, expectedWritten: number, timeoutMs = 180_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const groups = await lags.read().catch(() => new Map<string, number>());
    if ((await written(b)) >= expectedWritten && [...groups.values()].every((l) => l < lagBound / 10)) return true;
    await sleep(2_000);
  }
  return false;
}

async function main(b: Bench): Promise<void> {
  for (const s of allServices) await b.start(s);
  const lags = new GroupLags(b.stack.kafkaBrokers);
  await lags.connect();
  const alerts: StreamedAlert[] = [];
  const stream = await followAlerts(b.consoleUrl, b.park, consoleToken, (a) => alerts.push(a));
  await stream.ready;
  let expectedWritten = 0;
  try {
    // A short warm-up so that the first phase does not measure the servers' and services' start.
    log('warm-up: 20 s at 2,000 readings/s');
    await b.publish({ messages: 20_000, rate: 1_000, spikeEvery });
    expectedWritten += 40_000;
    await drain(b, lags, expectedWritten);

    if (latencyMinutes > 0) {
      log(`latency phase: ${latencyRate} readings/s for ${latencyMinutes} min, a breaching reading every ${spikeEvery} messages`);
      const before = histogramBuckets(await metricsPage(b.opsUrl('ingest')), 'eip_ingest_event_to_stored_seconds');
      const alertsBefore = alerts.length;
      const r = await paced(b, lags, latencyRate, latencyMinutes * 60_000, spikeEvery);
      expectedWritten += Math.round(((latencyRate / 2) * latencyMinutes * 60_000) / 1000) * 2;
      await drain(b, lags, expectedWritten);
      const stored = bucketsDelta(before, histogramBuckets(await metricsPage(b.opsUrl('ingest')), 'eip_ingest_event_to_stored_seconds'));
      const firing = alerts.slice(alertsBefore).filter((a) => a.state === 'firing' && a.readingTs !== undefined).map((a) => a.receivedAt - a.readingTs!);
      process.stdout.write(`${JSON.stringify({
        bench: 'pipeline-latency', readingsPerSecond: latencyRate, minutes: latencyMinutes, sustained: r.sustained,
        publishToStoredMs: { p50: Math.round(bucketsQuantile(stored, 0.5) * 1000), p99: Math.round(bucketsQuantile(stored, 0.99) * 1000) },
        publishToAlertMs: { alerts: firing.length, p50: percentile(firing, 50), p99: percentile(firing, 99), max: percentile(firing, 100), targetP99: 250 },
        cpuSecondsPerMillionReadings: r.cpuSecondsPerMillionReadings, machineCpuSecondsPerMillionReadings: r.machineCpuSecondsPerMillionReadings,
      })}\n`);
    }

    const steps: StepResult[] = [];
    for (let rate = from; rate <= to; rate += step) {
      log(`ladder: ${rate} readings/s for ${minutes} min`);
      const r = await paced(b, lags, rate, minutes * 60_000, spikeEvery * 5);
      expectedWritten += Math.round(((rate / 2) * minutes * 60_000) / 1000) * 2;
      steps.push(r);
      process.stdout.write(`${JSON.stringify({ bench: 'pipeline-step', ...r })}\n`);
      if (!r.sustained) break;
      if (!(await drain(b, lags, expectedWritten))) { log('the pipeline did not drain within 3 minutes; stopping the ladder'); break; }
    }
    const best = steps.filter((s) => s.sustained).at(-1);
    process.stdout.write(`${JSON.stringify({
      bench: 'pipeline', highestSustainedReadingsPerSecond: best?.readingsPerSecond ?? 0, firstUnsustainedReadingsPerSecond: steps.find((s) => !s.sustained)?.readingsPerSecond ?? null,
      minutesPerStep: minutes, lagBoundRecords: lagBound, meters,
      cpuSecondsPerMillionReadingsAtBest: best?.cpuSecondsPerMillionReadings ?? null,
      peakRssMiB: Object.fromEntries(allServices.map((s) => [s, procStats(b.services.get(s)!.child.pid!).peakRssMiB])),
      cpus: cpus().length,
    })}\n`);
  } finally {
    stream.close();
    await lags.disconnect();
  }
}

await runBench('pipeline', basePort, meters, values.keep ?? false, main);
