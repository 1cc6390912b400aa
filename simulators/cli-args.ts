/** Flags of park-sim, parsed and checked before any I/O; UsageError means exit 2. */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { demoParkPath } from '../shared/contracts/park-registry.ts';
import { parseDuration } from './domain/duration.ts';
import { maxMetersPerTenant } from './domain/load-registry.ts';

export const defaultCredentialsPath = fileURLToPath(new URL('../infra/dev-credentials.json', import.meta.url));

/** What --mode load adds; the other modes have none of it. */
export interface LoadOptions {
  /** Synthetic meters (load-m0 ...), spread over the registry's tenants and generated ones. */
  meters: number;
  /** Readings per second over all meters, or as fast as the in-flight window allows. */
  rate: number | 'max';
  /** Messages to send; null: until --duration or an interrupt. */
  count: number | null;
  /** Publishes waiting for their PUBACK, at most. */
  inflight: number;
  /** Write the load registry here and exit, so brokers and services can be started on it first. */
  writeRegistry: string | null;
}

export interface SimOptions {
  help: boolean;
  registry: string;
  credentials: string;
  url: string;
  protocol: 4 | 5;
  seed: number;
  mode: 'realtime' | 'accelerated' | 'load';
  speed: number;
  /** Only for accelerated runs; realtime runs start now. */
  startMs: number | null;
  /** Realtime: how much of the past to publish at once before running live (0: none). */
  backfillMs: number;
  /** Simulated time; in load mode wall time. */
  durationMs: number | null;
  scenario: string | null;
  /** Realtime and accelerated: a filter on meter ids. */
  meters: RegExp | null;
  progressSeconds: number;
  load: LoadOptions | null;
}

export class UsageError extends Error {}

export const helpText = `park-sim: simulated meters of an eco-industrial park, publishing over MQTT

Usage: node simulators/park-sim.ts [flags]

  --registry FILE        park registry (default: shared/parks/demo-park.json)
  --credentials FILE     MQTT credentials; tenant passwords from tenantPassword
                         (default: infra/dev-credentials.json)
  --url URL              broker (default: mqtt://127.0.0.1:1883)
  --protocol 4|5         MQTT protocol version (default: 4, works with both brokers)
  --seed N               PRNG seed; the same seed gives the same readings (default: 1)
  --mode realtime|accelerated|load
                         realtime: event time is the wall clock (default)
                         accelerated: event time runs --speed times faster
                         load: synthetic meters publish as fast as --rate allows
  --speed N              accelerated: simulated seconds per wall second (default: 60)
  --start ISO            accelerated: simulated start time (default: now)
  --backfill D           realtime: first publish the last D (e.g. 1h) at once, then
                         run live; scenario times count from the backfill's start,
                         so charts and alerts have a past from the first minute
  --duration D           how long to run, e.g. 30m, 2h, 1d: simulated time, wall
                         time in load mode (default: forever)
  --scenario FILE        scenario timeline, YAML or JSON; an entry sets a value
                         (set) or a fault: spike, drift, stuck, silent/dropout,
                         register-reset, duplicate, malformed, out-of-order (held
                         for the span, sent shuffled), late-burst (held for the
                         span, resent at once with original ts and seq),
                         clock-skew (ts off by offset: "+10m", "-2h"), rollover
                         (register wraps at modulus); see simulators/README.md
  --meters REGEX         realtime, accelerated: only meters whose id matches
  --progress SECONDS     progress line on stderr every SECONDS (default: 5; 0 = off)
  -h, --help             this text

Load mode (--mode load):
  --meters N             synthetic meters load-m0 ... load-m<N-1>, modelled on the
                         registry's meters and spread over its tenants; beyond
                         ${maxMetersPerTenant} a tenant, over generated tenants load-t0 ... (default: 100)
  --rate R|max           readings per second over all meters, or max: as fast as
                         the in-flight window allows (default: 1000)
  --count N              messages to send, then stop (with --duration: whichever
                         comes first; neither: until interrupted)
  --inflight N           publishes awaiting their PUBACK, at most (default: 2000)
  --write-registry FILE  write the registry with the synthetic meters and tenants
                         to FILE and exit; start the broker and the services on it
                         (PARK_REGISTRY, EIP_PARK_REGISTRY), then run with
                         --registry FILE: ingest refuses meters it does not know
  A progress bar on stderr when it is a terminal, a plain line every --progress
  seconds otherwise: sent, acknowledged, rate, elapsed, ETA.

Progress goes to stderr; a JSON summary goes to stdout at the end.
Exit codes: 0 ok, 1 runtime failure (e.g. broker unreachable), 2 bad flags or files.
`;

