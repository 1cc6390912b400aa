/**
 * A console wired to the embedded adapters for tests: a two-park registry, a
 * users file with one user per role (and one limited to park A), the SQLite bus
 * and store in a temp folder, the live feeds running.
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/sqlite-bus.ts';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { RegistryIndex, parseParkRegistry } from '../../shared/contracts/park-registry.ts';
import { createLogger } from '../../shared/observability/logger.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { Authenticator } from './auth/authenticator.ts';
import { hashPassword, hashToken, type ScryptCost } from './auth/secrets.ts';
import type { SignInLimits } from './auth/sign-in-limiter.ts';
import { usersFileSchema, type UsersFile } from './auth/users-file.ts';
import { createModels, type ConsoleModels } from './console-models.ts';
import { LiveFeeds } from './live-feeds.ts';
import { loadRulePackView } from './rule-pack-view.ts';
import { createConsoleServer } from './api/server.ts';

export const testToken = 'eipt_test-operator-token';
export const password = (user: string): string => `${user}-test-password`;
/** Test users' hashes at a low cost, so the suites do not spend seconds on scrypt; the current cost has its own test. */
export const testCost: ScryptCost = { N: 1024, r: 8, p: 1 };

export const twoParks = {
  version: 1,
  parks: ['park-a', 'park-b'].map((id) => ({
    id, name: `Park ${id}`, country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.8, source: 'test' } },
    budgets: { monthlyKgCo2e: 1_000_000, dailyWaterIntakeM3: 100 },
    tenants: [
      {
        id: `${id}-smelter`, name: 'Smelter', sector: 'metals', supplySource: 'grid', budgets: { monthlyKgCo2e: 500_000 },
        meters: [
          { id: `${id}-elec`, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import', 'active_power'] },
          { id: `${id}-outlet`, kind: 'wastewater-quality', cadenceSeconds: 120, metrics: ['ph', 'cod'], limits: { ph: { min: 6, max: 9, source: 'permit' }, cod: { max: 100, source: 'permit' } } },
        ],
      },
    ],
  })),
};

export interface TestConsole {
  app: FastifyInstance;
  bus: EventBus;
  store: TimeSeriesStore;
  models: ConsoleModels;
  feeds: LiveFeeds;
  auth: Authenticator;
  users: UsersFile;
  /** The temp folder holding bus.sqlite and ts.sqlite (another service may open the same bus as DATA_DIR). */
  dir: string;
  close(): Promise<void>;
}

export interface TestConsoleOptions {
  now?: () => number;
  logLines?: string[];
  heartbeatMs?: number;
  limits?: SignInLimits;
  /** More users (password: password(name)). */
  users?: Array<{ name: string; role: 'viewer' | 'operator' | 'admin'; parks: string[] }>;
  /** Rule pack file (default: the rules service's default pack). */
  rulePack?: string;
  /** More API tokens. */
  tokens?: Array<{ name: string; role: 'viewer' | 'operator' | 'admin'; parks: string[]; token: string }>;
  /** The web UI to serve (default: a stub page); browser tests pass buildUi()'s. */
  ui?: Map<string, { body: Buffer; contentType: string }>;
  /** The park registry (parsed JSON; default: twoParks). */
  registry?: unknown;
}

export async function startTestConsole(options: TestConsoleOptions = {}): Promise<TestConsole> {
  const dir = mkdtempSync(join(tmpdir(), 'eip-console-'));
  const lines = options.logLines;
  const logger = lines ? createLogger('console-test', 'debug', { write: (line) => { lines.push(line); } }) : createLogger('console-test', 'silent');
  const registry = new RegistryIndex(parseParkRegistry(options.registry ?? twoParks));
  const users = usersFileSchema.parse({
    version: 1,
    users: await Promise.all([
      { name: 'ada', role: 'admin', parks: ['*'] },
      { name: 'olu', role: 'operator', parks: ['*'] },
      { name: 'vic', role: 'viewer', parks: ['*'] },
      { name: 'ana', role: 'operator', parks: ['park-a'] },
      ...(options.users ?? []),
    ].map(async (u) => ({ ...u, passwordHash: await hashPassword(password(u.name), testCost) }))),
    tokens: [
      { name: 'robot', role: 'operator', parks: ['park-b'], tokenHash: hashToken(testToken) },
      ...(options.tokens ?? []).map(({ token, ...t }) => ({ ...t, tokenHash: hashToken(token) })),
    ],
  });
  writeFileSync(join(dir, 'users.json'), JSON.stringify(users));
  const bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger, pollIntervalMs: 20 });
  const store = createSqliteStore({ path: join(dir, 'ts.sqlite'), logger });
  const models = createModels({ deadLettersKept: 100, historyPerAlert: 20 });
  const now = options.now ?? Date.now;
  const auth = new Authenticator({ users, secret: 'test-secret-0123456789', sessionTtlMs: 3_600_000, now, ...(options.limits && { limits: options.limits }) });
  const feeds = new LiveFeeds({ bus, models, logger, onSessionEvent: (e) => auth.applySessionEvent(e), ...(options.now && { now: options.now }) });
  const { view: pack, deadmanRules } = loadRulePackView(options.rulePack ?? 'services/rules/rule-packs/default.yaml');
  const app = await createConsoleServer({
    registry, models, store, bus, pack, deadmanRules, logger, now, auth,
    ui: options.ui ?? new Map([['/', { body: Buffer.from('<!doctype html><title>console</title>'), contentType: 'text/html; charset=utf-8' }]]),
    onAlert: (l) => feeds.onAlert(l),
    secureCookies: false, sessionTtlMs: 3_600_000, heartbeatMs: options.heartbeatMs ?? 60_000,
  });
  await feeds.start();
  return {
    app, bus, store, models, feeds, auth, users, dir,
    close: async () => {
      await feeds.stop();
      await app.close().catch(() => undefined);
      await bus.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
