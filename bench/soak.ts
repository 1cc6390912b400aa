/**
 * Soak: the whole pipeline (publisher -> Mosquitto -> ingest -> Kafka ->
 * aggregator -> rules, the console streaming the alerts) paced at --rate
 * readings/s for --minutes on private servers (bench/pipeline/setup.ts).
 * Every --every seconds it samples each service's RSS (/proc/<pid>/status),
 * heap used and event-loop lag p99 (the services' prom-client default metrics
 * on their /metrics page) and every consumer group's lag. After the warm-up
 * (--warmup-minutes, default a sixth of the run) a series is flat when its
 * max/min is within 10 %. Prints one JSON line; writes the samples as JSON and
 * a PNG plot (bench/pipeline/soak-plot.ts).
 *
 *   npm run bench:soak -- --minutes 60 [--rate 5000 --png docs/soak.png]
 */
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { counter, positiveInt, repoRoot, sleep } from './lib.ts';
import { allServices, consoleToken, log as logAs, runBench, type Bench } from './pipeline/setup.ts';
import { followAlerts, gauge, GroupLags, metricsPage, procStats } from './pipeline/probes.ts';
import { judgeFlat, judgeLag, percentile, type LagSample } from './pipeline/judge.ts';
import { renderSoakPlot, type SoakSample } from './pipeline/soak-plot.ts';

