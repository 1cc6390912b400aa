/**
 * Reporting: readings and aggregates -> SPARING 2-minute records and
 * SISPEK-style hourly stack averages -> the regulators' receivers, through a
 * durable outbox on eip.report-submissions.v1.
 */
import { runMain, type MainContext } from '../../shared/runtime/run-main.ts';
import { loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { createBus } from '../../shared/adapters/select.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { startOpsServer } from '../../shared/observability/ops-server.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { StageMonitor } from '../../shared/runtime/stage-monitor.ts';
import { supervisedBus } from '../../shared/runtime/supervised-bus.ts';
import { failureCheck, type Supervisor } from '../../shared/runtime/supervisor.ts';
import { parseMaintenance, parseRanges, parseSchedule, readSecretsFile, reportingConfigSchema, type ReportingConfig } from './config.ts';
import { createReportingMetrics } from './metrics.ts';
import { deliver, urlOrigin, type Delivery } from './receiver-client.ts';
import { ReportingRuntime, reportingTargets, type SparingStation } from './reporting.ts';
import type { StackSettings } from './domain/sispek.ts';
import type { AttemptOutcome } from './domain/outbox.ts';

export interface RunningReporting {
  opsPort: number;
  stop(): Promise<void>;
}

export interface ReportingDeps {
  deliver?: (d: Delivery) => Promise<AttemptOutcome>;
  now?: () => number;
}

export async function startReporting(config: ReportingConfig, logger: Logger, supervisor: Supervisor, deps: ReportingDeps = {}): Promise<RunningReporting> {
  const registry = loadParkRegistry(config.PARK_REGISTRY);
  const secrets = readSecretsFile(config.SPARING_SECRETS_FILE);
  const targets = reportingTargets(registry.registry, { schedule: parseSchedule(config.SPARING_SCHEDULE), secretOf: (uid) => secrets.get(uid) ?? config.SPARING_SECRET, ranges: parseRanges(config.SISPEK_RANGES), minCompleteness: config.SISPEK_MIN_COMPLETENESS_PERCENT / 100 });
  const stations = config.SPARING ? targets.stations : new Map<string, SparingStation>();
  const stacks = config.SISPEK ? targets.stacks : new Map<string, StackSettings>();
  const metricsRegistry = createMetricsRegistry('reporting');
  const monitor = new StageMonitor({ stallTimeoutMs: config.STALL_TIMEOUT_MS, registry: metricsRegistry });
  const bus = supervisedBus(createBus(config, `reporting-${config.REPORTING_GROUP}`, logger), { supervisor, monitor });
  const runtime = new ReportingRuntime({
    bus, logger, supervisor, metrics: createReportingMetrics(metricsRegistry), group: config.REPORTING_GROUP, fromBeginning: config.REPORTING_START_FROM === 'earliest', resendRefused: config.REPORTING_RESEND_REFUSED, stations, stacks,
    maintenance: parseMaintenance(config.MAINTENANCE_PERIODS), sparingUrl: config.SPARING_URL, sispekUrl: config.SISPEK_URL, debitUnit: config.SPARING_DEBIT_UNIT,
    lookbackMs: config.REPORTING_LOOKBACK_MS, tickMs: config.REPORTING_TICK_MS, settleMs: config.REPORTING_SETTLE_MS,
    sparingCloseAfterMs: config.SPARING_CLOSE_AFTER_MS, sispekCloseAfterMs: config.SISPEK_CLOSE_AFTER_MS, receiverTimeoutMs: config.RECEIVER_TIMEOUT_MS,
    retryPolicy: { initialMs: config.REPORTING_RETRY_INITIAL_MS, factor: 2, maxMs: config.REPORTING_RETRY_MAX_MS, maxAttempts: Infinity, jitter: 0.2 },
    deliver: deps.deliver ?? deliver, ...(deps.now && { now: deps.now }),
  });
  let started = false;
  const ops = await startOpsServer({
    host: config.OPS_HOST, port: config.OPS_PORT, registry: metricsRegistry, logger,
    checks: { started: () => started, loops: failureCheck(supervisor), progress: monitor.check, bus: () => bus.ping() },
  });
  await runtime.start();
  started = true;
  logger.info({ sparingStations: [...stations.values()].map((s) => `${s.uid} (${s.mode})`), stacks: [...stacks.keys()], sparing: urlOrigin(config.SPARING_URL), sispek: urlOrigin(config.SISPEK_URL) }, 'reporting running');
  return {
    opsPort: ops.port,
    stop: async () => {
      ops.setShuttingDown();
      await runtime.stop();
      monitor.stop();
      await Promise.allSettled([bus.close(), ops.close()]);
    },
  };
}

export async function start(config: ReportingConfig, ctx: MainContext): Promise<void> {
  const running = await startReporting(config, ctx.logger, ctx.shutdown);
  ctx.shutdown.register('reporting', () => running.stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain({ service: 'reporting', summary: 'SPARING and SISPEK-style submissions from the readings and aggregates, with a durable outbox', schema: reportingConfigSchema, start });
}
