import { z } from 'zod';
import { envInt, envString } from '../../shared/config/env.ts';
import { commonEnv, opsPort } from '../../shared/config/common.ts';
import { busEnv, registryEnv, timeSeriesEnv } from '../../shared/config/adapters-env.ts';

export const aggregatorConfigSchema = z.object({
  ...commonEnv,
  ...opsPort(9465),
  ...busEnv,
  ...timeSeriesEnv,
  ...registryEnv,
  AGGREGATOR_GROUP: envString('consumer group on the readings topic, and the key of this aggregator\'s checkpoint', { default: 'aggregator' }),
  ALLOWED_LATENESS_MS: envInt('how far behind its own newest reading (less OUT_OF_ORDERNESS_MS) a meter series keeps a closed window in memory: its older out-of-order readings are recomputed from the time-series store', { default: 300_000, min: 0, max: 7 * 86_400_000 }),
  PARTITION_LATENESS_MS: envInt('how far behind the partition\'s watermark (less IDLE_SERIES_MS) every meter series keeps its windows, so a logger resending its buffer or a meter back from silence is aggregated in memory; tenant and park windows are held this long too (never less than ALLOWED_LATENESS_MS)', { default: 7_200_000, min: 0, max: 7 * 86_400_000 }),
  IDLE_SERIES_MS: envInt('a meter series\' windows also close (and are later forgotten) once the partition\'s watermark is this far past them, so a silent meter does not hold back its tenant and park windows (the roll-ups wait this long too)', { default: 10_000, min: 0, max: 86_400_000 }),
  BACKFILL_MAX_AGE_MS: envInt('how far back a backfill looks for a register\'s last reading before the recomputed span; keep it at the raw bucket\'s retention (ingest\'s MAX_PAST_MS)', { default: 29 * 86_400_000, min: 86_400_000, max: 100 * 365 * 86_400_000 }),
  BACKFILL_CONCURRENCY: envInt('series read back from the time-series store at once when a batch brings readings of windows already forgotten (a logger resending its buffer, a gateway back after an outage), and roll-up groups at once for their recompute: their queries\' round trips overlap; 1 reads one after the other', { default: 4, min: 1, max: 64 }),
  OUT_OF_ORDERNESS_MS: envInt('the watermark trails the newest event time by this much before windows close', { default: 5_000, min: 0, max: 86_400_000 }),
  IDLE_PARTITION_MS: envInt('a readings partition silent for this long stops holding the watermark back', { default: 10_000, min: 100, max: 86_400_000 }),
  AGGREGATOR_BATCH_MAX: envInt('largest batch of reading records handled at once', { default: 5_000, min: 1, max: 100_000 }),
  AGGREGATOR_CHECKPOINT_INTERVAL_MS: envInt('a readings partition\'s window state is checkpointed at most this often (0: after every batch), and less often when encoding the last one took over a tenth of the time since (a large state); its offsets are committed only through its last checkpoint, so a restart replays about this much', { default: 2_000, min: 0, max: 600_000 }),
});

export type AggregatorConfig = z.infer<typeof aggregatorConfigSchema>;
