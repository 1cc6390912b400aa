/**
 * The aggregator's pure core: tumbling event-time windows per meter and metric,
 * and each tenant and park window's partial over the meters this aggregator
 * holds. No I/O and no clock: the runtime calls `record` per Kafka record and
 * `flush` with a watermark it computes (`watermarkFrom`), and checkpoints
 * `snapshot()`. One WindowAggregator holds one readings partition's meters; the
 * roll-up stage (rollups.ts) combines the partials of every partition into the
 * tenant and park events.
 *
 * How state is kept (and why):
 * - Windows of the smallest configured size ("fine", 1 min by default) hold their
 *   samples by event time (samples.ts: times and values in one array of numbers,
 *   in event-time order). That makes a redelivered reading idempotent (same
 *   (meter, metric, ts) keeps one sample, the later value), lets register
 *   differences be taken in event-time order however readings arrive, and keeps
 *   memory at about one sample per meter-metric-minute that can still change.
 * - Larger windows ("coarse") hold no samples: their statistics are the fold of
 *   the summaries of the fine windows already forgotten (`sealed`) and of the fine
 *   windows still open inside them. A 1-day window is a dozen numbers.
 * - Event-time progress is kept per series (meter, metric): a series' windows
 *   close by its own newest reading minus `outOfOrdernessMs`, so a logger
 *   resending an outage is judged by its own clock, not by the meters that moved
 *   on. A silent series must not hold back its roll-ups: its windows also close
 *   once the flush watermark (the partition's progress) has passed them by
 *   `idleSeriesMs`. A series forgets a window once its own progress less
 *   `outOfOrdernessMs` has passed it by `allowedLatenessMs` (short: in-order
 *   data never comes back to a closed window, only the series' own
 *   out-of-order readings do), or the watermark less `idleSeriesMs` by
 *   `partitionLatenessMs` (long: a logger resending its buffer, a meter gone
 *   quiet, is judged by its own clock until then). State is O(series x
 *   allowance) for live series.
 * - A reading whose fine window the series has forgotten is not dropped: it is
 *   counted `late` and queued for a backfill (`takeBackfills`): the runtime reads
 *   the affected span back from the time-series store (which holds every reading
 *   that reached the readings topic) and hands it to `fill`, which recomputes
 *   those windows and emits the changed ones as revisions of what was stored.
 */
