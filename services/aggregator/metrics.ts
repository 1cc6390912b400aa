import { Counter, Gauge, Histogram, type Registry } from '../../shared/observability/metrics.ts';
import { createSinkMetrics } from '../../shared/observability/sink-metrics.ts';

export type AggregatorMetrics = ReturnType<typeof createAggregatorMetrics>;

export function createAggregatorMetrics(registry: Registry) {
  const r = { registers: [registry] };
  return {
    sinks: createSinkMetrics(registry),
    records: new Counter({ name: 'eip_aggregator_records_total', help: 'reading records consumed', ...r }),
    readings: new Counter({ name: 'eip_aggregator_readings_total', help: 'readings by outcome', labelNames: ['outcome'], ...r }),
    invalid: new Counter({ name: 'eip_aggregator_invalid_records_total', help: 'records that failed the schema, sent to the dead-letter topic', ...r }),
    emitted: new Counter({ name: 'eip_aggregator_aggregates_emitted_total', help: 'window aggregates emitted (revisions included)', labelNames: ['scope', 'window'], ...r }),
    openWindows: new Gauge({ name: 'eip_aggregator_open_windows', help: 'windows held in memory', ...r }),
    watermark: new Gauge({ name: 'eip_aggregator_watermark_ms', help: 'current event-time watermark, epoch ms', ...r }),
    checkpointBytes: new Gauge({ name: 'eip_aggregator_checkpoint_bytes', help: 'size of the last checkpoint of a readings partition (compressed)', ...r }),
    checkpointSeconds: new Histogram({ name: 'eip_aggregator_checkpoint_seconds', help: 'time to encode one readings partition\'s checkpoint (JSON and zstd)', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], ...r }),
    checkpointWait: new Gauge({ name: 'eip_aggregator_checkpoint_wait_seconds', help: 'how long after the last checkpoint the next may be written: AGGREGATOR_CHECKPOINT_INTERVAL_MS, or nine times the CPU time the last took to encode when longer; offsets commit with checkpoints', ...r }),
    checkpointWrittenBytes: new Counter({ name: 'eip_aggregator_checkpoint_written_bytes_total', help: 'bytes of the readings partitions\' checkpoints written (compressed)', ...r }),
    partitions: new Gauge({ name: 'eip_aggregator_partitions_held', help: 'readings partitions assigned to this instance (1 while held)', labelNames: ['partition'], ...r }),
    partials: new Counter({ name: 'eip_aggregator_partials_total', help: 'roll-up partials taken by the roll-up stage, by outcome (late: past the allowed lateness)', labelNames: ['outcome'], ...r }),
    rollupStage: new Gauge({ name: 'eip_aggregator_rollup_stage_held', help: '1 while this instance runs the roll-up stage of its group', ...r }),
    rollupWatermark: new Gauge({ name: 'eip_aggregator_rollup_watermark_ms', help: 'the roll-up stage\'s watermark, epoch ms', ...r }),
    rollupOpenWindows: new Gauge({ name: 'eip_aggregator_rollup_open_windows', help: 'tenant and park windows held by the roll-up stage', ...r }),
    rollupCheckpointBytes: new Gauge({ name: 'eip_aggregator_rollup_checkpoint_bytes', help: 'size of the roll-up stage\'s last checkpoint (compressed)', ...r }),
    backfills: new Counter({ name: 'eip_aggregator_backfills_total', help: 'series spans recomputed from the time-series store for readings of windows already forgotten', ...r }),
    backfillReadings: new Counter({ name: 'eip_aggregator_backfill_readings_total', help: 'stored readings read back for backfills', ...r }),
    backfillWindows: new Counter({ name: 'eip_aggregator_backfill_windows_total', help: 'forgotten meter windows a backfill revised (or emitted first)', ...r }),
    replayWindows: new Counter({ name: 'eip_aggregator_replay_windows_total', help: 'windows a replay after a restore changed, numbered after the store, by stage (meters: the readings partitions; rollups: tenant and park windows): outcome kept (its number stood), repeat (the store held the same content), renumbered (the store held a later revision)', labelNames: ['stage', 'outcome'], ...r }),
    rollupRecomputes: new Counter({ name: 'eip_aggregator_rollup_recomputes_total', help: 'tenant and park windows (or one partition\'s share of one) recomputed from stored meter windows', ...r }),
    batchSeconds: new Histogram({ name: 'eip_aggregator_batch_seconds', help: 'time to handle one batch: record, flush, write, checkpoint', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], ...r }),
  };
}
