import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { InfluxDB, flux, fluxExpression, type FluxParameterLike, type ParameterizedQuery } from '@influxdata/influxdb-client';
import { EipError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type {
  AggregateBucket,
  AggregatePoint,
  AggregateQuery,
  AlertEventPoint,
  ReadingPoint,
  SeriesScope,
  TimeSeriesStore,
} from '../../ports/time-series.ts';
import { checkRange } from '../../ports/time-series-checks.ts';
import type { AggregateScope, WindowSize } from '../../contracts/events.ts';
import { toEipError } from './errors.ts';
import { aggregateLine, alertEventLine, measurements, readingLine, toBodies, type WriteBody } from './line-protocol.ts';

export interface InfluxStoreOptions {
  /** Base URL, e.g. http://127.0.0.1:8086 (no /api/v2 suffix). */
  url: string;
  token: string;
  org: string;
  /** Readings and alert events. */
  bucket: string;
  /** Stored aggregates; defaults to `bucket`. */
  aggregatesBucket?: string;
  /** Limit for one HTTP request (a write chunk, a query, /health); default 10,000 ms. */
  timeoutMs?: number;
  /** Lines per write request; a larger batch is sent as several requests. Default 5,000. */
  linesPerRequest?: number;
  /** For an https URL: PEM CA(s) to verify InfluxDB's certificate (default: the system's), and an optional client certificate. */
  tls?: { ca?: string; cert?: string; key?: string };
  logger: Logger;
}

type Row = Record<string, unknown>;

// Rows with the same time come in a fixed order, the same as in the SQLite adapter.
const READING_ORDER = '["_time", "tenant", "meter", "metric"]';

/**
 * The time-series port on InfluxDB 2.x. Writes bypass the client's WriteApi,
 * which retries in the background and drops lines silently when its buffer
 * fills (see infra notes): each call POSTs its own line protocol and resolves
 * only when InfluxDB has answered 2xx for every chunk, so the caller owns retries.
 */
export function createInfluxStore(options: InfluxStoreOptions): TimeSeriesStore {
  const url = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const linesPerRequest = options.linesPerRequest ?? 5_000;
  if (!Number.isSafeInteger(linesPerRequest) || linesPerRequest <= 0) throw new EipError('CONFIG_INVALID', `linesPerRequest must be a positive integer, got ${linesPerRequest}`);
  if (!(timeoutMs > 0)) throw new EipError('CONFIG_INVALID', `timeoutMs must be positive, got ${timeoutMs}`);
  const bucket = options.bucket;
  const aggregatesBucket = options.aggregatesBucket ?? options.bucket;
  const log = options.logger.child({ component: 'time-series-influxdb' });
  // Our own keep-alive agent, so close() can release its sockets.
  const agent = url.startsWith('https:') ? new HttpsAgent({ keepAlive: true, ...options.tls, rejectUnauthorized: true }) : new HttpAgent({ keepAlive: true });
  const influx = new InfluxDB({ url, token: options.token, timeout: timeoutMs, transportOptions: { agent } });
  const queryApi = influx.getQueryApi(options.org);
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  function track<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new EipError('CLOSED', `${what}: the InfluxDB store is closed`));
    const p = run();
    inFlight.add(p);
    const forget = (): void => { inFlight.delete(p); };
    p.then(forget, forget);
    return p;
  }

  async function post(targetBucket: string, bodies: readonly WriteBody[], lines: number, what: string): Promise<void> {
    const path = `/api/v2/write?org=${encodeURIComponent(options.org)}&bucket=${encodeURIComponent(targetBucket)}&precision=ms`;
    let stored = 0;
    for (const { body, lines: chunkLines } of bodies) {
      // Not AbortSignal.timeout: its timer keeps the signal, the transport's listener on it and so
      // the request body alive for the whole timeout, long after the answer (megabytes at ingest's rate).
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), timeoutMs);
      try {
        await influx.transport.request(path, body, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, signal: timeout.signal });
      } catch (err) {
        const e = toEipError(err, what, { timedOut: timeout.signal.aborted });
        // Earlier chunks are stored; rewriting them on retry is harmless (last write wins).
        const failed = new EipError(e.code, e.message, {
          cause: err,
          retriable: e.retriable,
          ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
          details: { ...e.details, bucket: targetBucket, lines, storedLines: stored },
        });
        log[failed.retriable ? 'debug' : 'warn']({ code: failed.code, bucket: targetBucket, lines, storedLines: stored, err: failed.message }, 'InfluxDB write failed');
        throw failed;
      } finally {
        clearTimeout(timer);
      }
      stored += chunkLines;
    }
  }

  async function query(text: string | ParameterizedQuery, what: string): Promise<Row[]> {
    try {
      return await queryApi.collectRows<Row>(text, (values, meta) => meta.toObject(values));
    } catch (err) {
      throw toEipError(err, what, { fallback: 'INTERNAL' });
    }
  }

  function source(bucketName: string, range: { from: number; to: number }, predicate: FluxParameterLike): string {
    return flux`from(bucket: ${bucketName})
  |> range(start: ${new Date(range.from)}, stop: ${new Date(range.to)})
  |> filter(fn: (r) => ${predicate})`.toString();
  }

  return {
    writeReadings(points) {
      return track('write readings', async () => {
        if (points.length === 0) return;
        await post(bucket, toBodies(points, readingLine, linesPerRequest), points.length, 'write readings');
      });
    },

    writeAggregates(points) {
      return track('write aggregates', async () => {
        if (points.length === 0) return;
        await post(aggregatesBucket, toBodies(points, aggregateLine, linesPerRequest), points.length, 'write aggregates');
      });
    },

    writeAlertEvents(events) {
      return track('write alert events', async () => {
        if (events.length === 0) return;
        await post(bucket, toBodies(events, alertEventLine, linesPerRequest), events.length, 'write alert events');
      });
    },

    queryReadings(q) {
      return track('query readings', async () => {
        checkRange(q);
        if (q.from >= q.to || q.limit === 0) return [];
        const pred = predicate(measurements.reading, q.scope, q.metric, flux`r._field == "value"`);
        const text = `${source(bucket, q, pred)}
  |> group()
  |> sort(columns: ${READING_ORDER})${limitClause(q.limit)}
  |> keep(columns: ["_time", "_value", "park", "tenant", "meter", "metric", "unit", "simulated"])`;
        const rows = await query(text, 'query readings');
        return rows.map((r): ReadingPoint => ({
          park: str(r, 'park') ?? '',
          tenant: str(r, 'tenant') ?? '',
          meter: str(r, 'meter') ?? '',
          metric: str(r, 'metric') ?? '',
          unit: str(r, 'unit') ?? '',
          value: num(r, '_value') ?? Number.NaN,
          ts: time(r, '_time'),
          simulated: str(r, 'simulated') === 'true',
        }));
      });
    },

    queryAggregate(q) {
      return track('query aggregate', async () => {
        checkRange(q);
        if (q.from >= q.to) return [];
        const data = source(bucket, q, predicate(measurements.reading, q.scope, q.metric, flux`r._field == "value"`));
        const rows = await query(aggregateScript(data, q.fn, q.everyMs), 'query aggregate');
        return combineAggregateRows(rows, q);
      });
    },

    queryStoredAggregates(q) {
      return track('query stored aggregates', async () => {
        checkRange(q);
        if (q.from >= q.to) return [];
        const pred = predicate(measurements.aggregate, q.scope, q.metric, flux`r.scope == ${q.aggregateScope} and r.window == ${q.window}`);
        const text = `${source(aggregatesBucket, q, pred)}
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time", "tenant", "meter"])`;
        const rows = await query(text, 'query stored aggregates');
        return rows.map((r): AggregatePoint => {
          const p: AggregatePoint = {
            scope: (str(r, 'scope') ?? q.aggregateScope) as AggregateScope,
            park: str(r, 'park') ?? '',
            metric: str(r, 'metric') ?? '',
            unit: str(r, 'unit') ?? '',
            window: (str(r, 'window') ?? q.window) as WindowSize,
            start: time(r, '_time'),
            count: num(r, 'count') ?? 0,
            sum: num(r, 'sum') ?? Number.NaN,
            min: num(r, 'min') ?? Number.NaN,
            max: num(r, 'max') ?? Number.NaN,
            mean: num(r, 'mean') ?? Number.NaN,
            last: num(r, 'last') ?? Number.NaN,
            simulated: str(r, 'simulated') === 'true',
          };
          const tenant = str(r, 'tenant');
          const meter = str(r, 'meter');
          const consumption = num(r, 'consumption');
          const completeness = num(r, 'completeness');
          const expected = num(r, 'expected');
          const lastAt = num(r, 'last_at');
          const revision = num(r, 'revision');
          const registerEvents = str(r, 'register_events');
          if (tenant !== undefined) p.tenant = tenant;
          if (meter !== undefined) p.meter = meter;
          if (consumption !== undefined) p.consumption = consumption;
          if (completeness !== undefined) p.completeness = completeness;
          if (expected !== undefined) p.expected = expected;
          if (lastAt !== undefined) p.lastAt = lastAt;
          if (revision !== undefined) p.revision = revision;
          if (registerEvents !== undefined && registerEvents !== '') p.registerEvents = registerEvents.split(',');
          return p;
        });
      });
    },

    queryAlertEvents(q) {
      return track('query alert events', async () => {
        checkRange(q);
        if (q.from >= q.to || q.limit === 0) return [];
        const text = `${source(bucket, q, predicate(measurements.alertEvent, q.scope, q.metric))}
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time", "fingerprint", "state"])${limitClause(q.limit)}`;
        const rows = await query(text, 'query alert events');
        return rows.map((r): AlertEventPoint => {
          const e: AlertEventPoint = {
            fingerprint: str(r, 'fingerprint') ?? '',
            ruleId: str(r, 'rule') ?? '',
            state: str(r, 'state') ?? '',
            severity: str(r, 'severity') ?? '',
            park: str(r, 'park') ?? '',
            // InfluxDB's CSV writer turns \n inside a field into \r\n; undo it.
            summary: typeof r.summary === 'string' ? r.summary.replaceAll('\r\n', '\n') : '',
            at: time(r, '_time'),
            simulated: str(r, 'simulated') === 'true',
          };
          const tenant = str(r, 'tenant');
          const meter = str(r, 'meter');
          const metric = str(r, 'metric');
          const value = num(r, 'value');
          if (tenant !== undefined) e.tenant = tenant;
          if (meter !== undefined) e.meter = meter;
          if (metric !== undefined) e.metric = metric;
          if (value !== undefined) e.value = value;
          const transition = num(r, 'transition');
          const threshold = num(r, 'threshold');
          const windowStart = num(r, 'window_start');
          const windowEnd = num(r, 'window_end');
          if (transition !== undefined) e.transition = transition;
          const by = str(r, 'by');
          const detail = str(r, 'detail');
          if (by !== undefined) e.by = by.replaceAll('\r\n', '\n');
          if (threshold !== undefined) e.threshold = threshold;
          if (windowStart !== undefined) e.windowStart = windowStart;
          if (windowEnd !== undefined) e.windowEnd = windowEnd;
          if (detail !== undefined) e.detail = detail.replaceAll('\r\n', '\n');
          return e;
        });
      });
    },

    async ping() {
      if (closed) return false;
      try {
        // Through the client's transport, so an https URL is verified with the configured CA like every other request.
        const body = (await influx.transport.request('/health', null, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) })) as { status?: unknown } | undefined;
        return body?.status === 'pass';
      } catch {
        return false;
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      agent.destroy();
    },
  };
}

