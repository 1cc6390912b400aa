/**
 * The whole pipeline in one process on a bare machine: the embedded MQTT broker,
 * the SQLite bus and time-series store, and the services, with one log stream.
 * `npm start` runs this. The services are the same code as when they run alone;
 * only their adapters differ.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runMain, type MainContext } from '../../shared/runtime/run-main.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { loadConfig } from '../../shared/config/env.ts';
import { loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { isDevCredentialSource, loadMqttAccounts } from '../../shared/adapters/mqtt/credentials.ts';
import { startEmbeddedBroker } from '../../shared/adapters/mqtt/embedded-broker.ts';
import { ingestConfigSchema } from '../ingest/config.ts';
import { startIngest } from '../ingest/ingest.ts';
import { aggregatorConfigSchema } from '../aggregator/config.ts';
import { startAggregator } from '../aggregator/main.ts';
import { rulesConfigSchema } from '../rules/config.ts';
import { startRules } from '../rules/main.ts';
import { consoleConfigSchema } from '../console/config.ts';
import { startConsole } from '../console/main.ts';
import { reportingConfigSchema } from '../reporting/config.ts';
import { startReporting } from '../reporting/main.ts';
import { startReceiver } from '../../simulators/receiver/receiver.ts';
import { allInOneConfigSchema, type AllInOneConfig } from './config.ts';

export interface RunningStack {
  mqttUrl: string;
  ingestOpsPort: number;
  aggregatorOpsPort: number;
  rulesOpsPort: number;
  /** The console's address, when it runs. */
  consoleUrl?: string;
  /** The stand-in receiver's address, when it runs. */
  receiverUrl?: string;
}

export async function start(config: AllInOneConfig, ctx: MainContext, env: NodeJS.ProcessEnv = process.env): Promise<RunningStack> {
  const { logger, shutdown } = ctx;
  const registry = loadParkRegistry(config.PARK_REGISTRY);
  // Defaults for the services inside: the embedded adapters, unless the environment says otherwise.
  const overlay: NodeJS.ProcessEnv = { BUS: 'sqlite', TIMESERIES: 'sqlite', ...env, DATA_DIR: config.DATA_DIR, PARK_REGISTRY: config.PARK_REGISTRY };
  // Each service validates its own variables, as it would alone; a bad one is named with the service.
  // These two need no broker address, so they are checked before anything starts.
  const aggregatorConfig = loadConfig(aggregatorConfigSchema, { ...overlay, OPS_PORT: String(config.AGGREGATOR_OPS_PORT) }, 'aggregator');
  const consoleConfig = config.CONSOLE ? loadConfig(consoleConfigSchema, { ...overlay, OPS_PORT: String(config.CONSOLE_OPS_PORT), CONSOLE_PORT: String(config.CONSOLE_PORT) }, 'console') : undefined;
  // The receiver's address is known only once it listens: checked now (secrets above all), loaded again then.
  const reportingEnv = (): NodeJS.ProcessEnv => ({ ...overlay, OPS_PORT: String(config.REPORTING_OPS_PORT) });
  if (config.REPORTING) loadConfig(reportingConfigSchema, reportingEnv(), 'reporting');
  if (config.EMBEDDED_BROKER) {
    const accounts = loadMqttAccounts(config.MQTT_CREDENTIALS, registry);
    if (isDevCredentialSource(accounts)) logger.info({ credentials: config.MQTT_CREDENTIALS }, 'embedded broker on the development MQTT credentials (known passwords; MQTT_CREDENTIALS names a credential store for real ones)');
    const broker = await startEmbeddedBroker({ host: config.EMBEDDED_BROKER_HOST, port: config.EMBEDDED_BROKER_PORT, accounts, logger });
    shutdown.register('embedded broker', () => broker.close());
    overlay.MQTT_URL = broker.url;
    overlay.MQTT_PROTOCOL_VERSION = '4';
  }
  const aggregator = await startAggregator(aggregatorConfig, logger.child({ component: 'aggregator' }), shutdown);
  shutdown.register('aggregator', () => aggregator.stop());
  const rules = await startRules(loadConfig(rulesConfigSchema, { ...overlay, OPS_PORT: String(config.RULES_OPS_PORT), MQTT_USERNAME: 'rules', MQTT_PASSWORD: config.RULES_MQTT_PASSWORD, MQTT_CLIENT_ID: '' }, 'rules'), logger.child({ component: 'rules' }), shutdown);
  shutdown.register('rules', () => rules.stop());
  let receiverUrl: string | undefined;
  if (config.RECEIVER) {
    // The same secret the reporting service signs with, so the demo's submissions verify.
    const secret = env.SPARING_SECRET || 'sparing-dev-secret';
    const receiver = await startReceiver({ port: config.RECEIVER_PORT, secretOf: () => secret });
    shutdown.register('receiver', () => receiver.close());
    receiverUrl = receiver.url;
    overlay.SPARING_URL = env.SPARING_URL || `${receiver.url}/sparing`;
    overlay.SISPEK_URL = env.SISPEK_URL || `${receiver.url}/sispek`;
  }
  if (config.REPORTING) {
    const reporting = await startReporting(loadConfig(reportingConfigSchema, reportingEnv(), 'reporting'), logger.child({ component: 'reporting' }), shutdown);
    shutdown.register('reporting', () => reporting.stop());
  }
  let consoleUrl: string | undefined;
  if (consoleConfig) {
    const consoleService = await startConsole(consoleConfig, logger.child({ component: 'console' }), shutdown);
    shutdown.register('console', () => consoleService.stop());
    consoleUrl = consoleService.url;
  }
  // Ingest last: it is the one that takes input, and it stops first.
  const ingestConfig = loadConfig(ingestConfigSchema, { ...overlay, OPS_PORT: String(config.INGEST_OPS_PORT), MQTT_CLIENT_ID: env.MQTT_CLIENT_ID ?? '', MQTT_USERNAME: 'ingest', MQTT_PASSWORD: config.INGEST_MQTT_PASSWORD }, 'ingest');
  const ingest = await startIngest(ingestConfig, logger.child({ component: 'ingest' }), shutdown);
  shutdown.register('ingest', () => ingest.stop());
  if (config.SIMULATOR && config.EMBEDDED_BROKER && overlay.MQTT_URL) {
    const sim = startSimulator(config, overlay.MQTT_URL, logger.child({ component: 'simulator' }));
    // Registered last, so it stops first: no readings arrive at a stopping ingest.
    shutdown.register('simulator', sim.stop);
  }
  const ops = (port: number): string => `http://127.0.0.1:${port}`;
  logger.info({ console: consoleUrl, mqtt: overlay.MQTT_URL, ingest: ops(ingest.opsPort), aggregator: ops(aggregator.opsPort), rules: ops(rules.opsPort), receiver: receiverUrl && `${receiverUrl}/submissions`, data: config.DATA_DIR }, 'EIP telemetry running (embedded mode); Ctrl-C stops it');
  if (consoleUrl && !env.CONSOLE_USERS) {
    // The dev users file ships with known passwords: fine on a laptop, named as such.
    logger.info({ console: consoleUrl, operator: 'operator / operator-dev-secret', viewer: 'viewer / viewer-dev-secret', admin: 'admin / admin-dev-secret' }, `open ${consoleUrl} and sign in as operator / operator-dev-secret (development users; set CONSOLE_USERS for real ones)`);
  }
  return { mqttUrl: overlay.MQTT_URL ?? '', ingestOpsPort: ingest.opsPort, aggregatorOpsPort: aggregator.opsPort, rulesOpsPort: rules.opsPort, ...(consoleUrl !== undefined && { consoleUrl }), ...(receiverUrl !== undefined && { receiverUrl }) };
}