import { windowMs, windowSizes, type AggregateEvent, type ReadingBatchEvent, type WindowSize } from '../../../shared/contracts/events.ts';
import { isMetricName, metricCatalogue, type MetricName } from '../../../shared/contracts/metric-catalogue.ts';
import type { MeterEntry, RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import { maxStorableEpochMs } from '../../../shared/contracts/ids.ts';
import { fingerprint } from './fingerprint.ts';
import { eventsFromBits } from './register.ts';
import { registerProfile, type RegisterProfile, type RegisterReading } from '../../../shared/domain/register.ts';
import { byWindow, type RollupPartial } from './rollups.ts';
import type { BackfillData, BackfillRequest, StoredWindow } from './backfill.ts';
import type { AggregatorState, CoarseState, FineState, SampleState, SeriesState } from './state.ts';
import { decodeSummary, emptySummary, encodeSummary, mergeInto, summariseSamples, type Sample, type Summary } from './summary.ts';
import { SampleRun } from './samples.ts';
import { assertZone, windowBounds, windowIdOf, windowStart } from './windows.ts';
import { contentHash, numberAllAfterStore, type NumberingOutcome, type StoredRevisions } from './revisions.ts';

export interface WindowAggregatorOptions {
  registry: RegistryIndex;
  /** Window sizes to produce; all four by default. */
  windows?: readonly WindowSize[];
  /**
   * How far behind a series' own progress (its newest reading less
   * `outOfOrdernessMs`) its out-of-order readings still revise its windows in
   * memory; older ones go through `fill`.
   */
  allowedLatenessMs: number;
  /**
   * How far behind the flush watermark less `idleSeriesMs` a series behind the
   * partition, or silent, still has its windows held: what every series forgets
   * at the least. Never less than `allowedLatenessMs`; undefined: the same.
   */
  partitionLatenessMs?: number;
  /**
   * A series' windows close once its own newest reading is this far past their
   * end. Undefined: per-series progress is off and windows close by the flush
   * watermark alone.
   */
  outOfOrdernessMs?: number;
  /** A series' windows also close once the flush watermark is this far past their end (a silent series). Default 0. */
  idleSeriesMs?: number;
}

export interface RecordResult {
  /** Readings that added or changed a sample. */
  accepted: number;
  /** Readings whose window the series already forgot: queued for a backfill from the store. */
  late: number;
  /** Readings identical to one already held (at-least-once redelivery): no change. */
  duplicates: number;
  /** Readings of a meter or metric the registry and catalogue do not know (or not a finite value at a storable integer time). */
  ignored: number;
}

interface SeriesInfo {
  park: string;
  tenant: string;
  meter: string;
  metric: MetricName;
  unit: string;
  /** The register profile (rating, declared changes) for cumulative metrics; undefined for instantaneous ones. */
  register: RegisterProfile | undefined;
  cadenceMs: number;
  /** The park's time zone: 1 h and 1 d windows follow its clock. */
  zone: string;
}

interface Emitted {
  revision: number;
  hash: number;
}

interface Series {
  info: SeriesInfo;
  /** Last register reading of the fine windows already forgotten: the baseline for the next one. */
  carry: RegisterReading | undefined;
  fine: Map<number, FineWindow>;
  coarse: Map<string, CoarseWindow>;
  /** Largest fine start seen; in-order data never needs to look for a following window. */
  maxFineStart: number;
  /** Newest event time recorded: the series' own progress. */
  maxTs: number;
  /** Every window of the series ending at or before this is forgotten (fine-aligned), and none after it. */
  forgotten: number;
}

interface WindowBase {
  series: Series;
  start: number;
  end: number;
  /** Changed since last emitted (or never emitted). */
  dirty: boolean;
  emitted: Emitted | undefined;
  rollups: RollupWindow[];
  /** The window's checkpoint part as JSON, until it changes (see `snapshotJson`). */
  json?: string | undefined;
  /**
   * Changed while replaying (or restored unsaved): an earlier owner may have
   * emitted revisions of it after the checkpoint, so its next revision number is
   * checked against the store (`confirmRevisions`) before it is trusted.
   */
  unverified?: true | undefined;
}

interface FineWindow extends WindowBase {
  kind: 'fine';
  samples: SampleRun;
  /**
   * Its window of each larger size, opened with it. They outlive it: a larger
   * window is forgotten only with every fine window inside it (sweep).
   */
  parents: CoarseWindow[];
  /** Its summary from these samples after the register baseline `prev`: kept across flushes until either changes. */
  summarised?: { prev: RegisterReading | undefined; summary: Summary; lastReading: RegisterReading | undefined } | undefined;
}

interface CoarseWindow extends WindowBase {
  kind: 'coarse';
  size: WindowSize;
  sealed: Summary | undefined;
}

type MeterWindow = FineWindow | CoarseWindow;

interface RollupWindow {
  id: string;
  scope: 'tenant' | 'park';
  park: string;
  tenant: string | undefined;
  metric: MetricName;
  unit: string;
  cumulative: boolean;
  size: WindowSize;
  start: number;
  end: number;
  /** The member meters' windows, by meter id. */
  members: Map<string, MeterWindow>;
  /** Final summaries of members whose window their series already forgot. */
  frozen: Map<string, Summary>;
  emitted: Emitted | undefined;
}

/** What a flush produced: meter windows, and partials of the tenant and park windows. */
export interface FlushResult {
  events: AggregateEvent[];
  partials: RollupPartial[];
  /**
   * Events (also in `events`) of windows changed while replaying: numbered
   * provisionally, until `confirmRevisions` has compared them with the store.
   */
  unverified: AggregateEvent[];
}


/** Fine windows of one series in start order with their summaries, computed once per flush. */
interface Chain {
  ordered: FineWindow[];
  summaries: Map<FineWindow, Summary>;
}

const byPartial = (a: RollupPartial, b: RollupPartial): number => (a.end ?? a.start + windowMs[a.window]) - (b.end ?? b.start + windowMs[b.window]) || windowMs[a.window] - windowMs[b.window] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** An integer event time whose windows the store and the aggregate schema can hold. */
const storableTime = (ts: number): boolean => Number.isSafeInteger(ts) && ts >= 0 && ts <= maxStorableEpochMs;

const coarseKey = (size: WindowSize, start: number): string => `${size}@${start}`;

const sameReading = (a: RegisterReading | undefined, b: RegisterReading | undefined): boolean => a === b || (a !== undefined && b !== undefined && a.ts === b.ts && a.value === b.value);

/** A checkpoint whose fine windows are held as `F` (their state, or its JSON). */
type StateWith<F> = Omit<AggregatorState, 'series'> & { series: (Omit<SeriesState, 'fine'> & { fine: F[] })[] };

function fineState(w: FineWindow): FineState {
  const x: SampleState[] = [];
  const run = w.samples;
  for (let i = 0; i < run.size; i++) x.push(run.simulatedAt(i) ? [run.timeAt(i) - w.start, run.valueAt(i), 1] : [run.timeAt(i) - w.start, run.valueAt(i)]);
  const f: FineState = { s: w.start, x };
  if (w.dirty) f.d = 1;
  if (w.emitted) f.e = [w.emitted.revision, w.emitted.hash];
  return f;
}

export class WindowAggregator {
  private readonly registry: RegistryIndex;
  private readonly allowedLatenessMs: number;
  private readonly partitionLatenessMs: number;
  /** Configured sizes, shortest first. */
  private readonly sizes: readonly WindowSize[];
  private readonly fineSize: WindowSize;
  private readonly fineMs: number;
  private readonly coarseSizes: readonly WindowSize[];

  private readonly outOfOrdernessMs: number;
  private readonly idleSeriesMs: number;
  private readonly largest: WindowSize;
  private readonly series = new Map<string, Series>();
  /** Boundary forgotten for every series (from the flush watermark): a series not held is forgotten up to here. */
  private forgotten = -Infinity;
  /** Readings of forgotten windows, per series key, waiting for takeBackfills. */
  private readonly pending = new Map<string, { series: Series; readings: Map<number, Sample> }>();
  /** Roll-ups held whose frozen members a fill changed: their partial goes out with the next flush. */
  private readonly refreshed = new Set<RollupWindow>();
  /** Roll-up windows already forgotten that a fill changed: the roll-up stage recomputes them from the store. */
  private readonly recompute = new Map<string, RollupPartial>();
  private readonly rollups = new Map<string, RollupWindow>();
  /** Windows changed since emitted, by end: a flush visits only the ends some series may have closed. */
  private readonly dirty = new Map<number, Set<MeterWindow>>();
  private wm = -Infinity;
  private maxTs = -Infinity;
  private lateTotal = 0;
  /** Earliest end among open windows: flush sweeps only when something can be forgotten. */
  private nextEnd = Infinity;
  /**
   * Set by the runtime while it records what an earlier owner of the partition
   * may already have recorded and emitted from (the records since the
   * checkpoint, up to the partition's end when it was assigned).
   */
  replaying = false;

  constructor(options: WindowAggregatorOptions) {
    const windows = options.windows ?? windowSizes;
    if (windows.length === 0) throw new RangeError(`windows must name at least one of ${windowSizes.join(', ')}`);
    for (const w of windows) if (!windowSizes.includes(w)) throw new RangeError(`unknown window size "${String(w)}"; known: ${windowSizes.join(', ')}`);
    if (!(options.allowedLatenessMs >= 0) || !Number.isFinite(options.allowedLatenessMs)) {
      throw new RangeError(`allowedLatenessMs must be a finite number >= 0, got ${options.allowedLatenessMs}`);
    }
    for (const p of options.registry.registry.parks) assertZone(p.timezone);
    for (const [name, v] of [['outOfOrdernessMs', options.outOfOrdernessMs ?? 0], ['idleSeriesMs', options.idleSeriesMs ?? 0], ['partitionLatenessMs', options.partitionLatenessMs ?? 0]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
    }
    this.registry = options.registry;
    this.allowedLatenessMs = options.allowedLatenessMs;
    this.partitionLatenessMs = Math.max(options.allowedLatenessMs, options.partitionLatenessMs ?? 0);
    this.outOfOrdernessMs = options.outOfOrdernessMs ?? Infinity;
    this.idleSeriesMs = options.idleSeriesMs ?? 0;
    // Sizes nest (windows.ts: local hours and days are whole 15-minute windows), so every fine window lies in exactly one window of each larger size.
    this.sizes = [...new Set(windows)].sort((a, b) => windowMs[a] - windowMs[b]);
    this.fineSize = this.sizes[0]!;
    this.fineMs = windowMs[this.fineSize];
    this.coarseSizes = this.sizes.slice(1);
    this.largest = this.sizes.at(-1)!;
  }

  /**
   * Windows of every series ending at or before this were closed by the last
   * flush: what the roll-up stage may rely on. The flush watermark when every
   * series is there; a series lagging behind holds it back by at most the idle
   * allowance.
   */
  get flushedTo(): number | undefined {
    if (!Number.isFinite(this.wm)) return undefined;
    const wm = this.wm;
    let at = wm;
    for (const s of this.series.values()) {
      const c = this.closeAt(s);
      if (c >= at) continue;
      // Only a window it has yet to close, ending by the watermark, holds the roll-ups back.
      const pending = (w: { end: number }): boolean => w.end > c && w.end <= wm;
      if ([...s.fine.values()].some(pending) || [...s.coarse.values()].some(pending)) at = c;
    }
    return at;
  }

  /** The watermark of the last flush (undefined before the first). */
  get watermark(): number | undefined {
    return Number.isFinite(this.wm) ? this.wm : undefined;
  }

  /** Newest event time among readings taken (for `watermarkFrom`); undefined before any. */
  get maxEventTime(): number | undefined {
    return Number.isFinite(this.maxTs) ? this.maxTs : undefined;
  }

  /** Readings dropped as late since the state began (kept across checkpoints). */
  get lateCount(): number {
    return this.lateTotal;
  }

  /** Meter-scope windows held, of every size. */
  get openWindows(): number {
    let n = 0;
    for (const s of this.series.values()) n += s.fine.size + s.coarse.size;
    return n;
  }

  /**
   * Adds a batch's readings to their windows. Idempotent per (meter, metric, ts):
   * a redelivered reading changes nothing, a new value for the same time replaces
   * the held one (the later delivery wins).
   */
  record(event: ReadingBatchEvent): RecordResult {
    const result: RecordResult = { accepted: 0, late: 0, duplicates: 0, ignored: 0 };
    // Another park's meter with the same id is not ours (ids are unique per registry only).
    const entry = this.registry.owned(event.park, event.tenant, event.meter);
    const simulated = event.simulated === true;
    for (const r of event.readings) {
      if (!entry || !isMetricName(r.metric) || !Number.isFinite(r.value) || !storableTime(r.ts)) {
        result.ignored++;
        continue;
      }
      const start = windowStart(r.ts, this.fineSize);
      const series = this.seriesOf(entry, r.metric);
      if (start + this.fineMs <= series.forgotten) {
        this.queueBackfill(series, r.ts, { value: r.value, simulated });
        result.late++;
        continue;
      }
      if (r.ts > this.maxTs) this.maxTs = r.ts;
      if (r.ts > series.maxTs) series.maxTs = r.ts;
      const window = series.fine.get(start) ?? this.openFine(series, start);
      if (window.samples.set(r.ts, r.value, simulated) === 'same') {
        result.duplicates++;
        continue;
      }
      window.summarised = undefined;
      this.touch(window);
      result.accepted++;
    }
    this.lateTotal += result.late;
    return result;
  }

  /**
   * Emits every meter window that ended at or before the watermark and changed
   * since it was last emitted, with the partial of each tenant and park window
   * it belongs to that changed, then forgets windows past the allowed lateness.
   * A watermark below the current one does not move it back (the call still
   * emits revisions recorded since the last flush).
   */
  flush(watermark: number): FlushResult {
    if (watermark > this.wm) this.wm = watermark;
    const wm = this.wm;
    const cache = new Map<Series, Chain>();
    const events: AggregateEvent[] = [];
    const unverified: AggregateEvent[] = [];
    const partials: RollupPartial[] = [...this.recompute.values()];
    this.recompute.clear();
    const rollups = new Set<RollupWindow>(this.refreshed);
    this.refreshed.clear();
    // No series closes past the newest progress of any or the watermark less the idle allowance.
    const reach = Math.max(this.maxTs - this.outOfOrdernessMs, wm - this.idleSeriesMs);
    for (const [end, ws] of this.dirty) {
      if (end > reach) continue;
      for (const w of ws) {
        if (end > this.closeAt(w.series)) continue;
        this.clean(w);
        const event = this.meterEvent(w, this.summaryOf(w, cache));
        if (w.unverified) {
          // Emitted whatever it holds: the store decides its number, and an unchanged window goes out again as a repeat.
          w.unverified = undefined;
          const hash = contentHash(event);
          if (w.emitted?.hash === hash) event.revision = w.emitted.revision;
          else this.emitNext(w, event, hash);
          events.push(event);
          unverified.push(event);
        } else this.emitIfChanged(w, event, events);
        for (const r of w.rollups) rollups.add(r);
      }
    }
    for (const r of rollups) {
      const p = this.rollupPartial(r, cache);
      const hash = fingerprint(`${p.s.join('|')}|${p.lm}`);
      if (p.s[0] === 0 || r.emitted?.hash === hash) continue;
      r.emitted = { revision: r.emitted ? r.emitted.revision + 1 : 0, hash };
      partials.push(p);
    }
    events.sort(byWindow);
    partials.sort(byPartial);
    const globalClose = wm - this.idleSeriesMs;
    // No series forgets past the newest progress of any less its allowance, or the partition's less its own.
    if (this.nextEnd <= Math.max(globalClose - this.partitionLatenessMs, this.maxTs - this.outOfOrdernessMs - this.allowedLatenessMs)) this.sweep(cache);
    // After the sweep: every window ending at or before it is gone from every series.
    const boundary = windowStart(globalClose - this.partitionLatenessMs, this.fineSize);
    if (boundary > this.forgotten) this.forgotten = boundary;
    for (const s of this.series.values()) if (s.forgotten < this.forgotten) s.forgotten = this.forgotten;
    return { events, partials, unverified };
  }

  /**
   * Numbers the unverified events of the last flush after what the store holds
   * of them: the stored revision when the content is the same (a repeat), else
   * the stored revision + 1 if that is above the provisional number. So a window
   * an earlier owner revised after the checkpoint, then emitted with fewer
   * revisions by the replay (the replay's batches are cut differently), never
   * goes out again under a number consumers have already seen with other
   * content. Mutates the events and the windows' emitted state.
   */
  confirmRevisions(events: readonly AggregateEvent[], stored: StoredRevisions): Record<NumberingOutcome, number> {
    return numberAllAfterStore(events, stored, (event, revision, hash) => {
      const w = this.windowOf(event);
      if (w) w.emitted = { revision, hash };
    });
  }

  /** The restored checkpoint was its writer's last (a graceful stop): its unsaved windows were never emitted since. */
  trustRestored(): void {
    for (const s of this.series.values()) {
      for (const w of s.fine.values()) w.unverified = undefined;
      for (const w of s.coarse.values()) w.unverified = undefined;
    }
  }

  /** The meter window an event came from, if still held. */
  private windowOf(event: AggregateEvent): MeterWindow | undefined {
    const series = this.series.get(`${event.meter ?? ''}/${event.metric}`);
    if (!series) return undefined;
    return event.window === this.fineSize ? series.fine.get(event.start) : series.coarse.get(coarseKey(event.window, event.start));
  }

  /** Where a series' windows close: its own progress, or the flush watermark less the idle allowance. */
  private closeAt(s: Series): number {
    return Math.max(s.maxTs - this.outOfOrdernessMs, this.wm - this.idleSeriesMs);
  }

  /** Where a series' windows are forgotten: the short allowance behind its own progress, the long one behind the partition's. */
  private forgetAt(s: Series): number {
    return Math.max(s.maxTs - this.outOfOrdernessMs - this.allowedLatenessMs, this.wm - this.idleSeriesMs - this.partitionLatenessMs);
  }

  private queueBackfill(series: Series, ts: number, sample: Sample): void {
    const key = `${series.info.meter}/${series.info.metric}`;
    let p = this.pending.get(key);
    if (!p) {
      p = { series, readings: new Map() };
      this.pending.set(key, p);
    }
    p.readings.set(ts, sample);
  }

  /**
   * The spans to read back from the store for the late readings recorded since
   * the last call, one per series: from the start of the largest window holding
   * the oldest late reading to the end of the largest window holding the newest
   * (never past what the series forgot). The runtime extends a register's span
   * to the next stored reading (its step changes too) and passes the result to
   * `fill` before the next flush.
   */
  takeBackfills(): BackfillRequest[] {
    const out: BackfillRequest[] = [];
    for (const [key, p] of this.pending) {
      const times = [...p.readings.keys()];
      const min = Math.min(...times);
      const max = Math.max(...times);
      const i = p.series.info;
      const limit = p.series.forgotten;
      out.push({
        key, park: i.park, tenant: i.tenant, meter: i.meter, metric: i.metric, cumulative: i.register !== undefined,
        from: windowStart(min, this.largest, i.zone), to: Math.min(limit, windowBounds(max, this.largest, i.zone).end), limit, zone: i.zone,
        readings: [...p.readings].sort(([a], [b]) => a - b).map(([ts, s]) => ({ ts, value: s.value, simulated: s.simulated })),
        sizes: [...this.sizes],
      });
    }
    this.pending.clear();
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Recomputes a backfill span from the store's readings (the late ones merged
   * in) and returns the forgotten meter windows whose content differs from the
   * stored one, each as the stored revision + 1 (0 when none was stored). Windows
   * still held that the span reaches (a larger window straddling the forgotten
   * boundary, the register baseline of the first held window) are updated and go
   * out with the next flush; the roll-ups of changed windows follow: their
   * partial when this aggregator still holds the roll-up window, otherwise a
   * recompute request for the roll-up stage.
   */
  fill(data: BackfillData): AggregateEvent[] {
    const series = this.series.get(data.key);
    if (!series) return [];
    const to = Math.min(data.to, series.forgotten);
    const samples = new Map<number, SampleRun>();
    const put = (ts: number, s: Sample): void => {
      if (ts < data.from || ts >= to) return;
      const start = windowStart(ts, this.fineSize);
      let m = samples.get(start);
      if (!m) samples.set(start, (m = new SampleRun(start)));
      m.set(ts, s.value, s.simulated);
    };
    for (const r of data.readings) if (Number.isFinite(r.value) && storableTime(r.ts)) put(r.ts, { value: r.value, simulated: r.simulated });
    for (const r of data.late) put(r.ts, { value: r.value, simulated: r.simulated });
    const rating = series.info.register;
    let prev = rating && data.before && data.before.ts < data.from ? { ts: data.before.ts, value: data.before.value } : undefined;
    const fine = new Map<number, Summary>();
    for (const start of [...samples.keys()].sort((a, b) => a - b)) {
      const r = summariseSamples(samples.get(start)!, rating ? { prev, rating } : undefined);
      fine.set(start, r.summary);
      prev = r.lastReading;
    }
    const stored = new Map<string, StoredWindow>(data.stored.map((w) => [coarseKey(w.window, w.start), w]));
    const out: AggregateEvent[] = [];
    const changed = (size: WindowSize, start: number, s: Summary): void => {
      const event = this.meterEventOf(series.info, size, start, windowBounds(start, size, series.info.zone).end, s);
      const before = stored.get(coarseKey(size, start));
      const hash = contentHash(event);
      if (before && before.hash === hash) return;
      event.revision = before ? before.revision + 1 : 0;
      out.push(event);
      this.rollupsChanged(series, size, start, s);
    };
    const fineStarts = [...fine.keys()].sort((a, b) => a - b);
    for (const start of fineStarts) changed(this.fineSize, start, fine.get(start)!);
    for (const size of this.coarseSizes) {
      const acc = new Map<number, Summary>();
      for (const start of fineStarts) {
        const c = windowStart(start, size, series.info.zone);
        acc.set(c, mergeInto(acc.get(c) ?? emptySummary(), fine.get(start)!));
      }
      for (const [start, s] of acc) {
        if (windowBounds(start, size, series.info.zone).end <= to) {
          changed(size, start, s);
          continue;
        }
        // Straddles the forgotten boundary: the held window's sealed part is what the store says.
        const w = this.coarseOf(series, size, start);
        w.sealed = s;
        this.markDirty(w);
      }
    }
    if (rating && to === series.forgotten && prev && (!series.carry || prev.ts !== series.carry.ts || prev.value !== series.carry.value)) {
      series.carry = prev;
      let first: FineWindow | undefined;
      for (const f of series.fine.values()) if (!first || f.start < first.start) first = f;
      if (first) this.touch(first);
    }
    return out.sort(byWindow);
  }

  /** A forgotten meter window changed: its roll-ups' partials follow. */
  private rollupsChanged(series: Series, size: WindowSize, start: number, s: Summary): void {
    const i = series.info;
    for (const [scope, scopeId] of [['tenant', i.tenant], ['park', i.park]] as const) {
      const id = windowIdOf(scope, scopeId, i.metric, size, start);
      const r = this.rollups.get(id);
      if (r) {
        r.frozen.set(i.meter, s);
        this.refreshed.add(r);
        continue;
      }
      this.recompute.set(id, {
        id, scope, park: i.park, ...(scope === 'tenant' ? { tenant: i.tenant } : {}), metric: i.metric, unit: i.unit, cumulative: i.register !== undefined,
        // No summary to send, and an empty one's infinite min and max would not survive JSON.
        window: size, start, end: windowBounds(start, size, i.zone).end, s: [0, 0, 0, 0, 0, 0, 0, 0, 0], lm: '', recompute: true,
      });
    }
  }

  snapshot(): AggregatorState {
    return this.stateWith(fineState);
  }

  /**
   * The checkpoint as JSON text, parsing to what `snapshot()` returns. Each fine
   * window's part (its samples: the bulk of the state) is encoded once and kept
   * until the window changes, so checkpointing after every batch re-encodes only
   * the windows the batch touched.
   */
  snapshotJson(): string {
    const { series, ...head } = this.stateWith((w) => (w.json ??= JSON.stringify(fineState(w))));
    // `rest` always holds `coarse` and `head` always `v`: neither object is empty.
    const parts = series.map(({ meter, metric, fine, ...rest }) => `{"meter":${JSON.stringify(meter)},"metric":${JSON.stringify(metric)},"fine":[${fine.join(',')}],${JSON.stringify(rest).slice(1)}`);
    return `{"series":[${parts.join(',')}],${JSON.stringify(head).slice(1)}`;
  }

  /** The checkpoint, with each fine window's part as `fineOf` gives it. */
  private stateWith<F>(fineOf: (w: FineWindow) => F): StateWith<F> {
    // The final summaries the roll-ups hold of forgotten windows, once per series and window. The park window holds every one its
    // tenant window does (the same summary: freeze and fill set both, and a tenant window is dropped no later than its park's).
    const finals = new Map<string, NonNullable<SeriesState['z']>>();
    for (const r of this.rollups.values()) {
      if (r.scope !== 'park') continue;
      for (const [meter, sum] of r.frozen) {
        const key = `${meter}/${r.metric}`;
        const z = finals.get(key);
        if (z) z.push([r.size, r.start, encodeSummary(sum)]);
        else finals.set(key, [[r.size, r.start, encodeSummary(sum)]]);
      }
    }
    const series: StateWith<F>['series'] = [];
    for (const [key, s] of this.series) {
      const z = finals.get(key);
      // A series with nothing held and no progress of its own beyond the shared boundary restores as a new one would.
      if (s.fine.size === 0 && s.coarse.size === 0 && !s.carry && !z && s.forgotten <= this.forgotten) continue;
      const fine = [...s.fine.values()].sort((a, b) => a.start - b.start).map(fineOf);
      const coarse: CoarseState[] = [...s.coarse.values()].sort((a, b) => windowMs[a.size] - windowMs[b.size] || a.start - b.start).map((w) => {
        const c: CoarseState = { w: w.size, s: w.start };
        if (w.sealed) c.a = encodeSummary(w.sealed);
        if (w.dirty) c.d = 1;
        if (w.emitted) c.e = [w.emitted.revision, w.emitted.hash];
        return c;
      });
      const st: StateWith<F>['series'][number] = { meter: s.info.meter, metric: s.info.metric, fine, coarse };
      if (s.carry) st.carry = [s.carry.ts, s.carry.value];
      if (Number.isFinite(s.maxTs)) st.p = s.maxTs;
      if (s.forgotten > this.forgotten) st.f = s.forgotten;
      if (z) st.z = z.sort((a, b) => windowMs[a[0]] - windowMs[b[0]] || a[1] - b[1]);
      series.push(st);
    }
    const rollups: AggregatorState['rollups'] = [];
    for (const r of this.rollups.values()) if (r.emitted) rollups.push([r.id, r.emitted.revision, r.emitted.hash]);
    rollups.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); // restore rebuilds them in another order
    const state: StateWith<F> = {
      v: 1,
      windows: [...this.sizes],
      watermark: this.watermark ?? null,
      maxEventTime: this.maxEventTime ?? null,
      late: this.lateTotal,
      series,
      rollups,
    };
    if (Number.isFinite(this.forgotten)) state.forgotten = this.forgotten;
    return state;
  }

  /**
   * Rebuilds an aggregator from a checkpoint (validate JSON from storage with
   * parseAggregatorState first). Series of meters no longer in the registry are
   * dropped; a checkpoint made with other window sizes is refused, since its
   * fine windows would mean something else.
   */
  static restore(state: AggregatorState, options: WindowAggregatorOptions): WindowAggregator {
    if (state.v !== 1) throw new Error(`aggregator checkpoint version ${String(state.v)} is not supported`);
    const agg = new WindowAggregator(options);
    const saved = [...new Set(state.windows)].sort((a, b) => windowMs[a] - windowMs[b]);
    if (saved.join(',') !== agg.sizes.join(',')) {
      throw new Error(`aggregator checkpoint was made with windows ${saved.join(', ')} but ${agg.sizes.join(', ')} are configured: drop it and replay the readings from before the open windows`);
    }
    agg.wm = state.watermark ?? -Infinity;
    agg.maxTs = state.maxEventTime ?? -Infinity;
    agg.lateTotal = state.late;
    // A checkpoint from before per-series progress forgot by the watermark alone.
    agg.forgotten = state.forgotten ?? (state.watermark === null ? -Infinity : windowStart(state.watermark - agg.partitionLatenessMs, agg.fineSize));
    // Windows not emitted when the checkpoint was written may have been emitted by its writer since.
    agg.replaying = true;
    for (const st of state.series) {
      const entry = agg.registry.meter(st.meter);
      if (!entry || !isMetricName(st.metric)) continue;
      const series = agg.seriesOf(entry, st.metric);
      if (st.carry) series.carry = { ts: st.carry[0], value: st.carry[1] };
      let rebuilt = false;
      if (st.p !== undefined) {
        series.maxTs = st.p;
        if (st.p > agg.maxTs) agg.maxTs = st.p;
      }
      if (st.f !== undefined && st.f > series.forgotten) series.forgotten = st.f;
      for (const c of st.coarse) {
        if (windowStart(c.s, c.w, series.info.zone) !== c.s) {
          // A checkpoint from before local alignment: its UTC hour or day is dropped, the local one rebuilt from the fine windows still open.
          if (windowStart(c.s, c.w) === c.s) {
            rebuilt = true;
            continue;
          }
          throw new Error(`aggregator checkpoint: ${c.w} window of ${st.meter}/${st.metric} starts at ${c.s}, not on a ${c.w} boundary`);
        }
        const w = agg.coarseOf(series, c.w, c.s);
        if (c.a) w.sealed = decodeSummary(c.a);
        if (c.e) w.emitted = { revision: c.e[0], hash: c.e[1] };
        if (c.d) agg.markDirty(w);
      }
      for (const f of st.fine) {
        if (windowStart(f.s, agg.fineSize) !== f.s || f.x.some(([dt]) => dt < 0 || dt >= agg.fineMs)) {
          throw new Error(`aggregator checkpoint: ${agg.fineSize} window of ${st.meter}/${st.metric} at ${f.s} is misaligned or holds samples outside it`);
        }
        const w = agg.openFine(series, f.s);
        for (const x of f.x) w.samples.set(f.s + x[0], x[1], x.length === 3);
        if (f.e) w.emitted = { revision: f.e[0], hash: f.e[1] };
        if (f.d) agg.markDirty(w);
        if (rebuilt) for (const c of w.parents) agg.markDirty(c);
      }
      for (const [size, start, sum] of st.z ?? []) {
        if (!agg.sizes.includes(size)) continue;
        const summary = decodeSummary(sum);
        for (const r of agg.rollupsOf(series.info, size, start, windowBounds(start, size, series.info.zone).end)) r.frozen.set(series.info.meter, summary);
      }
    }
    agg.replaying = false;
    for (const [id, revision, hash] of state.rollups) {
      const r = agg.rollups.get(id);
      if (r) r.emitted = { revision, hash };
    }
    return agg;
  }

  private seriesOf(entry: MeterEntry, metric: MetricName): Series {
    const key = `${entry.meter.id}/${metric}`;
    let s = this.series.get(key);
    if (!s) {
      const def = metricCatalogue[metric];
      const info: SeriesInfo = {
        park: entry.park.id,
        tenant: entry.tenant.id,
        meter: entry.meter.id,
        metric,
        unit: def.unit,
        register: def.kind === 'cumulative' ? registerProfile(entry.meter, metric) : undefined,
        cadenceMs: entry.meter.cadenceSeconds * 1000,
        zone: entry.park.timezone,
      };
      s = { info, carry: undefined, fine: new Map(), coarse: new Map(), maxFineStart: -Infinity, maxTs: -Infinity, forgotten: this.forgotten };
      this.series.set(key, s);
    }
    return s;
  }

  private openFine(series: Series, start: number): FineWindow {
    const w: FineWindow = { kind: 'fine', series, start, end: start + this.fineMs, samples: new SampleRun(start), parents: [], dirty: false, emitted: undefined, rollups: [] };
    this.join(w, this.fineSize);
    series.fine.set(start, w);
    if (start > series.maxFineStart) series.maxFineStart = start;
    if (w.end < this.nextEnd) this.nextEnd = w.end;
    // Found by the zone's bounds once here, not again with every reading.
    for (const size of this.coarseSizes) w.parents.push(this.coarseOf(series, size, windowStart(start, size, series.info.zone)));
    return w;
  }

  private coarseOf(series: Series, size: WindowSize, start: number): CoarseWindow {
    const key = coarseKey(size, start);
    let w = series.coarse.get(key);
    if (!w) {
      w = { kind: 'coarse', series, size, start, end: windowBounds(start, size, series.info.zone).end, sealed: undefined, dirty: false, emitted: undefined, rollups: [] };
      this.join(w, size);
      series.coarse.set(key, w);
      if (w.end < this.nextEnd) this.nextEnd = w.end;
    }
    return w;
  }

  /** Makes a meter window a member of its tenant and park roll-ups. */
  private join(w: MeterWindow, size: WindowSize): void {
    const i = w.series.info;
    for (const r of this.rollupsOf(i, size, w.start, w.end)) {
      r.members.set(i.meter, w);
      w.rollups.push(r);
    }
  }

  /** The series' tenant and park windows of this size and start, opened when not held. */
  private rollupsOf(i: SeriesInfo, size: WindowSize, start: number, end: number): RollupWindow[] {
    return (([['tenant', i.tenant], ['park', i.park]] as const).map(([scope, scopeId]) => {
      const id = windowIdOf(scope, scopeId, i.metric, size, start);
      let r = this.rollups.get(id);
      if (!r) {
        r = { id, scope, park: i.park, tenant: scope === 'tenant' ? i.tenant : undefined, metric: i.metric, unit: i.unit, cumulative: i.register !== undefined, size, start, end, members: new Map(), frozen: new Map(), emitted: undefined };
        this.rollups.set(id, r);
      }
      return r;
    }));
  }

  private markDirty(w: MeterWindow): void {
    w.json = undefined;
    if (this.replaying) w.unverified = true;
    if (w.dirty) return;
    w.dirty = true;
    let ws = this.dirty.get(w.end);
    if (!ws) this.dirty.set(w.end, (ws = new Set()));
    ws.add(w);
  }

  private clean(w: MeterWindow): void {
    w.json = undefined;
    if (!w.dirty) return;
    w.dirty = false;
    const ws = this.dirty.get(w.end);
    if (!ws) return;
    ws.delete(w);
    if (ws.size === 0) this.dirty.delete(w.end);
  }

  /** A changed fine window changes its parents and, for a register, the baseline of the next fine window. */
  private touch(w: FineWindow): void {
    this.markDirty(w);
    for (const c of w.parents) this.markDirty(c);
    const s = w.series;
    if (!s.info.register || w.start >= s.maxFineStart) return;
    let next: FineWindow | undefined;
    for (const f of s.fine.values()) if (f.start > w.start && (!next || f.start < next.start)) next = f;
    if (!next) return;
    this.markDirty(next);
    for (const c of next.parents) this.markDirty(c);
  }

  private chain(series: Series, cache: Map<Series, Chain>): Chain {
    const cached = cache.get(series);
    if (cached) return cached;
    const ordered = [...series.fine.values()];
    // Windows open in start order unless data arrived out of order: sort only then.
    if (ordered.some((f, i) => i > 0 && f.start < ordered[i - 1]!.start)) ordered.sort((a, b) => a.start - b.start);
    const summaries = new Map<FineWindow, Summary>();
    const rating = series.info.register;
    let prev = series.carry;
    for (const f of ordered) {
      const held = f.summarised;
      const r = held && sameReading(held.prev, prev) ? held : (f.summarised = { prev, ...summariseSamples(f.samples, rating ? { prev, rating } : undefined) });
      summaries.set(f, r.summary);
      prev = r.lastReading;
    }
    const chain = { ordered, summaries };
    cache.set(series, chain);
    return chain;
  }

  private summaryOf(w: MeterWindow, cache: Map<Series, Chain>): Summary {
    const chain = this.chain(w.series, cache);
    if (w.kind === 'fine') return chain.summaries.get(w) ?? emptySummary();
    // Folded in start order whether a fine window is already sealed or not, so the sums are replay-stable.
    const acc = emptySummary();
    if (w.sealed) mergeInto(acc, w.sealed);
    for (const f of chain.ordered) if (f.start >= w.start && f.end <= w.end) mergeInto(acc, chain.summaries.get(f)!);
    return acc;
  }

  private meterEvent(w: MeterWindow, s: Summary): AggregateEvent {
    return this.meterEventOf(w.series.info, w.kind === 'fine' ? this.fineSize : w.size, w.start, w.end, s);
  }

  private meterEventOf(i: SeriesInfo, size: WindowSize, start: number, end: number, s: Summary): AggregateEvent {
    // From the window's own bounds (a DST day is 23 or 25 hours); a window shorter than the cadence expects one reading, not a fraction.
    const expected = Math.max(1, (end - start) / i.cadenceMs);
    return {
      v: 1,
      windowId: windowIdOf('meter', i.meter, i.metric, size, start),
      revision: 0,
      scope: 'meter',
      park: i.park,
      tenant: i.tenant,
      meter: i.meter,
      metric: i.metric,
      unit: i.unit,
      window: size,
      start,
      end,
      count: s.count,
      sum: s.sum,
      min: s.min,
      max: s.max,
      mean: s.sum / s.count,
      last: s.last,
      ...(i.register ? { consumption: s.consumption } : {}),
      registerEvents: eventsFromBits(s.events),
      completeness: s.count / expected,
      expected,
      lastAt: s.lastTs,
      simulated: s.real === 0,
    };
  }

  /** This aggregator's share of a roll-up window: its member meters folded in meter-id order. */
  private rollupPartial(r: RollupWindow, cache: Map<Series, Chain>): RollupPartial {
    const ids = [...new Set([...r.members.keys(), ...r.frozen.keys()])].sort();
    const acc = emptySummary();
    let lastMeter = '';
    for (const id of ids) {
      const m = r.members.get(id);
      const s = m ? this.summaryOf(m, cache) : r.frozen.get(id)!;
      // mergeInto gives ties on event time to the later-folded, so the greater meter id.
      if (s.count > 0 && s.lastTs >= acc.lastTs) lastMeter = id;
      mergeInto(acc, s);
    }
    return {
      id: r.id,
      scope: r.scope,
      park: r.park,
      ...(r.tenant !== undefined ? { tenant: r.tenant } : {}),
      metric: r.metric,
      unit: r.unit,
      cumulative: r.cumulative,
      window: r.size,
      start: r.start,
      end: r.end,
      s: encodeSummary(acc),
      lm: lastMeter,
    };
  }

  /** Emits with the next revision unless the content is what was emitted last time. */
  private emitIfChanged(target: { emitted: Emitted | undefined }, event: AggregateEvent, out: AggregateEvent[]): void {
    const hash = contentHash(event);
    if (target.emitted?.hash === hash) return;
    this.emitNext(target, event, hash);
    out.push(event);
  }

  private emitNext(target: { emitted: Emitted | undefined }, event: AggregateEvent, hash = contentHash(event)): void {
    event.revision = target.emitted ? target.emitted.revision + 1 : 0;
    target.emitted = { revision: event.revision, hash };
  }

  /**
   * Forgets windows whose allowance has passed, per series (`forgetAt`: its own
   * progress less the short allowance, or the flush watermark less the idle and
   * the partition allowance). A fine window's final summary
   * is folded into its larger windows and its last register reading becomes the
   * series' carry; a forgotten window's final summary stays with the roll-ups
   * still held that it belongs to. None of it changes what is emitted.
   */
  private sweep(cache: Map<Series, Chain>): void {
    let nextEnd = Infinity;
    for (const series of this.series.values()) {
      const limit = this.forgetAt(series);
      const boundary = windowStart(limit, this.fineSize);
      let expiring = false;
      for (const f of series.fine.values()) {
        if (f.end <= limit) {
          expiring = true;
          break;
        }
      }
      if (expiring) {
        const chain = this.chain(series, cache);
        for (const f of chain.ordered) {
          if (f.end > limit) break;
          const s = chain.summaries.get(f)!;
          for (const c of f.parents) c.sealed = mergeInto(c.sealed ?? emptySummary(), s);
          if (series.info.register) series.carry = { ts: s.lastTs, value: s.last };
          this.freeze(f, s);
          series.fine.delete(f.start);
          this.clean(f);
        }
      }
      for (const f of series.fine.values()) if (f.end < nextEnd) nextEnd = f.end;
      for (const [key, c] of series.coarse) {
        if (c.end <= limit) {
          // Every fine window inside went into sealed just above (the chain cache still lists them).
          this.freeze(c, c.sealed ?? emptySummary());
          series.coarse.delete(key);
          this.clean(c);
        } else if (c.end < nextEnd) nextEnd = c.end;
      }
      if (boundary > series.forgotten) series.forgotten = boundary;
    }
    // A roll-up window outlives its members' windows: a series not heard from may still join it until the partition forgets it.
    const shared = this.wm - this.idleSeriesMs - this.partitionLatenessMs;
    for (const [id, r] of this.rollups) if (r.members.size === 0 && r.end <= shared) this.rollups.delete(id);
    this.nextEnd = nextEnd;
  }

  private freeze(w: MeterWindow, s: Summary): void {
    for (const r of w.rollups) {
      if (r.members.get(w.series.info.meter) !== w) continue;
      r.members.delete(w.series.info.meter);
      if (s.count > 0) r.frozen.set(w.series.info.meter, s);
    }
  }
}

export { watermarkFrom, windowIdOf, windowStart } from './windows.ts';
export { parseAggregatorState, type AggregatorState } from './state.ts';
export { contentHash, type NumberingOutcome, type StoredRevisions } from './revisions.ts';
export { storedWindowOf, type BackfillData, type BackfillRequest, type StoredWindow } from './backfill.ts';
export { RollupCombiner, parseRollupState, partialsMessageSchema, rollupPartialSchema, type PartialsMessage, type RollupCombinerOptions, type RollupPartial, type RollupState, type SourceReport, type RecomputeRequest, type StoredMember } from './rollups.ts';