/**
 * Aggregates across series in two stages: per series (and window) first, which
 * InfluxDB pushes down into its storage engine, then across series. The result
 * equals aggregating all raw points at once: a count is the sum of counts, a min
 * the min of mins, a mean the total sum over the total count, and the last point
 * the latest of the per-series last points (ties broken by tenant, then meter).
 */
function aggregateScript(data: string, fn: AggregateQuery['fn'], everyMs: number | undefined): string {
  const window = everyMs === undefined ? '' : `\n  |> window(every: ${everyMs}ms)`;
  const across = everyMs === undefined ? 'group()' : 'group(columns: ["_start"])';
  // Each branch repeats the source: a shared prefix would keep InfluxDB from pushing it down.
  const stage = (perSeries: string, combine: string, name: string): string =>
    `${data}${window}\n  |> ${perSeries}()\n  |> ${across}\n  |> ${combine}\n  |> group()\n  |> keep(columns: ["_start", "_value"])\n  |> yield(name: "${name}")`;
  switch (fn) {
    case 'count': return stage('count', 'sum()', 'count');
    case 'sum': return stage('sum', 'sum()', 'sum');
    case 'min': return stage('min', 'min()', 'min');
    case 'max': return stage('max', 'max()', 'max');
    case 'last': return stage('last', 'sort(columns: ["_time", "tenant", "meter"])\n  |> last()', 'last');
    case 'mean': return `${stage('sum', 'sum()', 'sum')}\n\n${stage('count', 'sum()', 'count')}`;
  }
}

