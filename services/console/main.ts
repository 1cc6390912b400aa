/**
 * Console: the park operators' HTTP API and web UI. Reads alerts, commands,
 * meter status and dead letters from the bus into memory, series from the
 * time-series store, and sends operators' commands to eip.alert-commands.v1.
 */
import { randomBytes } from 'node:crypto';
import { unwatchFile, watchFile } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { runMain, type MainContext } from '../../shared/runtime/run-main.ts';
import { loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { createBus, createStore } from '../../shared/adapters/select.ts';
import { createMetricsRegistry } from '../../shared/observability/metrics.ts';
import { startOpsServer } from '../../shared/observability/ops-server.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { StageMonitor } from '../../shared/runtime/stage-monitor.ts';
import { supervisedBus } from '../../shared/runtime/supervised-bus.ts';
import { failureCheck, type Supervisor } from '../../shared/runtime/supervisor.ts';
import { consoleConfigSchema, trustedProxies, type ConsoleConfig } from './config.ts';
import { loadUsersFile } from './auth/users-file.ts';
import { Authenticator } from './auth/authenticator.ts';
import { createModels } from './console-models.ts';
import { LiveFeeds } from './live-feeds.ts';
import { loadRulePackView } from './rule-pack-view.ts';
import { createConsoleServer } from './api/server.ts';
import type { UiFile } from './api/context.ts';
import { createConsoleMetrics } from './metrics.ts';

export interface RunningConsole {
  port: number;
  url: string;
  opsPort: number;
  stop(): Promise<void>;
}

async function loadUi(logger: Logger): Promise<Map<string, UiFile> | undefined> {
  const started = Date.now();
  // The UI is bundled in memory at start, so `npm start` needs no build step.
  const { buildUi } = await import('./ui/build.ts');
  const files = await buildUi({ minify: true });
  logger.info({ ms: Date.now() - started, files: files.size, bytes: [...files.values()].reduce((n, f) => n + f.body.length, 0) }, 'web UI bundled');
  return files;
}

export async function startConsole(config: ConsoleConfig, logger: Logger, supervisor: Supervisor): Promise<RunningConsole> {
  const registry = loadParkRegistry(config.PARK_REGISTRY);
  const users = loadUsersFile(config.CONSOLE_USERS);
  const { view: pack, deadmanRules } = loadRulePackView(config.RULE_PACK);
  const secret = config.CONSOLE_SESSION_SECRET || randomBytes(32).toString('hex');
  if (!config.CONSOLE_SESSION_SECRET) logger.info('CONSOLE_SESSION_SECRET not set: a random key signs sessions, so sign-ins end when the console restarts');
  const ui = config.CONSOLE_UI ? await loadUi(logger) : undefined;

  const metricsRegistry = createMetricsRegistry('console');
  const monitor = new StageMonitor({ stallTimeoutMs: config.STALL_TIMEOUT_MS, registry: metricsRegistry });
  const bus = supervisedBus(createBus(config, 'console', logger), { supervisor, monitor });
  const store = createStore(config, logger);
  const models = createModels({ deadLettersKept: config.CONSOLE_DEAD_LETTERS_KEPT, historyPerAlert: config.CONSOLE_ALERT_HISTORY });
  const metrics = createConsoleMetrics(metricsRegistry, models);
  const now = Date.now;
  const auth = new Authenticator({ users, secret, sessionTtlMs: config.CONSOLE_SESSION_TTL_MS });
  const flagWeak = (): void => {
    const weak = auth.weakHashes();
    if (weak.length > 0) logger.warn({ users: weak }, 'password hashes below the current scrypt cost: they verify, but make new ones with `npm run console:hash`');
  };
  flagWeak();
  // A password changed, a user or token removed in the file: in force within seconds, without a restart.
  watchFile(config.CONSOLE_USERS, { interval: 5_000, persistent: false }, (cur, prev) => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size) return;
    try {
      const next = loadUsersFile(config.CONSOLE_USERS);
      auth.reload(next);
      logger.info({ users: next.users.length, tokens: next.tokens.length }, 'users file reloaded');
      flagWeak();
    } catch (err) {
      logger.error({ err }, 'users file changed but cannot be used; keeping the previous one');
    }
  });
  const feeds = new LiveFeeds({ bus, models, logger, onRecordRejected: (topic, reason) => metrics.recordsSkipped.inc({ topic, reason }), onSessionEvent: (e) => auth.applySessionEvent(e) });
  const app = await createConsoleServer({
    registry, models, store, bus, pack, deadmanRules, logger, ui, now, auth,
    onAlert: (l) => feeds.onAlert(l),
    secureCookies: config.CONSOLE_SECURE_COOKIES,
    trustProxy: trustedProxies(config),
    sessionTtlMs: config.CONSOLE_SESSION_TTL_MS,
    heartbeatMs: config.CONSOLE_SSE_HEARTBEAT_MS,
  });
  let started = false;
  const ops = await startOpsServer({
    host: config.OPS_HOST, port: config.OPS_PORT, registry: metricsRegistry, logger,
    checks: { started: () => started, loops: failureCheck(supervisor), progress: monitor.check, bus: () => bus.ping(), timeseries: () => store.ping() },
  });
  await feeds.start();
  await app.listen({ host: config.CONSOLE_HOST, port: config.CONSOLE_PORT });
  started = true;
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${config.CONSOLE_HOST === '0.0.0.0' ? '127.0.0.1' : config.CONSOLE_HOST}:${port}/`;
  logger.info({ url, users: users.users.length, tokens: users.tokens.length, parks: registry.registry.parks.length, rules: pack.rules.length }, 'console running');
  return {
    port, url, opsPort: ops.port,
    stop: async () => {
      ops.setShuttingDown();
      unwatchFile(config.CONSOLE_USERS);
      // Open event streams would hold close() forever: end them first.
      await Promise.allSettled([feeds.stop(), app.close()]);
      monitor.stop();
      await Promise.allSettled([bus.close(), store.close(), ops.close()]);
    },
  };
}

export async function start(config: ConsoleConfig, ctx: MainContext): Promise<void> {
  const running = await startConsole(config, ctx.logger, ctx.shutdown);
  ctx.shutdown.register('console', () => running.stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain({ service: 'console', summary: 'park operators\' HTTP API and web UI (alerts, parks, meters, series, rule pack, dead letters)', schema: consoleConfigSchema, start });
}
