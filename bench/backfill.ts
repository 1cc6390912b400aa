/**
 * The aggregator's backfill against the real InfluxDB: a gateway back after an
 * outage resends one old reading for each of its meters at once, every one of
 * a window already forgotten, so the batch reads each series back from the
 * store (readings of the day, the register's baseline, the stored windows) and
 * recomputes it. Times the batch's reads and recomputation (fetchBackfills, as
 * the runtime calls it) at each BACKFILL_CONCURRENCY given, in alternating
 * order over the same stored history, and prints the figures and their ratio
 * to the first as JSON.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createInfluxStore } from '../shared/adapters/influxdb/influx-store.ts';
import { parseParkRegistry, RegistryIndex } from '../shared/contracts/park-registry.ts';
import { quietLogger } from '../shared/observability/logger.ts';
import { createMetricsRegistry } from '../shared/observability/metrics.ts';
import type { ReadingBatchEvent } from '../shared/contracts/events.ts';
import type { ReadingPoint } from '../shared/ports/time-series.ts';
import { fetchBackfills } from '../services/aggregator/backfill-io.ts';
import { WindowAggregator } from '../services/aggregator/domain/window-aggregator.ts';
import { createAggregatorMetrics } from '../services/aggregator/metrics.ts';
import { ensureSharedStack, positiveInt } from './lib.ts';

const usage = `usage: npm run bench:backfill -- [options]
  --meters N        meters resending at once, 2 metrics each (a gauge and a register; default 200)
  --hours H         hours of stored history before the resend, one reading a minute (default 6)
  --concurrency L   comma-separated BACKFILL_CONCURRENCY values to compare, the first as the base (default 1,4,8)
  --rounds R        rounds, each running every value, in alternating order (default 2)
  -h, --help        this text
Needs InfluxDB from infra/ (started with infra/stack.sh up when no stack runs; EIP_INFLUX_PORT or INFLUX_URL for another).
`;
const { values } = parseArgs({
  options: {
    meters: { type: 'string', default: '200' }, hours: { type: 'string', default: '6' }, concurrency: { type: 'string', default: '1,4,8' },
    rounds: { type: 'string', default: '2' }, help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const meters = positiveInt('meters', values.meters, usage);
const hours = positiveInt('hours', values.hours, usage);
const rounds = positiveInt('rounds', values.rounds, usage);
const levels = values.concurrency.split(',').map((v) => positiveInt('concurrency', v.trim(), usage));
const log = (msg: string): void => { process.stderr.write(`[bench:backfill] ${msg}\n`); };

const MIN = 60_000;
const H = 60 * MIN;
// A park of its own per run: nothing of an earlier run is read back.
const tag = Date.now().toString(36);
const park = `bfp-${tag}`;
const tenants = Array.from({ length: 4 }, (_, i) => `bft${i}-${tag}`);
const meterIds = Array.from({ length: meters }, (_, i) => `bfm${i}-${tag}`);
const registry = new RegistryIndex(parseParkRegistry({
  version: 1,
  parks: [{
    id: park, name: 'backfill bench park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10, emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'bench' } },
    tenants: tenants.map((id, t) => ({
      id, name: id, sector: 'bench', supplySource: 'grid',
      meters: meterIds.filter((_, i) => i % tenants.length === t).map((m) => ({ id: m, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power', 'active_energy_import'] })),
    })),
  }],
}));
const tenantOf = (i: number): string => tenants[i % tenants.length]!;

if (process.env.INFLUX_URL === undefined && process.env.EIP_INFLUX_PORT === undefined) ensureSharedStack(log);
const logger = quietLogger('bench-backfill');
const store = createInfluxStore({
  url: process.env.INFLUX_URL ?? `http://127.0.0.1:${process.env.EIP_INFLUX_PORT ?? '8086'}`, token: process.env.INFLUX_TOKEN ?? 'eip-dev-token',
  org: process.env.INFLUX_ORG ?? 'eip', bucket: process.env.INFLUX_BUCKET ?? 'telemetry', aggregatesBucket: `${process.env.INFLUX_BUCKET ?? 'telemetry'}_downsampled`, logger,
});

// Whole hours back from the start of the last one: the resent readings lie inside the stored span.
const end = Math.floor(Date.now() / H) * H;
const start = end - hours * H;
log(`writing ${hours} h of history for ${meters} meters (${(meters * hours * 60 * 2).toLocaleString('en')} readings)`);
let points: ReadingPoint[] = [];
for (let ts = start; ts < end; ts += MIN) {
  for (const [i, meter] of meterIds.entries()) {
    const step = (ts - start) / MIN;
    points.push({ park, tenant: tenantOf(i), meter, metric: 'active_power', unit: 'kW', value: 10 + (step % 7), ts });
    points.push({ park, tenant: tenantOf(i), meter, metric: 'active_energy_import', unit: 'kWh', value: 1000 + step * 0.2, ts });
  }
  if (points.length >= 20_000) {
    await store.writeReadings(points);
    points = [];
  }
}
if (points.length > 0) await store.writeReadings(points);

let seq = 0;
const event = (i: number, meter: string, ts: number, readings: ReadonlyArray<readonly [metric: string, unit: string, value: number]>): ReadingBatchEvent => ({
  v: 1, park, tenant: tenantOf(i), meter, seq: seq++, receivedAt: end, simulated: false,
  readings: readings.map(([metric, unit, value]) => ({ metric, unit, value, ts })),
});

/** One resend batch at `concurrency`: ms of fetchBackfills, and the windows it recomputed. */
async function resend(concurrency: number, round: number): Promise<{ ms: number; series: number; windows: number }> {
  const agg = new WindowAggregator({ registry, allowedLatenessMs: 5 * MIN, outOfOrdernessMs: 0, idleSeriesMs: 10_000 });
  // Live at the end of the history: the series forget what is 5 minutes behind them.
  for (const [i, meter] of meterIds.entries()) {
    agg.record(event(i, meter, end, [['active_power', 'kW', 11], ['active_energy_import', 'kWh', 1000 + hours * 12]]));
  }
  agg.flush(end);
  agg.flush(end + 10 * MIN);
  // The gateway's resend: one reading of each series, 3 hours old, a new value (not a duplicate).
  const at = end - Math.min(3, hours) * H + round * MIN + 30_000;
  let late = 0;
  for (const [i, meter] of meterIds.entries()) {
    late += agg.record(event(i, meter, at, [['active_power', 'kW', 50 + concurrency], ['active_energy_import', 'kWh', 1000 + ((at - start) / MIN) * 0.2]])).late;
  }
  if (late !== meters * 2) throw new Error(`expected ${meters * 2} late readings, ${late} were`);
  const metrics = createAggregatorMetrics(createMetricsRegistry('bench-backfill'));
  const t = performance.now();
  const events = await fetchBackfills(agg, { store, metrics, backfillMaxAgeMs: 29 * 24 * H, backfillConcurrency: concurrency });
  const ms = performance.now() - t;
  return { ms, series: late, windows: events.length };
}

const runs = new Map<number, number[]>(levels.map((c) => [c, []]));
let windows: number | undefined;
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? levels : [...levels].reverse();
    for (const c of order) {
      const r = await resend(c, round);
      if (windows !== undefined && r.windows !== windows) throw new Error(`concurrency ${c} recomputed ${r.windows} windows, an earlier run ${windows}`);
      windows = r.windows;
      runs.get(c)!.push(r.ms);
      log(`round ${round + 1}: concurrency ${c}: ${r.series} series in ${r.ms.toFixed(0)} ms (${r.windows} windows recomputed)`);
    }
  }
} finally {
  await store.close();
}
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const base = mean(runs.get(levels[0]!)!);
process.stdout.write(`${JSON.stringify({
  bench: 'backfill', meters, series: meters * 2, hours, rounds, windowsRecomputed: windows,
  results: levels.map((c) => {
    const ms = mean(runs.get(c)!);
    return { concurrency: c, meanMs: Math.round(ms), msPerSeries: Number((ms / (meters * 2)).toFixed(2)), seriesPerSecond: Math.round((meters * 2) / (ms / 1000)), speedupVsFirst: Number((base / ms).toFixed(2)) };
  }),
})}\n`);
