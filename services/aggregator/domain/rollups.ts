/**
 * The roll-up stage's pure core. Tenant and park windows need the readings of
 * every readings partition, which scaled-out aggregator instances hold apart:
 * each partition's WindowAggregator emits a partial per roll-up window (the
 * summary of its own member meters) and its watermark, and this combiner folds
 * the partials of every source into the roll-up event.
 *
 * A roll-up window is emitted once the combined watermark passes its end: the
 * slowest source still delivering has flushed past it (a source sends its
 * partials before its watermark, in one ordered stream), or the sources that
 * have not are silent (idle) and no longer hold it back. A partial arriving
 * later (a late reading, a source catching up after a takeover) revises the
 * window, as a late reading always did; one whose window is past the allowed
 * lateness is dropped and counted. Pure: no I/O, and the caller passes the time.
 */
import { z } from 'zod';
import { windowMs, windowSizeSchema, type AggregateEvent, type WindowSize } from '../../../shared/contracts/events.ts';
import { slowestActive } from './progress.ts';
import { eventBit, eventsFromBits } from './register.ts';
import { registerEventSchema } from '../../../shared/contracts/events.ts';
import type { RegisterEvent } from '../../../shared/domain/register.ts';
import { decodeSummary, emptySummary, encodeSummary, mergeInto, type Summary } from './summary.ts';
import { satAdd } from '../../../shared/saturating.ts';
import { partitionForKey } from '../../../shared/ports/partitioner.ts';
import { contentHash, numberAllAfterStore, type NumberingOutcome, type StoredRevisions } from './revisions.ts';

const num = z.number().finite();
const count = z.number().int().nonnegative();
/** [count, sum, min, max, lastTs, last, real, consumption, events]: see summary.ts (min and max may be infinite when empty). */
const summarySchema = z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]);

export const rollupPartialSchema = z.object({
  /** The roll-up's window id (tenant:... or park:...). */
  id: z.string().min(1),
  scope: z.enum(['tenant', 'park']),
  park: z.string().min(1),
  tenant: z.string().min(1).optional(),
  metric: z.string().min(1),
  unit: z.string(),
  /** A register metric: the roll-up carries consumption. */
  cumulative: z.boolean(),
  window: windowSizeSchema,
  start: num,
  /** The window's end (local hours and days vary in length); older partials lack it and end start + the size. */
  end: num.optional(),
  /** The source's summary of its member meters' windows. */
  s: summarySchema,
  /** The meter whose reading is `last` in s: ties on event time go to the greater meter id, across sources too. */
  lm: z.string(),
  /**
   * The source no longer holds this window (a backfill changed a member long
   * after): s means nothing, the stage recomputes the source's share (or the
   * whole window, when it forgot it too) from the stored meter windows.
   */
  recompute: z.literal(true).optional(),
});
export type RollupPartial = z.infer<typeof rollupPartialSchema>;

/** A message of eip.aggregator-partials.v1: one readings partition's report, for one aggregator group. */
export const partialsMessageSchema = z.object({
  v: z.literal(1),
  /** The aggregator's consumer group: groups share the topic, each combines its own. */
  group: z.string().min(1),
  source: count,
  sources: z.number().int().positive(),
  watermark: num.nullable(),
  partials: z.array(rollupPartialSchema),
});
export type PartialsMessage = z.infer<typeof partialsMessageSchema>;

/** What one source (a readings partition) says at once: its partials, then how far it has flushed. */
export interface SourceReport {
  source: number;
  /**
   * How many sources there are (the readings topic's partitions): a source not
   * heard from yet holds the roll-ups back for one idle period after the count
   * became known, like any active source that has not reported.
   */
  sources?: number;
  /** The source's watermark after these partials: it has sent every partial of windows ending at or before it. */
  watermark: number | null;
  partials: readonly RollupPartial[];
}

