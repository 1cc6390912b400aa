/**
 * The whole pipeline in one process on a bare machine: the embedded MQTT broker,
 * the SQLite bus and time-series store, and the services, with one log stream.
 * `npm start` runs this. The services are the same code as when they run alone;
 * only their adapters differ.
 */
import { runMain, type MainContext } from '../../shared/runtime/run-main.ts';
import { loadConfig } from '../../shared/config/env.ts';
import { loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { loadMqttUsers } from '../../shared/adapters/mqtt/credentials.ts';
import { startEmbeddedBroker } from '../../shared/adapters/mqtt/embedded-broker.ts';
import { ingestConfigSchema } from '../ingest/config.ts';
import { startIngest } from '../ingest/ingest.ts';
import { aggregatorConfigSchema } from '../aggregator/config.ts';
import { startAggregator } from '../aggregator/main.ts';
import { rulesConfigSchema } from '../rules/config.ts';
import { startRules } from '../rules/main.ts';
import { allInOneConfigSchema, type AllInOneConfig } from './config.ts';

export interface RunningStack {
  mqttUrl: string;
  ingestOpsPort: number;
  aggregatorOpsPort: number;
  rulesOpsPort: number;
}

export async function start(config: AllInOneConfig, ctx: MainContext, env: NodeJS.ProcessEnv = process.env): Promise<RunningStack> {
  const { logger, shutdown } = ctx;
  const registry = loadParkRegistry(config.PARK_REGISTRY);
  // Defaults for the services inside: the embedded adapters, unless the environment says otherwise.
  const overlay: NodeJS.ProcessEnv = { BUS: 'sqlite', TIMESERIES: 'sqlite', ...env, DATA_DIR: config.DATA_DIR, PARK_REGISTRY: config.PARK_REGISTRY };
  if (config.EMBEDDED_BROKER) {
    const broker = await startEmbeddedBroker({ host: config.EMBEDDED_BROKER_HOST, port: config.EMBEDDED_BROKER_PORT, users: loadMqttUsers(config.MQTT_CREDENTIALS, registry), logger });
    shutdown.register('embedded broker', () => broker.close());
    overlay.MQTT_URL = broker.url;
    overlay.MQTT_PROTOCOL_VERSION = '4';
  }
  // Each service validates its own variables, as it would alone; a bad one is named with the service.
  const aggregator = await startAggregator(loadConfig(aggregatorConfigSchema, { ...overlay, OPS_PORT: String(config.AGGREGATOR_OPS_PORT) }, 'aggregator'), logger.child({ component: 'aggregator' }));
  shutdown.register('aggregator', () => aggregator.stop());
  const rules = await startRules(loadConfig(rulesConfigSchema, { ...overlay, OPS_PORT: String(config.RULES_OPS_PORT), MQTT_USERNAME: 'rules', MQTT_PASSWORD: env.RULES_MQTT_PASSWORD ?? 'rules-dev-secret', MQTT_CLIENT_ID: 'rules-embedded' }, 'rules'), logger.child({ component: 'rules' }));
  shutdown.register('rules', () => rules.stop());
  // Ingest last: it is the one that takes input, and it stops first.
  const ingestConfig = loadConfig(ingestConfigSchema, { ...overlay, OPS_PORT: String(config.INGEST_OPS_PORT), MQTT_CLIENT_ID: env.MQTT_CLIENT_ID ?? 'ingest-embedded', MQTT_USERNAME: 'ingest', MQTT_PASSWORD: env.INGEST_MQTT_PASSWORD ?? 'ingest-dev-secret' }, 'ingest');
  const ingest = await startIngest(ingestConfig, logger.child({ component: 'ingest' }));
  shutdown.register('ingest', () => ingest.stop());
  const ops = (port: number): string => `http://127.0.0.1:${port}`;
  logger.info({ mqtt: overlay.MQTT_URL, ingest: ops(ingest.opsPort), aggregator: ops(aggregator.opsPort), rules: ops(rules.opsPort), data: config.DATA_DIR }, 'EIP telemetry running (embedded mode); Ctrl-C stops it');
  return { mqttUrl: overlay.MQTT_URL ?? '', ingestOpsPort: ingest.opsPort, aggregatorOpsPort: aggregator.opsPort, rulesOpsPort: rules.opsPort };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain({
    service: 'eip',
    summary: 'the whole pipeline in one process: embedded MQTT broker, SQLite bus and store, ingest, aggregator, rules',
    schema: allInOneConfigSchema,
    start: async (config, ctx) => { await start(config, ctx); },
  });
}
