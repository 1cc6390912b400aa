import type { Statement } from 'better-sqlite3';
import { EipError, errorMessage } from '../../errors.ts';
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
import { addMissingColumns, openDatabase } from '../sqlite/open-database.ts';
import { checkAggregates, checkAlertEvents, checkReadings } from './validate.ts';

export interface SqliteStoreOptions {
  /** Database file; created with its folder if missing. ':memory:' for a throwaway store. */
  path: string;
  logger: Logger;
}

/**
 * Primary keys mirror InfluxDB's series key plus time, so INSERT OR REPLACE gives
 * the same last-write-wins. Absent optional tags are stored as '' (InfluxDB has
 * no empty tag values, so '' cannot collide) because NULLs would never be equal
 * in a key. WITHOUT ROWID: the key is the table, no second copy of it.
 */
const schema = `
CREATE TABLE IF NOT EXISTS readings (
  park TEXT NOT NULL,
  tenant TEXT NOT NULL,
  meter TEXT NOT NULL,
  metric TEXT NOT NULL,
  ts INTEGER NOT NULL,
  unit TEXT NOT NULL,
  value REAL NOT NULL,
  simulated INTEGER NOT NULL,
  PRIMARY KEY (park, tenant, meter, metric, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_by_park_metric ON readings (park, metric, ts);
CREATE INDEX IF NOT EXISTS readings_by_tenant_metric ON readings (park, tenant, metric, ts);

CREATE TABLE IF NOT EXISTS aggregates (
  park TEXT NOT NULL,
  scope TEXT NOT NULL,
  metric TEXT NOT NULL,
  window_size TEXT NOT NULL,
  tenant TEXT NOT NULL,
  meter TEXT NOT NULL,
  start INTEGER NOT NULL,
  unit TEXT NOT NULL,
  value_count INTEGER NOT NULL,
  value_sum REAL NOT NULL,
  value_min REAL NOT NULL,
  value_max REAL NOT NULL,
  value_mean REAL NOT NULL,
  value_last REAL NOT NULL,
  consumption REAL,
  completeness REAL,
  simulated INTEGER NOT NULL,
  expected REAL,
  last_at INTEGER,
  revision INTEGER,
  register_events TEXT,
  PRIMARY KEY (park, scope, metric, window_size, tenant, meter, start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS alert_events (
  park TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  rule TEXT NOT NULL,
  state TEXT NOT NULL,
  severity TEXT NOT NULL,
  tenant TEXT NOT NULL,
  meter TEXT NOT NULL,
  metric TEXT NOT NULL,
  at INTEGER NOT NULL,
  summary TEXT NOT NULL,
  value REAL,
  simulated INTEGER NOT NULL,
  transition INTEGER,
  by_user TEXT,
  threshold REAL,
  window_start INTEGER,
  window_end INTEGER,
  detail TEXT,
  PRIMARY KEY (park, fingerprint, rule, state, severity, tenant, meter, metric, at)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alert_events_by_time ON alert_events (park, at);
`;

interface ReadingRow { park: string; tenant: string; meter: string; metric: string; unit: string; value: number; ts: number; simulated: number }
interface AggregateRow {
  park: string; scope: string; metric: string; window_size: string; tenant: string; meter: string; start: number; unit: string;
  value_count: number; value_sum: number; value_min: number; value_max: number; value_mean: number; value_last: number;
  consumption: number | null; completeness: number | null; simulated: number;
  expected: number | null; revision: number | null; register_events: string | null; last_at: number | null;
}
interface AlertRow {
  park: string; fingerprint: string; rule: string; state: string; severity: string; tenant: string; meter: string; metric: string;
  at: number; summary: string; value: number | null; simulated: number;
  transition: number | null; by_user: string | null; threshold: number | null; window_start: number | null; window_end: number | null; detail: string | null;
}
interface BucketRow { ts: number; value: number }

type Params = Record<string, string | number>;

