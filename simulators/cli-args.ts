/** Flags of park-sim, parsed and checked before any I/O; UsageError means exit 2. */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { demoParkPath } from '../shared/contracts/park-registry.ts';
import { parseDuration } from './domain/duration.ts';

export const defaultCredentialsPath = fileURLToPath(new URL('../infra/dev-credentials.json', import.meta.url));

export interface SimOptions {
  help: boolean;
  registry: string;
  credentials: string;
  url: string;
  protocol: 4 | 5;
  seed: number;
  mode: 'realtime' | 'accelerated';
  speed: number;
  /** Only for accelerated runs; realtime runs start now. */
  startMs: number | null;
  durationMs: number | null;
  scenario: string | null;
  meters: RegExp | null;
  progressSeconds: number;
}

export class UsageError extends Error {}

export const helpText = `park-sim: simulated meters of an eco-industrial park, publishing over MQTT

Usage: node --import tsx simulators/park-sim.ts [flags]

  --registry FILE        park registry (default: shared/parks/demo-park.json)
  --credentials FILE     MQTT credentials; tenant passwords from tenantPassword
                         (default: infra/dev-credentials.json)
  --url URL              broker (default: mqtt://127.0.0.1:1883)
  --protocol 4|5         MQTT protocol version (default: 4, works with both brokers)
  --seed N               PRNG seed; the same seed gives the same readings (default: 1)
  --mode realtime|accelerated
                         realtime: event time is the wall clock (default)
                         accelerated: event time runs --speed times faster
  --speed N              accelerated: simulated seconds per wall second (default: 60)
  --start ISO            accelerated: simulated start time (default: now)
  --duration D           simulated time to run, e.g. 30m, 2h, 1d (default: forever)
  --scenario FILE        scenario timeline, YAML or JSON; an entry sets a value
                         (set) or a fault: spike, drift, stuck, silent/dropout,
                         register-reset, duplicate, malformed, out-of-order (held
                         for the span, sent shuffled), late-burst (held for the
                         span, resent at once with original ts and seq),
                         clock-skew (ts off by offset: "+10m", "-2h"), rollover
                         (register wraps at modulus); see simulators/README.md
  --meters REGEX         only meters whose id matches
  --progress SECONDS     progress line on stderr every SECONDS (default: 5; 0 = off)
  -h, --help             this text

Progress goes to stderr; a JSON summary goes to stdout at the end.
Exit codes: 0 ok, 1 runtime failure (e.g. broker unreachable), 2 bad flags or files.
`;

function num(name: string, text: string | undefined, fallback: number, check: (n: number) => boolean): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: "${text}" is not valid`);
  return n;
}

export function parseSimArgs(argv: readonly string[]): SimOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        registry: { type: 'string' },
        credentials: { type: 'string' },
        url: { type: 'string' },
        protocol: { type: 'string' },
        seed: { type: 'string' },
        mode: { type: 'string' },
        speed: { type: 'string' },
        start: { type: 'string' },
        duration: { type: 'string' },
        scenario: { type: 'string' },
        meters: { type: 'string' },
        progress: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const mode = values.mode ?? 'realtime';
  if (mode !== 'realtime' && mode !== 'accelerated') throw new UsageError(`--mode: "${mode}" is neither realtime nor accelerated`);
  if (mode === 'realtime' && values.speed !== undefined) throw new UsageError('--speed needs --mode accelerated');
  const protocol = num('protocol', values.protocol, 4, (n) => n === 4 || n === 5) as 4 | 5;
  let startMs: number | null = null;
  if (values.start !== undefined) {
    if (mode !== 'accelerated') throw new UsageError('--start needs --mode accelerated (realtime runs start now)');
    startMs = /(Z|[+-]\d{2}:?\d{2})$/.test(values.start) ? Date.parse(values.start) : Number.NaN;
    if (Number.isNaN(startMs)) throw new UsageError(`--start: "${values.start}" is not an ISO time with a zone`);
  }
  let durationMs: number | null = null;
  if (values.duration !== undefined) {
    durationMs = parseDuration(values.duration);
    if (durationMs === null || durationMs <= 0) throw new UsageError(`--duration: "${values.duration}" is not a duration (e.g. 30m, 2h)`);
  }
  let meters: RegExp | null = null;
  if (values.meters !== undefined) {
    try {
      meters = new RegExp(values.meters);
    } catch (err) {
      throw new UsageError(`--meters: ${(err as Error).message}`);
    }
  }
  return {
    help: values.help ?? false,
    registry: values.registry ?? demoParkPath,
    credentials: values.credentials ?? defaultCredentialsPath,
    url: values.url ?? 'mqtt://127.0.0.1:1883',
    protocol,
    seed: num('seed', values.seed, 1, (n) => Number.isInteger(n) && n >= 0),
    mode,
    speed: mode === 'realtime' ? 1 : num('speed', values.speed, 60, (n) => n > 0),
    startMs,
    durationMs,
    scenario: values.scenario ?? null,
    meters,
    progressSeconds: num('progress', values.progress, 5, (n) => n >= 0),
  };
}
