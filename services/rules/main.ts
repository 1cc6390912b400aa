/**
 * Rules: readings, aggregates and meter status -> the rule pack -> alert state
 * machine -> eip.alerts.v1, MQTT eip/{park}/alerts/{severity}, webhooks, history.
 */
import { readFileSync } from 'node:fs';
import { runMain, type MainContext } from '../../shared/runtime/run-main.ts';
import { loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { createBus, createStore } from '../../shared/adapters/select.ts';
import { connectMqtt, type MqttClient } from '../../shared/adapters/mqtt/connect.ts';
import { readTlsFiles } from '../../shared/adapters/tls-files.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { startOpsServer } from '../../shared/observability/ops-server.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { StageMonitor } from '../../shared/runtime/stage-monitor.ts';
import { supervisedBus } from '../../shared/runtime/supervised-bus.ts';
import { failureCheck, type Supervisor } from '../../shared/runtime/supervisor.ts';
import { RulesEngine, parseRulePack } from './domain/index.ts';
import { rulesClientIdOf, rulesConfigSchema, webhookUrls, type RulesConfig } from './config.ts';
import { RulesRuntime } from './rules.ts';
import { AlertOutputs } from './alert-outputs.ts';
import { createRulesMetrics, registerNotJudged } from './metrics.ts';

export interface RunningRules {
  opsPort: number;
  stop(): Promise<void>;
}

export async function startRules(config: RulesConfig, logger: Logger, supervisor: Supervisor): Promise<RunningRules> {
  const registry = loadParkRegistry(config.PARK_REGISTRY);
  // A bad pack stops the service before any I/O, naming the rule, field and line.
  const pack = parseRulePack(readFileSync(config.RULE_PACK, 'utf8'), config.RULE_PACK);
  const engine = new RulesEngine(pack, registry);
  if (engine.skipped.length) logger.info({ skipped: engine.skipped.length }, 'some rules do not apply to some meters (no limit in the registry)');
  const mqttTls = readTlsFiles(config, 'MQTT');
  const metricsRegistry = createMetricsRegistry('rules');
  const monitor = new StageMonitor({ stallTimeoutMs: config.STALL_TIMEOUT_MS, registry: metricsRegistry });
  const bus = supervisedBus(createBus(config, `rules-${config.RULES_GROUP}`, logger), { supervisor, monitor });
  const store = createStore(config, logger);
  let mqtt: MqttClient | undefined;
  if (config.ALERTS_MQTT) {
    mqtt = await connectMqtt({
      url: config.MQTT_URL, username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD, clientId: rulesClientIdOf(config),
      protocolVersion: config.MQTT_PROTOCOL_VERSION === '5' ? 5 : 4, clean: true, tls: mqttTls, logger,
    });
  }
  const metrics = createRulesMetrics(metricsRegistry);
  registerNotJudged(metricsRegistry, engine.counters);
  const runtime = new RulesRuntime({
    engine, bus, logger, metrics, supervisor, group: config.RULES_GROUP, tickIntervalMs: config.TICK_INTERVAL_MS, batchMax: config.RULES_BATCH_MAX,
  });
  const outputs = new AlertOutputs({
    bus, store, registry, mqtt, webhooks: webhookUrls(config), webhookTimeoutMs: config.WEBHOOK_TIMEOUT_MS, metrics, logger, group: config.RULES_GROUP,
    notifyMaxAgeMs: config.NOTIFY_MAX_AGE_MS,
  });
  let started = false;
  const ops = await startOpsServer({
    host: config.OPS_HOST, port: config.OPS_PORT, registry: metricsRegistry, logger,
    checks: { started: () => started, loops: failureCheck(supervisor), progress: monitor.check, bus: () => bus.ping(), timeseries: () => store.ping(), ...(mqtt && { mqtt: () => mqtt.connected }) },
  });
  // Outputs first: a transition the runtime writes right away is read by an outputs group already in place.
  await outputs.start();
  await runtime.start();
  started = true;
  logger.info({ pack: config.RULE_PACK, rules: pack.rules.length, states: engine.size }, 'rules running');
  return {
    opsPort: ops.port,
    stop: async () => {
      ops.setShuttingDown();
      await runtime.stop();
      await outputs.stop();
      await mqtt?.endAsync();
      monitor.stop();
      await Promise.allSettled([bus.close(), store.close(), ops.close()]);
    },
  };
}

export async function start(config: RulesConfig, ctx: MainContext): Promise<void> {
  const running = await startRules(config, ctx.logger, ctx.shutdown);
  ctx.shutdown.register('rules', () => running.stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain({ service: 'rules', summary: 'park threshold rules and the alert life cycle', schema: rulesConfigSchema, start });
}
