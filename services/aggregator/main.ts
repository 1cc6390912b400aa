/**
 * Aggregator: eip.readings.v1 -> event-time windows (1 min, 15 min, 1 h, 1 day) per
 * meter, tenant and park -> eip.aggregates.v1 and the time-series store.
 */
import { runMain, type MainContext } from '../../shared/runtime/run-main.ts';
import { loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { createBus, createStore } from '../../shared/adapters/select.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { startOpsServer } from '../../shared/observability/ops-server.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { StageMonitor } from '../../shared/runtime/stage-monitor.ts';
import { supervisedBus } from '../../shared/runtime/supervised-bus.ts';
import { failureCheck, type Supervisor } from '../../shared/runtime/supervisor.ts';
import { aggregatorConfigSchema, type AggregatorConfig } from './config.ts';
import { AggregatorRuntime } from './aggregator.ts';
import { createAggregatorMetrics } from './metrics.ts';

export interface RunningAggregator {
  opsPort: number;
  stop(): Promise<void>;
}

export async function startAggregator(config: AggregatorConfig, logger: Logger, supervisor: Supervisor): Promise<RunningAggregator> {
  const registry = loadParkRegistry(config.PARK_REGISTRY);
  const metricsRegistry = createMetricsRegistry('aggregator');
  const monitor = new StageMonitor({ stallTimeoutMs: config.STALL_TIMEOUT_MS, registry: metricsRegistry });
  const bus = supervisedBus(createBus(config, `aggregator-${config.AGGREGATOR_GROUP}`, logger), { supervisor, monitor });
  const store = createStore(config, logger);
  const runtime = new AggregatorRuntime({
    bus, store, registry, logger, supervisor, metrics: createAggregatorMetrics(metricsRegistry), group: config.AGGREGATOR_GROUP,
    allowedLatenessMs: config.ALLOWED_LATENESS_MS, partitionLatenessMs: config.PARTITION_LATENESS_MS, outOfOrdernessMs: config.OUT_OF_ORDERNESS_MS, idlePartitionMs: config.IDLE_PARTITION_MS, idleSeriesMs: config.IDLE_SERIES_MS,
    backfillMaxAgeMs: config.BACKFILL_MAX_AGE_MS, backfillConcurrency: config.BACKFILL_CONCURRENCY, batchMax: config.AGGREGATOR_BATCH_MAX, checkpointIntervalMs: config.AGGREGATOR_CHECKPOINT_INTERVAL_MS,
  });
  let started = false;
  const ops = await startOpsServer({
    host: config.OPS_HOST, port: config.OPS_PORT, registry: metricsRegistry, logger,
    checks: { started: () => started, loops: failureCheck(supervisor), progress: monitor.check, bus: () => bus.ping(), timeseries: () => store.ping() },
  });
  await runtime.start();
  started = true;
  logger.info({ group: config.AGGREGATOR_GROUP, allowedLatenessMs: config.ALLOWED_LATENESS_MS, partitionLatenessMs: Math.max(config.ALLOWED_LATENESS_MS, config.PARTITION_LATENESS_MS) }, 'aggregator running');
  return {
    opsPort: ops.port,
    stop: async () => {
      ops.setShuttingDown();
      await runtime.stop();
      monitor.stop();
      await Promise.allSettled([bus.close(), store.close(), ops.close()]);
    },
  };
}

export async function start(config: AggregatorConfig, ctx: MainContext): Promise<void> {
  const running = await startAggregator(config, ctx.logger, ctx.shutdown);
  ctx.shutdown.register('aggregator', () => running.stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain({ service: 'aggregator', summary: 'event-time window aggregates of the readings, per meter, tenant and park', schema: aggregatorConfigSchema, start });
}
