/**
 * The aggregator's window state alone, in process and without servers: one
 * WindowAggregator holding every meter, fed its records in event-time order in
 * batches of 2,000, flushed after each and checkpointed (JSON + zstd, as the
 * runtime does; the same JSON gzipped alongside, as it was before, for the
 * ratio) after every Nth (--checkpoint-every: at saturation, a 2 s checkpoint
 * interval covers many batches). Prints the mean ms per batch of each
 * step as JSON, the checkpoint's spread over every batch, and the heap the
 * state holds at the end (heap used after a full collection, less the same
 * before the state was built).
 */
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { packCheckpointJson } from '../services/aggregator/output.ts';
import { runInNewContext } from 'node:vm';
import { parseParkRegistry, RegistryIndex } from '../shared/contracts/park-registry.ts';
import type { ReadingBatchEvent } from '../shared/contracts/events.ts';
import { WindowAggregator } from '../services/aggregator/domain/window-aggregator.ts';
import { positiveInt } from './lib.ts';

const usage = `usage: npm run bench:aggregator-state -- [options]
  --meters N       meters, in 6 tenants, 2 metrics each (default 1000)
  --minutes K      minutes of readings (default 180)
  --per-minute P   events of 2 readings per meter and minute, evenly spaced (default 1; the soak sends 300)
  --lateness M     ALLOWED_LATENESS_MS in minutes: behind a series' own progress (default 5)
  --partition-lateness M   PARTITION_LATENESS_MS in minutes, as the aggregator bench configures (default 30)
  --checkpoint-every N   checkpoint after every Nth batch (default 1)
  -h, --help       this text
`;
const { values } = parseArgs({
  options: {
    meters: { type: 'string', default: '1000' }, minutes: { type: 'string', default: '180' }, 'per-minute': { type: 'string', default: '1' },
    lateness: { type: 'string', default: '5' }, 'partition-lateness': { type: 'string', default: '30' }, 'checkpoint-every': { type: 'string', default: '1' }, help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const meters = positiveInt('meters', values.meters, usage);
const minutes = positiveInt('minutes', values.minutes, usage);
const perMinute = positiveInt('per-minute', values['per-minute'], usage);
const lateness = positiveInt('lateness', values.lateness, usage);
const partitionLateness = positiveInt('partition-lateness', values['partition-lateness'], usage);
const checkpointEvery = positiveInt('checkpoint-every', values['checkpoint-every'], usage);

const tenantIds = Array.from({ length: 6 }, (_, i) => `bt${i}`);
const meterIds = Array.from({ length: meters }, (_, i) => `bm${i}`);
const registry = new RegistryIndex(parseParkRegistry({
  version: 1,
  parks: [{
    id: 'bp', name: 'state bench park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10, emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'bench' } },
    tenants: tenantIds.map((id, t) => ({
      id, name: id, sector: 'bench', supplySource: 'grid',
      meters: meterIds.filter((_, i) => i % tenantIds.length === t).map((m) => ({ id: m, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power', 'active_energy_import'] })),
    })),
  }],
}));
// A full collection on demand, without a flag on the npm script.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapUsed = (): number => {
  gc();
  return process.memoryUsage().heapUsed;
};
const heapBefore = heapUsed();
const agg = new WindowAggregator({ registry, allowedLatenessMs: lateness * 60_000, partitionLatenessMs: partitionLateness * 60_000, outOfOrdernessMs: 0, idleSeriesMs: 10_000 });
const T0 = Date.UTC(2026, 10, 1, 3);
const BATCH = 2000;
const stepMs = 60_000 / perMinute;
let recordMs = 0;
let flushMs = 0;
let checkpointMs = 0;
/** Of checkpointMs: the JSON text (the rest is compression). */
let snapshotMs = 0;
let lastJsonBytes = 0;
/** The same JSON gzipped (level 6), as checkpoints were before zstd: not in checkpointMs. */
let gzipMs = 0;
let gzipBytes = 0;
let lastGzipBytes = 0;
let bytes = 0;
let batches = 0;
let checkpoints = 0;
let seq = 0;
let lastCheckpointBytes = 0;
const total = minutes * perMinute * meters;
for (let n = 0; n < total;) {
  let t = performance.now();
  let max = 0;
  for (const stop = Math.min(n + BATCH, total); n < stop; n++) {
    // Slot j of the meter's events, the meters spread over the first 50 s of a minute (at one a minute) as before.
    const j = Math.floor(n / meters);
    const i = n % meters;
    const ts = T0 + Math.floor(j * stepMs) + (perMinute === 1 ? (i % 50) * 1000 : 0);
    const k = Math.floor(j / perMinute);
    max = Math.max(max, ts);
    const event: ReadingBatchEvent = {
      v: 1, park: 'bp', tenant: tenantIds[i % tenantIds.length]!, meter: meterIds[i]!, seq: seq++, receivedAt: ts, simulated: false,
      readings: [{ metric: 'active_power', unit: 'kW', ts, value: 40 + (i % 7) + (j % 5) / 4 }, { metric: 'active_energy_import', unit: 'kWh', ts, value: 1000 + k * 10 + i + (j % perMinute) / perMinute }],
    };
    agg.record(event);
  }
  recordMs += performance.now() - t;
  t = performance.now();
  agg.flush(max);
  flushMs += performance.now() - t;
  batches++;
  if (batches % checkpointEvery !== 0) continue;
  t = performance.now();
  const json = `{"aggregator":${agg.snapshotJson()},"max":${max}}`;
  const encoded = performance.now();
  snapshotMs += encoded - t;
  lastJsonBytes = json.length;
  lastCheckpointBytes = packCheckpointJson(json).length;
  bytes += lastCheckpointBytes;
  checkpointMs += performance.now() - t;
  t = performance.now();
  lastGzipBytes = gzipSync(json).length;
  gzipBytes += lastGzipBytes;
  gzipMs += performance.now() - t;
  checkpoints++;
}
const round = (x: number): number => Math.round(x * 10) / 10;
process.stdout.write(`${JSON.stringify({
  bench: 'aggregator-state', meters, minutes, perMinute, latenessMinutes: lateness, partitionLatenessMinutes: partitionLateness, checkpointEvery, batches, checkpoints, records: seq,
  recordMsPerBatch: round(recordMs / batches), flushMsPerBatch: round(flushMs / batches), checkpointMsPerBatch: round(checkpointMs / batches), jsonMsPerCheckpoint: round(snapshotMs / Math.max(1, checkpoints)), zstdMsPerCheckpoint: round((checkpointMs - snapshotMs) / Math.max(1, checkpoints)), gzipMsPerCheckpoint: round(gzipMs / Math.max(1, checkpoints)),
  meanCheckpointBytes: Math.round(bytes / Math.max(1, checkpoints)), lastCheckpointBytes, lastJsonBytes, meanGzipBytes: Math.round(gzipBytes / Math.max(1, checkpoints)), lastGzipBytes, openWindows: agg.openWindows,
  stateHeapMiB: round((heapUsed() - heapBefore) / 2 ** 20), heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
})}\n`);
