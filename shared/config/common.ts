import { envEnum, envInt, envString } from './env.ts';

/** Variables every service shares; spread into each service's schema. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const commonEnv = {
  NODE_ENV: envString('production refuses to start on a development secret, token, user file or session key, naming the variable; anything else starts with a warning', { default: 'development' }),
  LOG_LEVEL: envEnum('log level of the JSON logs on stdout', logLevels, { default: 'info' }),
  OPS_HOST: envString('address the /healthz, /readyz and /metrics server binds to', { default: '127.0.0.1' }),
  STALL_TIMEOUT_MS: envInt('a stage (the ingest spool, each consumer group) with work pending and no progress for this long makes /readyz fail, naming it (0: never)', { default: 60_000, min: 0, max: 86_400_000 }),
};

export const opsPort = (port: number) => ({ OPS_PORT: envInt('port of the /healthz, /readyz and /metrics server (0 picks a free one)', { default: port, min: 0, max: 65535 }) });
