import { z } from 'zod';
import { envBool, envInt, envString } from '../../shared/config/env.ts';
import { commonEnv } from '../../shared/config/common.ts';
import { registryEnv, dataEnv } from '../../shared/config/adapters-env.ts';

/**
 * The one-command mode's own settings. Each service inside it reads its usual
 * variables too (see their READMEs): set BUS=kafka, TIMESERIES=influxdb or
 * MQTT_URL to point a part at real servers instead of the embedded ones.
 */
export const allInOneConfigSchema = z.object({
  NODE_ENV: commonEnv.NODE_ENV,
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  STALL_TIMEOUT_MS: commonEnv.STALL_TIMEOUT_MS,
  ...dataEnv,
  ...registryEnv,
  EMBEDDED_BROKER: envBool('start the embedded MQTT broker (aedes, MQTT 3.1.1); false to use MQTT_URL as it is', { default: true }),
  EMBEDDED_BROKER_HOST: envString('address the embedded broker binds to', { default: '127.0.0.1' }),
  EMBEDDED_BROKER_PORT: envInt('port of the embedded broker (0 picks a free one)', { default: 1883, min: 0, max: 65_535 }),
  MQTT_CREDENTIALS: envString('MQTT accounts of the embedded broker: a credential store (npm run mqtt:credentials; then set INGEST_MQTT_PASSWORD and RULES_MQTT_PASSWORD, and SIMULATOR=false) or the development template', { default: 'infra/dev-credentials.json', credentialsFile: true, usedWhen: (c) => c.EMBEDDED_BROKER === true }),
  INGEST_MQTT_PASSWORD: envString('MQTT password of the ingest inside (user ingest)', { default: 'ingest-dev-secret', secret: true }),
  RULES_MQTT_PASSWORD: envString('MQTT password of the rules service inside (user rules)', { default: 'rules-dev-secret', secret: true }),
  SIMULATOR: envBool('run the park simulator (simulators/park-sim.ts, real time, tenants\' own credentials) against the embedded broker', { default: true }),
  SIMULATOR_SCENARIO: envString('scenario the simulator plays (empty: none)', { default: 'simulators/scenarios/npm-start.yaml', minLength: 0 }),
  SIMULATOR_BACKFILL_MINUTES: envInt('minutes of the past the simulator publishes at once before running live, so charts and alerts have a history (0: none)', { default: 60, min: 0, max: 1_440 }),
  SIMULATOR_SEED: envInt('simulator seed: the same seed gives the same readings', { default: 1, min: 0, max: 2_147_483_647 }),
  INGEST_OPS_PORT: envInt('ops port (/healthz /readyz /metrics) of the ingest inside', { default: 9464, min: 0, max: 65_535 }),
  AGGREGATOR_OPS_PORT: envInt('ops port of the aggregator inside', { default: 9465, min: 0, max: 65_535 }),
  RULES_OPS_PORT: envInt('ops port of the rules service inside', { default: 9466, min: 0, max: 65_535 }),
  CONSOLE: envBool('run the console (web UI and API) inside', { default: true }),
  CONSOLE_PORT: envInt('port of the console (0 picks a free one)', { default: 8080, min: 0, max: 65_535 }),
  CONSOLE_OPS_PORT: envInt('ops port of the console inside', { default: 9467, min: 0, max: 65_535 }),
  REPORTING: envBool('run the reporting service (SPARING and SISPEK-style submissions) inside', { default: true }),
  REPORTING_OPS_PORT: envInt('ops port of the reporting service inside', { default: 9468, min: 0, max: 65_535 }),
  RECEIVER: envBool('run the stand-in SPARING and SISPEK receiver (simulators/receiver) inside, and point the reporting service at it unless SPARING_URL or SISPEK_URL say otherwise', { default: true }),
  RECEIVER_PORT: envInt('port of the stand-in receiver (0 picks a free one); its GET /submissions lists what it got', { default: 9480, min: 0, max: 65_535 }),
});

export type AllInOneConfig = z.infer<typeof allInOneConfigSchema>;