export interface RollupCombinerOptions {
  /** How long after a window closed a partial may still revise it in memory (later: recomputed from the store). */
  allowedLatenessMs: number;
  /** A source silent for this long stops holding the roll-up watermark back. */
  idleSourceMs: number;
}

const windowStateSchema = z.object({
  id: z.string().min(1),
  scope: z.enum(['tenant', 'park']),
  park: z.string().min(1),
  tenant: z.string().min(1).optional(),
  metric: z.string().min(1),
  unit: z.string(),
  c: z.boolean(),
  w: windowSizeSchema,
  s: num,
  /** End, when it is not s + the size (a local day of 23 or 25 hours). */
  n: num.optional(),
  /** [source, summary, lastMeter] per source that sent a partial. */
  parts: z.array(z.tuple([count, summarySchema, z.string()])),
  d: z.literal(1).optional(),
  /** [revision, fingerprint] of the last emission. */
  e: z.tuple([count, count]).optional(),
});

export const rollupStateSchema = z.object({
  v: z.literal(1),
  watermark: num.nullable(),
  late: count,
  /** [source, its watermark, or null when it has not reported one] */
  sources: z.array(z.tuple([count, num.nullable()])),
  windows: z.array(windowStateSchema),
});
export type RollupState = z.infer<typeof rollupStateSchema>;

/** Validates a roll-up checkpoint read back from storage. */
export function parseRollupState(json: unknown): RollupState {
  const parsed = rollupStateSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
    throw new Error(`roll-up checkpoint is invalid: ${detail}`);
  }
  return parsed.data;
}

interface Part {
  summary: Summary;
  lastMeter: string;
}

interface Combined {
  id: string;
  scope: 'tenant' | 'park';
  park: string;
  tenant: string | undefined;
  metric: string;
  unit: string;
  cumulative: boolean;
  size: WindowSize;
  start: number;
  end: number;
  parts: Map<number, Part>;
  dirty: boolean;
  emitted: { revision: number; hash: number } | undefined;
  /** Changed while replaying, or restored unemitted: numbered after the store (revisions.ts). */
  unverified?: true | undefined;
}

const scopeRank = { meter: 0, tenant: 1, park: 2 } as const;

/** Output order: window end, then size, scope and id. */
export function byWindow(a: AggregateEvent, b: AggregateEvent): number {
  return a.end - b.end || windowMs[a.window] - windowMs[b.window] || scopeRank[a.scope] - scopeRank[b.scope] || (a.windowId < b.windowId ? -1 : a.windowId > b.windowId ? 1 : 0);
}

/** A roll-up window to recompute from the store: the whole of it (source undefined), or one source's share. */
export interface RecomputeRequest {
  partial: RollupPartial;
  source: number | undefined;
  /** The readings partitions: a member meter's source is partitionForKey(meter, sources). */
  sources: number | undefined;
}

/** A stored meter window of a roll-up's member, as the roll-up stage folds it. */
export interface StoredMember {
  meter: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  /** Event time of `last`; a window stored without it counts as ending at its own end. */
  lastAt: number;
  consumption: number;
  registerEvents: readonly string[];
  simulated: boolean;
}

/** Folds stored member windows in meter-id order, as the aggregator folds its members. */
function foldStored(members: readonly StoredMember[]): Part {
  const acc = emptySummary();
  let lastMeter = '';
  for (const m of [...members].sort((a, b) => (a.meter < b.meter ? -1 : a.meter > b.meter ? 1 : 0))) {
    if (m.count === 0) continue;
    let events = 0;
    for (const e of m.registerEvents) if (isRegisterEvent(e)) events |= eventBit(e);
    // mergeInto gives ties on event time to the later-folded, so the greater meter id.
    if (m.lastAt >= acc.lastTs) lastMeter = m.meter;
    mergeInto(acc, { count: m.count, sum: m.sum, min: m.min, max: m.max, lastTs: m.lastAt, last: m.last, real: m.simulated ? 0 : m.count, consumption: m.consumption, events });
  }
  return { summary: acc, lastMeter };
}

