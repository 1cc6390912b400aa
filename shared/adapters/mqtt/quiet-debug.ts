/**
 * MQTT.js's packet parser and writer (mqtt-packet) trace every step of every
 * packet through the `debug` module: some ten calls a message, each gathering
 * its arguments into an array before `debug` finds tracing off (1.3 KB and 1 %
 * of ingest's CPU a message, allocation and CPU profiles of `npm run
 * bench:ingest`). When DEBUG is unset nothing is ever traced, so a `debug`
 * whose functions do nothing takes its place in the module cache before
 * MQTT.js loads; with DEBUG set, the real one stays. Import this module before mqtt.
 */
import { createRequire } from 'node:module';
import { preloadCommonJs } from '../../runtime/preload-commonjs.ts';

interface QuietDebugger {
  (...args: unknown[]): void;
  enabled: boolean;
  namespace: string;
  log: (...args: unknown[]) => void;
  extend: (suffix: string, delimiter?: string) => QuietDebugger;
  destroy: () => boolean;
}

const noop = (): void => undefined;

function quietDebugger(namespace: string): QuietDebugger {
  return Object.assign(() => undefined, {
    enabled: false,
    namespace,
    log: noop,
    extend: (suffix: string, delimiter = ':') => quietDebugger(namespace + delimiter + suffix),
    destroy: () => false,
  });
}

interface QuietDebugModule {
  (namespace: string): QuietDebugger;
  default: QuietDebugModule;
  debug: QuietDebugModule;
  enable: (namespaces: string) => void;
  disable: () => string;
  enabled: (namespace: string) => boolean;
  coerce: (value: unknown) => unknown;
  humanize: (ms: number) => string;
  names: RegExp[];
  skips: RegExp[];
  formatters: Record<string, unknown>;
  inspectOpts: Record<string, unknown>;
  selectColor: (namespace: string) => number;
  log: (...args: unknown[]) => void;
}

/** The `debug` module's API with every namespace off. */
export const quietDebug: QuietDebugModule = Object.assign((namespace: string) => quietDebugger(namespace), {
  enable: noop,
  disable: () => '',
  enabled: () => false,
  coerce: (value: unknown) => value,
  humanize: (ms: number) => `${ms}ms`,
  names: [],
  skips: [],
  formatters: {},
  inspectOpts: {},
  selectColor: () => 0,
  log: noop,
}) as unknown as QuietDebugModule;
quietDebug.default = quietDebug;
quietDebug.debug = quietDebug;

/** mqtt-packet's own file: its require('debug') is resolved from there. */
export const mqttPacketFile = createRequire(import.meta.url).resolve('mqtt-packet');

/** False with DEBUG set, or when `debug` was loaded before this module. */
export const quietDebugInstalled = !process.env.DEBUG && preloadCommonJs(mqttPacketFile, 'debug', quietDebug);
