import { z } from 'zod';
import { envBool, envInt, envSecret, envString } from '../../shared/config/env.ts';
import { commonEnv, opsPort } from '../../shared/config/common.ts';
import { busEnv, mqttEnv, registryEnv, timeSeriesEnv } from '../../shared/config/adapters-env.ts';
import { ownedClientId } from '../../shared/adapters/mqtt/client-id.ts';

export const rulesConfigSchema = z.object({
  ...commonEnv,
  ...opsPort(9466),
  ...busEnv,
  ...timeSeriesEnv,
  ...registryEnv,
  ...mqttEnv('rules'),
  RULE_PACK: envString('rule pack (YAML); see services/rules/rule-packs/README.md', { default: 'services/rules/rule-packs/default.yaml' }),
  RULES_GROUP: envString('consumer group on readings, aggregates, meter status and alert commands', { default: 'rules' }),
  TICK_INTERVAL_MS: envInt('how often silence (deadman), pending durations and flapping are re-evaluated', { default: 5_000, min: 100, max: 600_000 }),
  ALERTS_MQTT: envBool('publish alert transitions to eip/{park}/alerts/{severity} (QoS 1)', { default: true }),
  MQTT_CLIENT_ID: envString('MQTT client id of this instance: MQTT_USERNAME or MQTT_USERNAME:<name> (default: MQTT_USERNAME:HOSTNAME-<digest of MQTT_PASSWORD and host>, not guessable)', { default: '', minLength: 0 }),
  WEBHOOK_URLS: envSecret('comma-separated URLs that receive each transition in the Alertmanager webhook format (empty: none); secret, as their paths often carry a token: logs name their origin only', { default: '', minLength: 0, allowed: 'comma-separated http, https URLs' }),
  WEBHOOK_TIMEOUT_MS: envInt('timeout of one webhook POST', { default: 5_000, min: 100, max: 120_000 }),
  NOTIFY_MAX_AGE_MS: envInt('transitions older than this when the outputs stage reads them (a first start, a long outage) are recorded in history but not sent over MQTT or webhooks', { default: 15 * 60_000, min: 1_000, max: 30 * 86_400_000 }),
  RULES_BATCH_MAX: envInt('largest batch of input records handled at once', { default: 2_000, min: 1, max: 100_000 }),
}).superRefine((c, ctx) => {
  const bad = splitUrls(c.WEBHOOK_URLS).findIndex((u) => !/^https?:$/.test(URL.parse(u)?.protocol ?? ''));
  // Which one, by position: the value itself is secret.
  if (bad >= 0) ctx.addIssue({ code: 'custom', path: ['WEBHOOK_URLS'], message: `URL number ${bad + 1} is not an http or https URL` });
});

export type RulesConfig = z.infer<typeof rulesConfigSchema>;

const splitUrls = (list: string): string[] => list.split(',').map((s) => s.trim()).filter(Boolean);
export const webhookUrls = (config: RulesConfig): string[] => splitUrls(config.WEBHOOK_URLS);

export const rulesClientIdOf = (config: RulesConfig): string =>
  ownedClientId({ username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD, configured: config.MQTT_CLIENT_ID, variable: 'MQTT_CLIENT_ID' });