const isRegisterEvent = (e: string): e is RegisterEvent => registerEventSchema.safeParse(e).success;

export class RollupCombiner {
  private readonly allowedLatenessMs: number;
  private readonly idleSourceMs: number;
  private readonly windows = new Map<string, Combined>();
  private readonly sources = new Map<number, { at: number; seenAt: number }>();
  private wm = -Infinity;
  private lateTotal = 0;
  /** Events of the last flush whose windows changed while replaying (see `takeUnverified`). */
  private unverifiedOut: AggregateEvent[] = [];
  /**
   * Set by the runtime while it takes partials an earlier owner of the
   * partition may have emitted windows from after its checkpoint.
   */
  replaying = false;

  constructor(options: RollupCombinerOptions) {
    if (!(options.allowedLatenessMs >= 0) || !Number.isFinite(options.allowedLatenessMs)) throw new RangeError(`allowedLatenessMs must be a finite number >= 0, got ${options.allowedLatenessMs}`);
    if (!(options.idleSourceMs > 0) || !Number.isFinite(options.idleSourceMs)) throw new RangeError(`idleSourceMs must be a finite number > 0, got ${options.idleSourceMs}`);
    this.allowedLatenessMs = options.allowedLatenessMs;
    this.idleSourceMs = options.idleSourceMs;
  }

  /** The watermark of the last flush (undefined before the first that had one). */
  get watermark(): number | undefined {
    return Number.isFinite(this.wm) ? this.wm : undefined;
  }

  get lateCount(): number {
    return this.lateTotal;
  }

  get openWindows(): number {
    return this.windows.size;
  }

  /** Roll-up windows the next flush would close at `now`, from the sources' progress. */
  watermarkAt(now: number): number | undefined {
    return slowestActive(this.sources.values(), now, this.idleSourceMs);
  }

  /**
   * Takes one source's report: each partial replaces the source's previous one
   * for its window (a redelivered report changes nothing); the watermark only
   * moves forward. Partials of windows past the allowed lateness are dropped.
   */
  add(report: SourceReport, now: number): { accepted: number; late: number; recompute: RecomputeRequest[] } {
    for (let i = 0; i < (report.sources ?? 0); i++) if (!this.sources.has(i)) this.sources.set(i, { at: -Infinity, seenAt: now });
    let accepted = 0;
    let late = 0;
    const recompute: RecomputeRequest[] = [];
    for (const p of report.partials) {
      const end = p.end ?? p.start + windowMs[p.window];
      const held = this.windows.has(p.id);
      if (!held && end + this.allowedLatenessMs <= this.wm) {
        // Forgotten here: the stored meter windows of every member say what it is now.
        late++;
        recompute.push({ partial: p, source: undefined, sources: report.sources });
        continue;
      }
      if (p.recompute === true) {
        if (held) recompute.push({ partial: p, source: report.source, sources: report.sources });
        else { late++; recompute.push({ partial: p, source: undefined, sources: report.sources }); }
        continue;
      }
      let w = this.windows.get(p.id);
      if (!w) {
        w = { id: p.id, scope: p.scope, park: p.park, tenant: p.tenant, metric: p.metric, unit: p.unit, cumulative: p.cumulative, size: p.window, start: p.start, end, parts: new Map(), dirty: false, emitted: undefined };
        this.windows.set(p.id, w);
      }
      w.parts.set(report.source, { summary: decodeSummary(p.s), lastMeter: p.lm });
      this.markDirty(w);
      accepted++;
    }
    const s = this.sources.get(report.source) ?? { at: -Infinity, seenAt: now };
    if (report.watermark !== null && report.watermark > s.at) s.at = report.watermark;
    s.seenAt = now;
    this.sources.set(report.source, s);
    this.lateTotal += late;
    return { accepted, late, recompute };
  }