const aggregateSql: Record<Exclude<AggregateQuery['fn'], 'last'>, string> = {
  count: 'COUNT(*)', sum: 'SUM(value)', mean: 'AVG(value)', min: 'MIN(value)', max: 'MAX(value)',
};

/** The time-series port on one SQLite file, for the embedded mode. */
export function createSqliteStore(options: SqliteStoreOptions): TimeSeriesStore {
  const log = options.logger.child({ component: 'time-series-sqlite' });
  const db = openDatabase(options.path);
  db.exec(schema);
  addMissingColumns(db, 'aggregates', { expected: 'REAL', revision: 'INTEGER', register_events: 'TEXT', last_at: 'INTEGER' });
  addMissingColumns(db, 'alert_events', { transition: 'INTEGER', by_user: 'TEXT', threshold: 'REAL', window_start: 'INTEGER', window_end: 'INTEGER', detail: 'TEXT' });
  let closed = false;

  // Query text varies with the filters given; each variant is prepared once.
  const statements = new Map<string, Statement>();
  function prepare(sql: string): Statement {
    let s = statements.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  }

  const insertReading = db.prepare(
    `INSERT OR REPLACE INTO readings (park, tenant, meter, metric, ts, unit, value, simulated)
     VALUES (@park, @tenant, @meter, @metric, @ts, @unit, @value, @simulated)`,
  );
  const insertAggregate = db.prepare(
    `INSERT OR REPLACE INTO aggregates (park, scope, metric, window_size, tenant, meter, start, unit,
       value_count, value_sum, value_min, value_max, value_mean, value_last, consumption, completeness, simulated,
       expected, revision, register_events, last_at)
     VALUES (@park, @scope, @metric, @window, @tenant, @meter, @start, @unit,
       @count, @sum, @min, @max, @mean, @last, @consumption, @completeness, @simulated,
       @expected, @revision, @registerEvents, @lastAt)`,
  );
  const insertAlert = db.prepare(
    `INSERT OR REPLACE INTO alert_events (park, fingerprint, rule, state, severity, tenant, meter, metric, at, summary, value, simulated,
       transition, by_user, threshold, window_start, window_end, detail)
     VALUES (@park, @fingerprint, @rule, @state, @severity, @tenant, @meter, @metric, @at, @summary, @value, @simulated,
       @transition, @by, @threshold, @windowStart, @windowEnd, @detail)`,
  );

  // One transaction per call: all of a batch is stored, or none of it.
  const writeReadingsTx = db.transaction((points: readonly ReadingPoint[]) => {
    for (const p of points) {
      insertReading.run({ park: p.park, tenant: p.tenant, meter: p.meter, metric: p.metric, ts: p.ts, unit: p.unit, value: p.value, simulated: p.simulated === true ? 1 : 0 });
    }
  });
  const writeAggregatesTx = db.transaction((points: readonly AggregatePoint[]) => {
    for (const p of points) {
      insertAggregate.run({
        park: p.park, scope: p.scope, metric: p.metric, window: p.window, tenant: p.tenant ?? '', meter: p.meter ?? '', start: p.start, unit: p.unit,
        count: p.count, sum: p.sum, min: p.min, max: p.max, mean: p.mean, last: p.last,
        consumption: p.consumption ?? null, completeness: p.completeness ?? null, simulated: p.simulated === true ? 1 : 0,
        expected: p.expected ?? null, revision: p.revision ?? null, lastAt: p.lastAt ?? null,
        registerEvents: p.registerEvents === undefined || p.registerEvents.length === 0 ? null : p.registerEvents.join(','),
      });
    }
  });
  const writeAlertsTx = db.transaction((events: readonly AlertEventPoint[]) => {
    for (const e of events) {
      insertAlert.run({
        park: e.park, fingerprint: e.fingerprint, rule: e.ruleId, state: e.state, severity: e.severity,
        tenant: e.tenant ?? '', meter: e.meter ?? '', metric: e.metric ?? '', at: e.at, summary: e.summary,
        value: e.value ?? null, simulated: e.simulated === true ? 1 : 0,
        transition: e.transition ?? null, by: e.by || null, threshold: e.threshold ?? null,
        windowStart: e.windowStart ?? null, windowEnd: e.windowEnd ?? null, detail: e.detail || null,
      });
    }
  });

  /** Runs synchronous SQLite work as the port's promise, with errors in the project's family. */
  function run<T>(what: string, work: () => T): Promise<T> {
    if (closed) return Promise.reject(new EipError('CLOSED', `${what}: the SQLite store is closed`));
    try {
      return Promise.resolve(work());
    } catch (err) {
      const e = toEipError(err, what);
      log[e.retriable ? 'debug' : 'warn']({ code: e.code, err: e.message }, 'SQLite time-series operation failed');
      return Promise.reject(e);
    }
  }

  return {
    writeReadings(points) {
      return run('write readings', () => {
        checkReadings(points);
        if (points.length > 0) writeReadingsTx(points);
      });
    },

    writeAggregates(points) {
      return run('write aggregates', () => {
        checkAggregates(points);
        if (points.length > 0) writeAggregatesTx(points);
      });
    },

    writeAlertEvents(events) {
      return run('write alert events', () => {
        checkAlertEvents(events);
        if (events.length > 0) writeAlertsTx(events);
      });
    },

    queryReadings(q) {
      return run('query readings', () => {
        checkRange(q);
        if (q.from >= q.to || q.limit === 0) return [];
        const { where, params } = filter(q.scope, q.metric, 'ts', q);
        const sql = `SELECT park, tenant, meter, metric, unit, value, ts, simulated FROM readings
          WHERE ${where} ORDER BY ts, tenant, meter, metric${q.limit === undefined ? '' : ' LIMIT @limit'}`;
        if (q.limit !== undefined) params.limit = q.limit;
        const rows = prepare(sql).all(params) as ReadingRow[];
        return rows.map((r): ReadingPoint => ({
          park: r.park, tenant: r.tenant, meter: r.meter, metric: r.metric, unit: r.unit, value: r.value, ts: r.ts, simulated: r.simulated === 1,
        }));
      });
    },

    queryAggregate(q) {
      return run('query aggregate', () => {
        checkRange(q);
        if (q.from >= q.to) return [];
        const { where, params } = filter(q.scope, q.metric, 'ts', q);
        // Epoch-aligned bucket start, floored (SQLite's % truncates toward zero).
        const bucket = q.everyMs === undefined ? '@from' : '(ts - ((ts % @every) + @every) % @every)';
        if (q.everyMs !== undefined) params.every = q.everyMs;
        const sql = q.fn === 'last'
          // Ties in time go to the greatest tenant, then meter, as in the InfluxDB adapter.
          ? `SELECT b AS ts, value FROM (
               SELECT ${bucket} AS b, value, ROW_NUMBER() OVER (PARTITION BY ${bucket} ORDER BY ts DESC, tenant DESC, meter DESC) AS rn
               FROM readings WHERE ${where}
             ) WHERE rn = 1 ORDER BY b`
          : `SELECT ${bucket} AS ts, ${aggregateSql[q.fn]} AS value FROM readings WHERE ${where} GROUP BY 1 ORDER BY 1`;
        return prepare(sql).all(params) as BucketRow[] satisfies AggregateBucket[];
      });
    },

    queryStoredAggregates(q) {
      return run('query stored aggregates', () => {
        checkRange(q);
        if (q.from >= q.to) return [];
        const { where, params } = filter(q.scope, q.metric, 'start', q);
        params.scope = q.aggregateScope;
        params.window = q.window;
        const sql = `SELECT * FROM aggregates WHERE ${where} AND scope = @scope AND window_size = @window ORDER BY start, tenant, meter`;
        const rows = prepare(sql).all(params) as AggregateRow[];
        return rows.map((r): AggregatePoint => {
          const p: AggregatePoint = {
            scope: r.scope as AggregateScope, park: r.park, metric: r.metric, unit: r.unit, window: r.window_size as WindowSize, start: r.start,
            count: r.value_count, sum: r.value_sum, min: r.value_min, max: r.value_max, mean: r.value_mean, last: r.value_last,
            simulated: r.simulated === 1,
          };
          if (r.tenant !== '') p.tenant = r.tenant;
          if (r.meter !== '') p.meter = r.meter;
          if (r.consumption !== null) p.consumption = r.consumption;
          if (r.completeness !== null) p.completeness = r.completeness;
          if (r.expected !== null) p.expected = r.expected;
          if (r.last_at !== null) p.lastAt = r.last_at;
          if (r.revision !== null) p.revision = r.revision;
          if (r.register_events !== null) p.registerEvents = r.register_events.split(',');
          return p;
        });
      });
    },

    queryAlertEvents(q) {
      return run('query alert events', () => {
        checkRange(q);
        if (q.from >= q.to || q.limit === 0) return [];
        const { where, params } = filter(q.scope, q.metric, 'at', q);
        const sql = `SELECT * FROM alert_events WHERE ${where} ORDER BY at, fingerprint, state${q.limit === undefined ? '' : ' LIMIT @limit'}`;
        if (q.limit !== undefined) params.limit = q.limit;
        const rows = prepare(sql).all(params) as AlertRow[];
        return rows.map((r): AlertEventPoint => {
          const e: AlertEventPoint = {
            fingerprint: r.fingerprint, ruleId: r.rule, state: r.state, severity: r.severity, park: r.park,
            summary: r.summary, at: r.at, simulated: r.simulated === 1,
          };
          if (r.tenant !== '') e.tenant = r.tenant;
          if (r.meter !== '') e.meter = r.meter;
          if (r.metric !== '') e.metric = r.metric;
          if (r.value !== null) e.value = r.value;
          if (r.transition !== null) e.transition = r.transition;
          if (r.by_user !== null) e.by = r.by_user;
          if (r.threshold !== null) e.threshold = r.threshold;
          if (r.window_start !== null) e.windowStart = r.window_start;
          if (r.window_end !== null) e.windowEnd = r.window_end;
          if (r.detail !== null) e.detail = r.detail;
          return e;
        });
      });
    },

    ping() {
      if (closed) return Promise.resolve(false);
      try {
        return Promise.resolve(prepare('SELECT 1 AS ok').get() !== undefined);
      } catch {
        return Promise.resolve(false);
      }
    },

    close() {
      if (!closed) {
        closed = true;
        db.close();
      }
      return Promise.resolve();
    },
  };
}

