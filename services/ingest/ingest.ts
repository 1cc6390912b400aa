/**
 * Wires ingest together: adapters from the config, the pipeline, the MQTT
 * subscription and the ops server. Returned stop() drains in the right order.
 */
import { join } from 'node:path';
import { loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { ingestFilters, ingestProbeTopic } from '../../shared/contracts/mqtt-topics.ts';
import { createBus, createStore } from '../../shared/adapters/select.ts';
import { readTlsFiles } from '../../shared/adapters/tls-files.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { startOpsServer } from '../../shared/observability/ops-server.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import type { ProgressSample } from '../../shared/runtime/progress-watchdog.ts';
import { StageMonitor } from '../../shared/runtime/stage-monitor.ts';
import { failureCheck, type Supervisor } from '../../shared/runtime/supervisor.ts';
import { Spool } from './spool.ts';
import { IngestPipeline } from './pipeline.ts';
import { createIngestMetrics } from './metrics.ts';
import { startIngestSubscription, type IngestSubscription } from './mqtt-subscription.ts';
import { readSubscribedFilters, staleFilters, subscribedFiltersFile, writeSubscribedFilters } from './subscribed-filters.ts';
import { clientIdOf, type IngestConfig } from './config.ts';

export interface RunningIngest {
  opsPort: number;
  pipeline: IngestPipeline;
  stop(): Promise<void>;
}

/** The ingest spool's stage name in readiness and the eip_stage_* metrics. */
export const spoolStage = 'ingest:spool';

/** The spool's progress: what waits for both sinks, and the last id they both have (it moves with every batch released). */
export const spoolProgress = (spool: Spool): ProgressSample => ({ pending: spool.pending, processed: spool.drainedId });

export async function startIngest(config: IngestConfig, logger: Logger, supervisor: Supervisor): Promise<RunningIngest> {
  const registry = loadParkRegistry(config.PARK_REGISTRY);
  const mqttTls = readTlsFiles(config, 'MQTT');
  const clientId = clientIdOf(config);
  const spoolDir = config.SPOOL_DIR || join(config.DATA_DIR, 'spool', clientId);
  const spool = Spool.open({ dir: spoolDir, memoryBytes: config.SPOOL_MEMORY_BYTES, logger });
  const bus = createBus(config, clientId, logger);
  const store = createStore(config, logger);
  const metricsRegistry = createMetricsRegistry('ingest');
  const metrics = createIngestMetrics(metricsRegistry, spool);
  const monitor = new StageMonitor({ stallTimeoutMs: config.STALL_TIMEOUT_MS, registry: metricsRegistry });
  monitor.add(spoolStage, () => spoolProgress(spool));
  const pipeline = new IngestPipeline({
    spool, bus, store, metrics, logger,
    onLoopFailed: (err) => supervisor.fail('ingest drain loop', err),
    decode: { registry, maxFutureMs: config.MAX_FUTURE_MS, maxPastMs: config.MAX_PAST_MS, maxPayloadBytes: config.MAX_PAYLOAD_BYTES },
    batchMaxMessages: config.BATCH_MAX_MESSAGES,
    maxPending: config.MAX_PENDING_MESSAGES,
    maxPendingBytes: config.MAX_PENDING_BYTES,
    dedupWindow: config.DEDUP_WINDOW,
    // The MQTT adapter sends no acknowledgement of a burst before pipeline.flush() wrote it.
    groupCommit: true,
  });
  // Drain what a previous run spooled before taking more.
  pipeline.start();

  const mqtt: { subscription?: IngestSubscription } = {};
  const ops = await startOpsServer({
    host: config.OPS_HOST, port: config.OPS_PORT, registry: metricsRegistry, logger,
    checks: { loops: failureCheck(supervisor), progress: monitor.check, mqtt: () => mqtt.subscription?.ready() ?? false, bus: () => bus.ping(), timeseries: () => store.ping() },
  });

  const v5 = config.MQTT_PROTOCOL_VERSION === '5';
  // Plain persistent subscriptions over this instance's static share of the
  // topic space: a broker restores them with the session (Mosquitto 2.0 does
  // not restore shared ones), and no other instance's share waits in ours.
  const filters = ingestFilters(config.INGEST_SCOPES);
  const filtersFile = subscribedFiltersFile(spoolDir);
  mqtt.subscription = await startIngestSubscription({
    connect: {
      url: config.MQTT_URL, username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD, clientId,
      protocolVersion: v5 ? 5 : 4, clean: false, tls: mqttTls,
      ...(v5 && { sessionExpirySeconds: config.MQTT_SESSION_EXPIRY_SECONDS, receiveMaximum: config.MQTT_RECEIVE_MAXIMUM }),
    },
    filters, probeTopic: ingestProbeTopic(clientId),
    unsubscribe: staleFilters(readSubscribedFilters(filtersFile), filters),
    onSubscribed: () => writeSubscribedFilters(filtersFile, filters),
    probeIntervalMs: config.MQTT_PROBE_INTERVAL_MS, probeTimeoutMs: config.MQTT_PROBE_TIMEOUT_MS,
    handleMessage: (topic, payload, done) => pipeline.onMessage(topic, payload, done),
    beforeAcks: () => pipeline.flush(),
    holding: () => pipeline.holding,
    metrics, logger,
  });
  const subscription = mqtt.subscription;
  logger.info({ filters, spooled: spool.pending }, 'ingest running');

  let stopped = false;
  return {
    opsPort: ops.port,
    pipeline,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      ops.setShuttingDown();
      // Stop taking messages first; what is not acknowledged stays with the broker.
      await subscription.stop();
      await pipeline.stop();
      monitor.stop();
      spool.close();
      await Promise.allSettled([bus.close(), store.close(), ops.close()]);
      logger.info('ingest stopped');
    },
  };
}