  /**
   * Applies a recomputation from stored meter windows (the runtime read them for
   * a RecomputeRequest). With a source, the source's share of a window still held
   * is replaced (emitted by the next flush); without, the whole forgotten window
   * is rebuilt and returned as the stored revision + 1 when its content changed
   * (nothing when the store already holds it, or nothing is stored of it).
   */
  recomputed(request: RecomputeRequest, members: readonly StoredMember[], stored: { revision: number; hash: number } | undefined): AggregateEvent | undefined {
    const p = request.partial;
    // Grouped by readings partition and folded as the sources' partials would be, so sums come out the same.
    const sourceOf = (meter: string): number => (request.sources === undefined ? 0 : partitionForKey(meter, request.sources));
    if (request.source !== undefined) {
      const w = this.windows.get(p.id);
      if (!w) return undefined;
      w.parts.set(request.source, foldStored(members.filter((m) => sourceOf(m.meter) === request.source)));
      this.markDirty(w);
      return undefined;
    }
    const bySource = new Map<number, StoredMember[]>();
    for (const m of members) {
      const k = sourceOf(m.meter);
      const list = bySource.get(k);
      if (list) list.push(m);
      else bySource.set(k, [m]);
    }
    const parts = new Map([...bySource].map(([k, ms]) => [k, foldStored(ms)]));
    if (![...parts.values()].some((x) => x.summary.count > 0)) return undefined;
    const end = p.start + windowMs[p.window];
    const c: Combined = {
      id: p.id, scope: p.scope, park: p.park, tenant: p.tenant, metric: p.metric, unit: p.unit, cumulative: p.cumulative, size: p.window, start: p.start, end,
      parts, dirty: false, emitted: undefined,
    };
    const event = this.event(c);
    const hash = contentHash(event);
    if (stored?.hash === hash) return undefined;
    event.revision = stored ? stored.revision + 1 : 0;
    return event;
  }

  /**
   * Emits every roll-up window that ended at or before the combined watermark
   * and changed since it was last emitted, then forgets windows past the
   * allowed lateness.
   */
  flush(now: number): AggregateEvent[] {
    const w = this.watermarkAt(now);
    if (w !== undefined && w > this.wm) this.wm = w;
    const out: AggregateEvent[] = [];
    this.unverifiedOut = [];
    for (const c of this.windows.values()) {
      if (!c.dirty || c.end > this.wm) continue;
      c.dirty = false;
      const event = this.event(c);
      const hash = contentHash(event);
      if (c.unverified) {
        // Emitted whatever it holds: the store decides its number, and an unchanged window goes out again as a repeat.
        c.unverified = undefined;
        if (c.emitted?.hash === hash) event.revision = c.emitted.revision;
        else {
          event.revision = c.emitted ? c.emitted.revision + 1 : 0;
          c.emitted = { revision: event.revision, hash };
        }
        this.unverifiedOut.push(event);
        out.push(event);
        continue;
      }
      if (c.emitted?.hash === hash) continue;
      event.revision = c.emitted ? c.emitted.revision + 1 : 0;
      c.emitted = { revision: event.revision, hash };
      out.push(event);
    }
    for (const [id, c] of this.windows) if (c.end + this.allowedLatenessMs <= this.wm) this.windows.delete(id);
    return out.sort(byWindow);
  }

  /** The events of the last flush (also in what it returned) to number after the store with `confirmRevisions`. */
  takeUnverified(): AggregateEvent[] {
    const out = this.unverifiedOut;
    this.unverifiedOut = [];
    return out;
  }

  /** Numbers events of `takeUnverified` after what the store holds of them (revisions.ts). */
  confirmRevisions(events: readonly AggregateEvent[], stored: StoredRevisions): Record<NumberingOutcome, number> {
    return numberAllAfterStore(events, stored, (event, revision, hash) => {
      const c = this.windows.get(event.windowId);
      if (c) c.emitted = { revision, hash };
    });
  }

  private markDirty(c: Combined): void {
    c.dirty = true;
    if (this.replaying) c.unverified = true;
  }