/** The simulator runs as a child process (it is a CLI of its own); its output joins this log stream. */
function startSimulator(config: AllInOneConfig, mqttUrl: string, logger: Logger): { stop: () => Promise<void> } {
  const args = ['simulators/park-sim.ts', '--url', mqttUrl, '--protocol', '4', '--mode', 'realtime', '--registry', config.PARK_REGISTRY,
    '--seed', String(config.SIMULATOR_SEED), '--progress', '60', ...(config.SIMULATOR_SCENARIO ? ['--scenario', config.SIMULATOR_SCENARIO] : []),
    ...(config.SIMULATOR_BACKFILL_MINUTES > 0 ? ['--backfill', `${config.SIMULATOR_BACKFILL_MINUTES}m`] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', (code, signal) => {
    logger.info({ code, signal }, 'simulator stopped');
    resolve();
  }));
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => logger.info(line));
  logger.info({ scenario: config.SIMULATOR_SCENARIO || null, backfillMinutes: config.SIMULATOR_BACKFILL_MINUTES }, 'simulator started (the past hour at once, then real time; simulated: true on every reading)');
  return {
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain({
    service: 'eip',
    summary: [
      'the whole pipeline on a bare machine: embedded MQTT broker, SQLite bus and store, ingest, aggregator, rules, reporting (with a stand-in receiver), the console (web UI) and the park simulator.',
      'Each part also reads its own service\'s variables (services/*/README.md); to use real servers instead of the embedded ones:',
      '  Kafka:     BUS=kafka KAFKA_BROKERS=127.0.0.1:9092',
      '  InfluxDB:  TIMESERIES=influxdb INFLUX_URL=http://127.0.0.1:8086 INFLUX_TOKEN=... INFLUX_ORG=eip INFLUX_BUCKET=telemetry',
      '  Mosquitto: EMBEDDED_BROKER=false SIMULATOR=false MQTT_URL=mqtt://127.0.0.1:1883 MQTT_PROTOCOL_VERSION=5',
      '(npm run infra -- up starts all three locally.)',
    ].join('\n'),
    schema: allInOneConfigSchema,
    start: async (config, ctx) => { await start(config, ctx); },
  });
}
