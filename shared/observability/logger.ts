import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const redactPaths = ['password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', 'req.headers.cookie'];

/** JSON logs on stdout, one line per event; secrets are redacted by key name. */
export function createLogger(service: string, level: LevelWithSilent = 'info', destination?: { write(line: string): void }): Logger {
  const options = {
    name: service,
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** For tests and benchmarks: a logger that writes nothing unless LOG_LEVEL says otherwise. */
export function quietLogger(service = 'test'): Logger {
  const level = (process.env.LOG_LEVEL ?? 'silent') as LevelWithSilent;
  return createLogger(service, level);
}