  private event(c: Combined): AggregateEvent {
    // Sources in order, the same whichever instance held them; `last` is the newest reading, ties to the greater meter id.
    const acc = emptySummary();
    let lastMeter = '';
    for (const source of [...c.parts.keys()].sort((a, b) => a - b)) {
      const { summary: s, lastMeter: lm } = c.parts.get(source)!;
      if (s.count === 0) continue;
      acc.count += s.count;
      acc.sum = satAdd(acc.sum, s.sum);
      if (s.min < acc.min) acc.min = s.min;
      if (s.max > acc.max) acc.max = s.max;
      if (s.lastTs > acc.lastTs || (s.lastTs === acc.lastTs && lm > lastMeter)) {
        acc.lastTs = s.lastTs;
        acc.last = s.last;
        lastMeter = lm;
      }
      acc.real += s.real;
      acc.consumption = satAdd(acc.consumption, s.consumption);
      acc.events |= s.events;
    }
    return {
      v: 1,
      windowId: c.id,
      revision: 0,
      scope: c.scope,
      park: c.park,
      ...(c.tenant !== undefined ? { tenant: c.tenant } : {}),
      metric: c.metric,
      unit: c.unit,
      window: c.size,
      start: c.start,
      end: c.end,
      count: acc.count,
      sum: acc.sum,
      min: acc.min,
      max: acc.max,
      mean: acc.sum / acc.count,
      last: acc.last,
      ...(c.cumulative ? { consumption: acc.consumption } : {}),
      registerEvents: eventsFromBits(acc.events),
      simulated: acc.real === 0,
    };
  }

  snapshot(): RollupState {
    const windows = [...this.windows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((c) => {
      const w: RollupState['windows'][number] = {
        id: c.id, scope: c.scope, park: c.park, metric: c.metric, unit: c.unit, c: c.cumulative, w: c.size, s: c.start,
        parts: [...c.parts].sort(([a], [b]) => a - b).map(([source, p]) => [source, encodeSummary(p.summary), p.lastMeter]),
      };
      if (c.tenant !== undefined) w.tenant = c.tenant;
      if (c.end !== c.start + windowMs[c.size]) w.n = c.end;
      if (c.dirty) w.d = 1;
      if (c.emitted) w.e = [c.emitted.revision, c.emitted.hash];
      return w;
    });
    return {
      v: 1,
      watermark: this.watermark ?? null,
      late: this.lateTotal,
      sources: [...this.sources].sort(([a], [b]) => a - b).map(([source, s]) => [source, Number.isFinite(s.at) ? s.at : null]),
      windows,
    };
  }

  /**
   * Rebuilds a combiner from a checkpoint (validate JSON with parseRollupState
   * first). Sources count as just heard from at `now`: each holds the watermark
   * where it was until it reports again or goes idle.
   */
  static restore(state: RollupState, options: RollupCombinerOptions, now: number): RollupCombiner {
    const c = new RollupCombiner(options);
    c.wm = state.watermark ?? -Infinity;
    c.lateTotal = state.late;
    for (const [source, at] of state.sources) c.sources.set(source, { at: at ?? -Infinity, seenAt: now });
    for (const w of state.windows) {
      c.windows.set(w.id, {
        id: w.id, scope: w.scope, park: w.park, tenant: w.tenant, metric: w.metric, unit: w.unit, cumulative: w.c, size: w.w, start: w.s, end: w.n ?? w.s + windowMs[w.w],
        parts: new Map(w.parts.map(([source, s, lm]) => [source, { summary: decodeSummary(s), lastMeter: lm }])),
        dirty: w.d === 1,
        emitted: w.e ? { revision: w.e[0], hash: w.e[1] } : undefined,
        // Not emitted when the checkpoint was written: its writer may have emitted it since.
        ...(w.d === 1 ? { unverified: true as const } : {}),
      });
    }
    return c;
  }
}