/** WHERE clause for a scope, optional metric and [from, to) on the given time column. */
function filter(scope: SeriesScope, metric: string | undefined, timeColumn: string, range: { from: number; to: number }): { where: string; params: Params } {
  const clauses = ['park = @park'];
  const params: Params = { park: scope.park, from: range.from, to: range.to };
  if (scope.tenant !== undefined) { clauses.push('tenant = @tenant'); params.tenant = scope.tenant; }
  if (scope.meter !== undefined) { clauses.push('meter = @meter'); params.meter = scope.meter; }
  if (metric !== undefined) { clauses.push('metric = @metric'); params.metric = metric; }
  clauses.push(`${timeColumn} >= @from`, `${timeColumn} < @to`);
  return { where: clauses.join(' AND '), params };
}

function toEipError(err: unknown, what: string): EipError {
  if (err instanceof EipError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const text = `${what}: ${errorMessage(err)}`;
  if (typeof code === 'string') {
    // Another process holds the write lock, or the disk is full: both may pass.
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR')) {
      return new EipError('UNAVAILABLE', text, { cause: err, details: { sqliteCode: code } });
    }
    if (code === 'SQLITE_TOOBIG') return new EipError('TOO_LARGE', text, { cause: err, details: { sqliteCode: code } });
    if (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_RANGE') return new EipError('REJECTED', text, { cause: err, details: { sqliteCode: code } });
  }
  return new EipError('INTERNAL', text, { cause: err });
}
