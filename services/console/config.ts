import { z } from 'zod';
import { envBool, envInt, envSecret, envString } from '../../shared/config/env.ts';
import { commonEnv, opsPort } from '../../shared/config/common.ts';
import { busEnv, registryEnv, timeSeriesEnv } from '../../shared/config/adapters-env.ts';

export const consoleConfigSchema = z.object({
  ...commonEnv,
  ...opsPort(9467),
  ...busEnv,
  ...timeSeriesEnv,
  ...registryEnv,
  CONSOLE_HOST: envString('address the console (web UI and API) binds to', { default: '127.0.0.1' }),
  CONSOLE_PORT: envInt('port of the console (0 picks a free one)', { default: 8080, min: 0, max: 65535 }),
  CONSOLE_USERS: envString('users and API tokens file (JSON, hashed secrets); see services/console/README.md', { default: 'services/console/dev-users.json', credentialsFile: true }),
  CONSOLE_SESSION_SECRET: envSecret('key that signs session cookies (16+ characters; instances behind one load balancer share it); empty: a random key per start, so sessions end on restart', { default: '', minLength: 0 }),
  CONSOLE_SESSION_TTL_MS: envInt('how long a sign-in lasts', { default: 12 * 3_600_000, min: 60_000, max: 30 * 86_400_000 }),
  CONSOLE_SECURE_COOKIES: envBool('served over HTTPS: mark the session cookie Secure and send Strict-Transport-Security (set true behind HTTPS)', { default: false }),
  CONSOLE_TRUST_PROXY: envString('comma-separated reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client, so sign-in limits apply per client rather than per proxy; empty: the connecting address', { default: '', minLength: 0 }),
  CONSOLE_DEAD_LETTERS_KEPT: envInt('how many recent dead letters the console keeps in memory to show', { default: 500, min: 1, max: 100_000 }),
  CONSOLE_ALERT_HISTORY: envInt('transitions kept per alert for the detail view', { default: 50, min: 1, max: 10_000 }),
  CONSOLE_SSE_HEARTBEAT_MS: envInt('interval of keep-alive comments on the live alert stream (proxies close idle connections)', { default: 15_000, min: 1_000, max: 300_000 }),
  RULE_PACK: envString('rule pack (YAML) shown on the rule pack page; the one the rules service runs', { default: 'services/rules/rule-packs/default.yaml' }),
  CONSOLE_UI: envBool('serve the web UI (false: API only)', { default: true }),
}).superRefine((c, ctx) => {
  if (c.CONSOLE_SESSION_SECRET !== '' && c.CONSOLE_SESSION_SECRET.length < 16) ctx.addIssue({ code: 'custom', path: ['CONSOLE_SESSION_SECRET'], message: 'must be at least 16 characters (or empty for a random key)' });
});

export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

/** What `npm run report` reads: the console's own bus, store and registry settings (the same variables). */
export const reportConfigSchema = z.object({ ...commonEnv, ...busEnv, ...timeSeriesEnv, ...registryEnv });

export const trustedProxies = (config: ConsoleConfig): string[] => config.CONSOLE_TRUST_PROXY.split(',').map((s) => s.trim()).filter(Boolean);
