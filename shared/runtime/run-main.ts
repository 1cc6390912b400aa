/**
 * What every composition root (services/<name>/main.ts) does first: answer
 * --help from the config schema, validate the environment before any I/O, and
 * turn a bad variable into a message that names it and a non-zero exit.
 */
import type { z } from 'zod';
import { EipError } from '../errors.ts';
import { loadConfig, variablesHelp, type EnvSchema } from '../config/env.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { createShutdown, type Shutdown } from './shutdown.ts';
import { logProcessWarnings } from './process-warnings.ts';

export interface MainContext {
  logger: Logger;
  shutdown: Shutdown;
}

export interface MainOptions<S extends EnvSchema> {
  service: string;
  summary: string;
  schema: S;
  /** Starts the service; registers its own shutdown steps. */
  start: (config: z.infer<S>, ctx: MainContext) => Promise<void>;
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage. */
export async function runMain<S extends EnvSchema>(options: MainOptions<S>): Promise<void> {
  const argv = options.argv ?? process.argv.slice(2);
  const env = options.env ?? process.env;
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${options.service}: ${options.summary}\n\nConfigured by environment variables:\n${variablesHelp(options.schema)}\n`);
    return;
  }
  const unknown = argv.filter((a) => a !== '--');
  if (unknown.length > 0) {
    process.stderr.write(`${options.service}: unknown argument ${unknown[0]}; settings are environment variables (see --help)\n`);
    process.exitCode = 2;
    return;
  }
  let config: z.infer<S>;
  try {
    config = loadConfig(options.schema, env, options.service);
  } catch (err) {
    if (err instanceof EipError && err.code === 'CONFIG_INVALID') {
      process.stderr.write(`${err.message}\nRun with --help to see every variable.\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const configured = (config as { LOG_LEVEL?: unknown }).LOG_LEVEL;
  const level = (typeof configured === 'string' ? configured : 'info') as Parameters<typeof createLogger>[1];
  const logger = createLogger(options.service, level);
  logProcessWarnings(logger);
  const shutdown = createShutdown(logger);
  // A promise or callback nobody handles belongs to some loop that has now stopped: fail, never carry on half dead.
  process.on('unhandledRejection', (reason) => { shutdown.fail('unhandled rejection', reason); });
  process.on('uncaughtException', (err) => { shutdown.fail('uncaught exception', err); });
  try {
    await options.start(config, { logger, shutdown });
  } catch (err) {
    if (err instanceof EipError && err.code === 'CONFIG_INVALID') {
      // A bad rule pack or registry is a configuration error too: say what, and exit 2.
      process.stderr.write(`${options.service}: ${err.message}\n`);
      await shutdown.shutdown('bad configuration');
      process.exit(2);
    }
    logger.fatal({ err }, 'failed to start');
    const code = await shutdown.shutdown('start failed');
    process.exit(code === 0 ? 1 : code);
  }
}
