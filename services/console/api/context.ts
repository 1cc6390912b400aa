/** What the API routes need, handed in by the composition root (main.ts) or a test. */
import type { EventBus } from '../../../shared/ports/event-bus.ts';
import type { TimeSeriesStore } from '../../../shared/ports/time-series.ts';
import type { RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import type { Logger } from '../../../shared/observability/logger.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { ConsoleModels } from '../console-models.ts';
import type { AlertView, RulePackView } from './schemas.ts';

export interface UiFile {
  body: Buffer;
  contentType: string;
}

export interface ApiContext {
  registry: RegistryIndex;
  models: ConsoleModels;
  store: TimeSeriesStore;
  bus: EventBus;
  auth: Authenticator;
  pack: RulePackView;
  /** Rule ids of deadman rules: an open alert of one marks its meter offline. */
  deadmanRules: ReadonlySet<string>;
  onAlert: (listener: (view: AlertView) => void) => () => void;
  logger: Logger;
  ui?: Map<string, UiFile> | undefined;
  /** Served over HTTPS (Secure cookies, HSTS). */
  secureCookies: boolean;
  /** Proxies whose X-Forwarded-For names the client (addresses or CIDRs); empty: the socket's address. */
  trustProxy?: string[] | undefined;
  sessionTtlMs: number;
  heartbeatMs: number;
  now: () => number;
}