const usage = 'usage: npm run bench:soak -- --minutes N (60) [--rate READINGS_PER_S (5000) --every SECONDS (10) --warmup-minutes N (minutes/6) --lag-bound RECORDS (20000) --meters N (500) --png FILE (docs/soak.png) --samples FILE (bench/results/soak.json) --base-port P (22183) --keep]\n';
const { values } = parseArgs({ options: {
  minutes: { type: 'string', default: '60' }, rate: { type: 'string', default: '5000' }, every: { type: 'string', default: '10' }, 'warmup-minutes': { type: 'string' },
  'lag-bound': { type: 'string', default: '20000' }, meters: { type: 'string', default: '500' }, png: { type: 'string', default: 'docs/soak.png' },
  samples: { type: 'string', default: 'bench/results/soak.json' }, 'base-port': { type: 'string', default: '22183' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} });
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const minutes = Number(values.minutes);
if (!(minutes > 0)) { process.stderr.write(`--minutes must be above 0\n${usage}`); process.exit(2); }
const warmupMinutes = values['warmup-minutes'] === undefined ? minutes / 6 : Number(values['warmup-minutes']);
if (!(warmupMinutes >= 0 && warmupMinutes < minutes)) { process.stderr.write(`--warmup-minutes must be from 0 to below --minutes\n${usage}`); process.exit(2); }
const rate = positiveInt('rate', values.rate, usage);
const everyS = positiveInt('every', values.every, usage);
const lagBound = positiveInt('lag-bound', values['lag-bound'], usage);
const meters = positiveInt('meters', values.meters, usage);
const basePort = positiveInt('base-port', values['base-port'], usage);
const pngPath = resolve(repoRoot, values.png);
const samplesPath = resolve(repoRoot, values.samples);
const log = (msg: string): void => logAs('soak', msg);
/** One breaching reading every this many messages: an alert fires and resolves about once a second at 5,000 readings/s. */
const spikeEvery = 2_500;

async function main(b: Bench): Promise<void> {
  // The plot's browser, before the run rather than after it: a fresh machine may need Debian's package.
  const browser = spawnSync('bash', [resolve(repoRoot, 'infra/chromium/install.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (browser.status !== 0) throw new Error(`infra/chromium/install.sh exited ${browser.status ?? browser.signal}: the plot needs Chromium (set EIP_CHROMIUM to one)`);
  for (const s of allServices) await b.start(s);
  const lags = new GroupLags(b.stack.kafkaBrokers);
  await lags.connect();
  const alertDelays: number[] = [];
  const stream = await followAlerts(b.consoleUrl, b.park, consoleToken, (a) => { if (a.state === 'firing' && a.readingTs !== undefined) alertDelays.push(a.receivedAt - a.readingTs); });
  await stream.ready;
  try {
    const messages = Math.round(((rate / 2) * minutes * 60_000) / 1000);
    log(`${rate} readings/s for ${minutes} min (${messages} messages of 2 readings from ${meters} meters), sampling every ${everyS} s; warm-up ${+warmupMinutes.toFixed(1)} min`);
    const t0 = Date.now();
    let done = false;
    const publishing = b.publish({ messages, rate: rate / 2, spikeEvery }).finally(() => { done = true; });
    const samples: SoakSample[] = [];
    const groupLag = new Map<string, LagSample[]>();
    const backlog: LagSample[] = [];
    let next = t0;
    while (!done) {
      next += everyS * 1000;
      await sleep(Math.max(0, next - Date.now()));
      const atS = Math.round((Date.now() - t0) / 1000);
      for (const s of allServices) {
        const page = await metricsPage(b.opsUrl(s));
        const p = procStats(b.services.get(s)!.child.pid!);
        samples.push({ atS, service: s, rssMiB: p.rssMiB, heapUsedMiB: Math.round((gauge(page, 'eip_nodejs_heap_size_used_bytes') / 1048576) * 10) / 10, loopLagP99Ms: Math.round(gauge(page, 'eip_nodejs_eventloop_lag_p99_seconds') * 10_000) / 10 });
        if (s === 'ingest' && page.includes('eip_ingest_readings_written_total')) backlog.push({ atMs: atS * 1000, lag: Math.max(0, Math.min(messages * 2, rate * atS) - counter(page, 'eip_ingest_readings_written_total')) });
      }
      for (const [g, lag] of await lags.read().catch(() => new Map<string, number>())) groupLag.set(g, [...(groupLag.get(g) ?? []), { atMs: atS * 1000, lag }]);
      if (samples.length % (allServices.length * 6) === 0) log(`  ${atS} s: ${allServices.map((s) => `${s} ${samples.findLast((x) => x.service === s)?.rssMiB} MiB`).join(', ')}; ingest backlog ${backlog.at(-1)?.lag}`);
    }
    const pub = await publishing;
    const after = samples.filter((s) => s.atS >= warmupMinutes * 60);
    const perService = Object.fromEntries(allServices.map((s) => {
      const mine = after.filter((x) => x.service === s);
      const all = samples.filter((x) => x.service === s);
      return [s, {
        rssMiB: judgeFlat(mine.map((x) => x.rssMiB)), heapUsedMiB: judgeFlat(mine.map((x) => x.heapUsedMiB)),
        loopLagP99Ms: { median: percentile(mine.map((x) => x.loopLagP99Ms), 50), max: percentile(mine.map((x) => x.loopLagP99Ms), 100) },
        peakRssMiB: Math.max(...all.map((x) => x.rssMiB)),
      }];
    }));
    const title = `bench:soak, ${rate} readings/s for ${minutes} min, ${meters} meters, ${cpus().length} cores shared (warm-up ${+warmupMinutes.toFixed(1)} min)`;
    for (const f of [samplesPath, pngPath]) mkdirSync(dirname(f), { recursive: true });
    writeFileSync(samplesPath, `${JSON.stringify({ title, warmupMinutes, samples })}\n`);
    const plotted = await renderSoakPlot(samples, title, pngPath).then(() => true, (err: unknown) => {
      log(`the plot failed (the samples are in ${values.samples}): ${err instanceof Error ? err.message : String(err)}`);
      return false;
    });
    const groups = Object.fromEntries([...groupLag].map(([g, s]) => [g, judgeLag(s.filter((x) => x.atMs >= warmupMinutes * 60_000), lagBound)]));
    const ingestBacklog = judgeLag(backlog.filter((x) => x.atMs >= warmupMinutes * 60_000), lagBound);
    process.stdout.write(`${JSON.stringify({
      bench: 'soak', readingsPerSecond: rate, minutes, warmupMinutes, sampleEverySeconds: everyS, publisherMessagesPerSecond: pub.messagesPerSecond,
      rssFlat: Object.values(perService).every((v) => v.rssMiB.flat), heapFlat: Object.values(perService).every((v) => v.heapUsedMiB.flat),
      kept: ingestBacklog.bounded && Object.values(groups).every((v) => v.bounded),
      services: perService, ingestBacklog, groups,
      publishToAlertMs: { alerts: alertDelays.length, p50: percentile(alertDelays, 50), p99: percentile(alertDelays, 99) },
      png: plotted ? values.png : null, samples: values.samples, elapsedSeconds: Math.round((Date.now() - t0) / 1000),
    })}\n`);
  } finally {
    stream.close();
    await lags.disconnect();
  }
}

await runBench('soak', basePort, meters, values.keep ?? false, main);
