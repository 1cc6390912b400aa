import { z } from 'zod';
import { envInt, envList, envString } from '../../shared/config/env.ts';
import { ingestScopePattern } from '../../shared/contracts/mqtt-topics.ts';
import { commonEnv, opsPort } from '../../shared/config/common.ts';
import { busEnv, mqttEnv, registryEnv, timeSeriesEnv } from '../../shared/config/adapters-env.ts';
import { defaultSpoolMemoryBytes } from './spool.ts';
import { ownedClientId } from '../../shared/adapters/mqtt/client-id.ts';

export const ingestConfigSchema = z.object({
  ...commonEnv,
  ...opsPort(9464),
  ...mqttEnv('ingest'),
  ...busEnv,
  ...timeSeriesEnv,
  ...registryEnv,
  MQTT_CLIENT_ID: envString('stable MQTT client id of this instance: the broker keeps its session (and queued readings) under this id; MQTT_USERNAME or MQTT_USERNAME:<name> (default: MQTT_USERNAME:HOSTNAME-<digest of MQTT_PASSWORD and host>, not guessable)', { default: '', minLength: 0 }),
  INGEST_SCOPES: envList('what this instance takes (plain persistent subscriptions): parks or park/tenant pairs, + for every park; instances split the parks or tenants between them', { default: '+', item: ingestScopePattern, itemHint: 'park, park/tenant or +' }),
  MQTT_PROBE_INTERVAL_MS: envInt('time between subscription probes (a message to this instance\'s own probe topic that must come back)', { default: 5000, min: 100, max: 3_600_000 }),
  MQTT_PROBE_TIMEOUT_MS: envInt('silence with a probe outstanding after which the subscription counts as lost: ingest is not ready and reconnects on a fresh connection', { default: 5000, min: 100, max: 600_000 }),
  MQTT_SESSION_EXPIRY_SECONDS: envInt('MQTT 5: how long the broker keeps this instance\'s session and queue while it is away', { default: 7 * 86_400, min: 60, max: 4_294_967_295 }),
  MQTT_RECEIVE_MAXIMUM: envInt('MQTT 5: unacknowledged QoS 1 messages the broker may send at once; bounds what is in flight between the broker and the spool (a burst is written to the spool before its acknowledgements leave)', { default: 2000, min: 1, max: 65_535 }),
  SPOOL_DIR: envString('durable spool folder of this instance (default: DATA_DIR/spool/MQTT_CLIENT_ID)', { default: '' , minLength: 0 }),
  BATCH_MAX_MESSAGES: envInt('largest batch of MQTT messages drained to the sinks at once; at most two are in flight (one at the store, one on the bus), their records counted in SPOOL_MEMORY_BYTES (what they become, points and Kafka records, is not)', { default: 5000, min: 1, max: 100_000 }),
  MAX_PENDING_MESSAGES: envInt('backpressure bound: spooled messages not yet in both sinks before acknowledgements are held', { default: 200_000, min: 10, max: 50_000_000 }),
  MAX_PENDING_BYTES: envInt('backpressure bound by size: spooled bytes not yet in both sinks before acknowledgements are held (size it below the spool disk\'s free space)', { default: 1024 ** 3, min: 1024 * 1024, max: 1024 ** 4 }),
  SPOOL_MEMORY_BYTES: envInt('memory the spool may hold for records read ahead or in the batches being written; a larger backlog stays on disk and is read back in order, so memory does not grow with it', { default: defaultSpoolMemoryBytes, min: 64 * 1024, max: 4 * 1024 ** 3 }),
  MAX_PAYLOAD_BYTES: envInt('larger MQTT payloads are dead-lettered as oversized', { default: 65_536, min: 256, max: 268_435_455 }),
  // 29 days: a day under the 30-day retention of the raw bucket infra/ creates, so a reading
  // still spooled through a day's outage is not beyond retention when InfluxDB gets it.
  MAX_PAST_MS: envInt('readings older than this before their receive time are dead-lettered as past-timestamp; keep it under the raw bucket\'s retention', { default: 29 * 86_400_000, min: 60_000, max: 100 * 365 * 86_400_000 }),
  MAX_FUTURE_MS: envInt('readings further in the future than this are dead-lettered', { default: 300_000, min: 0, max: 86_400_000 }),
  DEDUP_WINDOW: envInt('sequence numbers remembered per meter to drop duplicates', { default: 1024, min: 1, max: 1_000_000 }),
});

export type IngestConfig = z.infer<typeof ingestConfigSchema>;

export const clientIdOf = (config: IngestConfig): string =>
  ownedClientId({ username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD, configured: config.MQTT_CLIENT_ID, variable: 'MQTT_CLIENT_ID' });