function num(name: string, text: string | undefined, fallback: number, check: (n: number) => boolean): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: "${text}" is not valid`);
  return n;
}

function loadMeterCount(text: string | undefined): number {
  if (text === undefined) return 100;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--meters: "${text}" is not a number of meters (in load mode --meters counts meters; it filters them in the other modes)`);
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
        backfill: { type: 'string' },
        duration: { type: 'string' },
        scenario: { type: 'string' },
        meters: { type: 'string' },
        progress: { type: 'string' },
        rate: { type: 'string' },
        count: { type: 'string' },
        inflight: { type: 'string' },
        'write-registry': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const mode = values.mode ?? 'realtime';
  if (mode !== 'realtime' && mode !== 'accelerated' && mode !== 'load') throw new UsageError(`--mode: "${mode}" is none of realtime, accelerated, load`);
  if (mode !== 'accelerated' && values.speed !== undefined) throw new UsageError('--speed needs --mode accelerated');
  const protocol = num('protocol', values.protocol, 4, (n) => n === 4 || n === 5) as 4 | 5;
  let startMs: number | null = null;
  if (values.start !== undefined) {
    if (mode !== 'accelerated') throw new UsageError('--start needs --mode accelerated (realtime runs start now)');
    startMs = /(Z|[+-]\d{2}:?\d{2})$/.test(values.start) ? Date.parse(values.start) : Number.NaN;
    if (Number.isNaN(startMs)) throw new UsageError(`--start: "${values.start}" is not an ISO time with a zone`);
  }
  let backfillMs = 0;
  if (values.backfill !== undefined) {
    if (mode !== 'realtime') throw new UsageError('--backfill needs --mode realtime');
    const ms = parseDuration(values.backfill);
    if (ms === null || ms <= 0) throw new UsageError(`--backfill: "${values.backfill}" is not a duration (e.g. 30m, 1h)`);
    backfillMs = ms;
  }
  let durationMs: number | null = null;
  if (values.duration !== undefined) {
    durationMs = parseDuration(values.duration);
    if (durationMs === null || durationMs <= 0) throw new UsageError(`--duration: "${values.duration}" is not a duration (e.g. 30m, 2h)`);
  }
  let meters: RegExp | null = null;
  let load: LoadOptions | null = null;
  if (mode === 'load') {
    if (values.scenario !== undefined) throw new UsageError('--scenario does not apply to --mode load (load meters follow their profiles only)');
    load = {
      meters: loadMeterCount(values.meters),
      rate: values.rate === 'max' ? 'max' : num('rate', values.rate, 1000, (n) => n > 0),
      count: values.count === undefined ? null : num('count', values.count, 0, (n) => Number.isInteger(n) && n >= 1),
      // MQTT packet ids are 16 bits: no client can have more than 65535 publishes open.
      inflight: num('inflight', values.inflight, 2000, (n) => Number.isInteger(n) && n >= 1 && n <= 65_535),
      writeRegistry: values['write-registry'] ?? null,
    };
  } else {
    for (const flag of ['rate', 'count', 'inflight', 'write-registry'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --mode load`);
  }
  if (mode !== 'load' && values.meters !== undefined) {
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
    speed: mode === 'accelerated' ? num('speed', values.speed, 60, (n) => n > 0) : 1,
    startMs,
    backfillMs,
    durationMs,
    scenario: values.scenario ?? null,
    meters,
    progressSeconds: num('progress', values.progress, 5, (n) => n >= 0),
    load,
  };
}