function combineAggregateRows(rows: readonly Row[], q: AggregateQuery): AggregateBucket[] {
  const every = q.everyMs;
  // window() clips the first window's _start to the range start: floor it back to the epoch-aligned bucket.
  const bucketOf = (r: Row): number => (every === undefined ? q.from : Math.floor(time(r, '_start') / every) * every);
  if (q.fn !== 'mean') {
    return rows
      .map((r) => ({ ts: bucketOf(r), value: num(r, '_value') ?? Number.NaN }))
      .sort((a, b) => a.ts - b.ts);
  }
  const sums = new Map<number, number>();
  const counts = new Map<number, number>();
  for (const r of rows) (r.result === 'count' ? counts : sums).set(bucketOf(r), num(r, '_value') ?? Number.NaN);
  const out: AggregateBucket[] = [];
  for (const [ts, count] of counts) {
    const sum = sums.get(ts);
    if (count > 0 && sum !== undefined) out.push({ ts, value: sum / count });
  }
  return out.sort((a, b) => a.ts - b.ts);
}

/** Flux filter body; every value goes through the client's `flux` tag, which escapes it. */
function predicate(measurement: string, scope: SeriesScope, metric: string | undefined, extra?: ParameterizedQuery): FluxParameterLike {
  const parts = [flux`r._measurement == ${measurement}`, flux`r.park == ${scope.park}`];
  if (scope.tenant !== undefined) parts.push(flux`r.tenant == ${scope.tenant}`);
  if (scope.meter !== undefined) parts.push(flux`r.meter == ${scope.meter}`);
  if (metric !== undefined) parts.push(flux`r.metric == ${metric}`);
  if (extra !== undefined) parts.push(extra);
  return fluxExpression(parts.map(String).join(' and '));
}

function limitClause(limit: number | undefined): string {
  return limit === undefined ? '' : `\n  |> limit(n: ${limit})`;
}

/** Empty strings are how annotated CSV shows a missing tag. */
function str(row: Row, key: string): string | undefined {
  const v = row[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(row: Row, key: string): number | undefined {
  const v = row[key];
  return typeof v === 'number' ? v : undefined;
}

function time(row: Row, key: string): number {
  const v = row[key];
  return typeof v === 'string' ? Date.parse(v) : Number.NaN;
}
