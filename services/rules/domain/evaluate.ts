/**
 * Per-kind evaluation: from one input (a sample or a closed window) to the
 * condition level of one binding, with the provenance that explains it. Pure
 * functions over the binding's state; the alert state machine lives in engine.ts.
 */
import type { AggregateEvent } from '../../../shared/contracts/events.ts';
import { factorAt, limitAt, noFactor, type Binding, type LimitPeriod } from './compile.ts';
import { formatDuration } from './duration.ts';
import { exceeds, levelOf, thresholdOf } from './levels.ts';
import { correctToReferenceO2 } from '../../../shared/domain/o2.ts';
import { registerObservation } from './kinds/register.ts';
import { evaluateCompleteness } from './kinds/completeness.ts';
import { isIncomplete } from '../../../shared/contracts/completeness.ts';
import { RollingRing, type Acc, type BufferOf, type Provenance } from './state.ts';
import { periodBounds } from '../../../shared/time-zones.ts';
import { validityText } from '../../../shared/contracts/validity.ts';
import { satAdd, satDiv, satMul, satSub } from '../../../shared/saturating.ts';

export interface Decision {
  lvl: number;
  prov: Provenance;
}

const HOUR = 3_600_000;
/**
 * Recent windows kept per budget to absorb revisions: the aggregator revises
 * windows as old as the raw bucket's retention (29 days by default), and 720
 * hourly windows are 30 days.
 */
const RECENT_WINDOWS = 720;

export const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));

function provenance(b: Binding, lp: LimitPeriod, v: number, lvl: number, values: number[], window: { start: number; end: number }, what: string, scale = 1): Provenance {
  const op = b.rule.levelOp;
  // A clear observation reports the clear level of the level it left.
  const ref = lvl >= 0 ? lvl : b.st.lvl >= 0 ? b.st.lvl : 0;
  const level = lp.levels[Math.min(ref, lp.levels.length - 1)];
  const threshold = level ? (lvl >= 0 || b.st.lvl < 0 ? thresholdOf(op, level, v, scale) : op === 'outside' ? (v < level.clo ? level.clo : level.chi) : level.c * scale) : undefined;
  const ver = lp.version;
  const dated = ver?.from !== undefined ? `${lp.source.includes(ver.reference) ? '' : `, ${ver.reference}`} ${validityText(ver)}` : '';
  const p: Provenance = { values, window, detail: `${what}; ${op}${threshold !== undefined ? ` ${fmt(threshold)}` : ''} (${lp.source}${dated})` };
  if (threshold !== undefined) p.threshold = threshold;
  if (lp.version) p.limit = lp.version;
  return p;
}

/** The O2-corrected value, or undefined when no usable O2 reading is recent enough. */
export function o2Corrected(b: Binding, from: number, to: number, v: number): { v: number; o2: number } | undefined {
  if (b.o2Ref === undefined) return { v, o2: Number.NaN };
  const o2 = b.st.o2;
  const maxAge = b.rule.o2MaxAgeMs ?? HOUR;
  if (!o2 || o2[0] < from - maxAge || o2[0] > to + maxAge) return undefined;
  const c = correctToReferenceO2(v, o2[1], b.o2Ref);
  return c === undefined ? undefined : { v: c, o2: o2[1] };
}

const o2Note = (b: Binding, o2: number) => (b.o2Ref === undefined ? '' : `, O2-corrected to ${b.o2Ref} % (O2 ${fmt(o2)} %)`);

/**
 * One sample of a reading-input binding (already deduplicated and O2-corrected),
 * judged by the limit in force at the sample's time; a mean, by the one in force
 * at its window's start.
 */
export function evaluateSample(b: Binding, ts: number, v: number, o2: number): Decision | undefined {
  const spec = b.rule.spec;
  const st = b.st;
  const op = b.rule.levelOp;
  const note = o2Note(b, o2);
  if (spec.kind === 'rolling') return rollingAdd(b, Math.floor(ts / b.rule.bucketMs), v, 1, false, ts, note);
  if (spec.kind === 'exceedance-share') return shareSample(b, ts, v, note);
  const lp = limitAt(b, ts);
  if (!lp) return undefined;
  const L = lp.levels;
  switch (spec.kind) {
    case 'threshold': {
      const lvl = levelOf(op, L, v, st.lvl);
      return { lvl, prov: provenance(b, lp, v, lvl, [v], { start: ts, end: ts }, `sample ${fmt(v)}${note}`) };
    }
    case 'consecutive': {
      const n = spec.params.samples;
      let buf = st.b as BufferOf<'consecutive'> | undefined;
      if (!buf || buf.n.length !== L.length) buf = st.b = { n: L.map(() => 0), v: [] };
      const r = levelOf(op, L, v, st.lvl);
      for (let i = 0; i < L.length; i++) buf.n[i] = r >= i ? Math.min((buf.n[i] ?? 0) + 1, n) : 0;
      buf.v.push(v);
      if (buf.v.length > n) buf.v.shift();
      let lvl = -1;
      for (let i = 0; i < L.length; i++) if ((buf.n[i] ?? 0) >= n) lvl = i;
      return { lvl, prov: provenance(b, lp, v, lvl, [...buf.v], { start: ts, end: ts }, `${lvl >= 0 ? `${n} consecutive samples` : 'sample'} ${buf.v.map(fmt).join(', ')}${note}`) };
    }
    case 'sustained': {
      const d = spec.params.duration;
      let buf = st.b as BufferOf<'sustained'> | undefined;
      if (!buf || buf.s.length !== L.length) buf = st.b = { s: L.map(() => -1) };
      const r = levelOf(op, L, v, st.lvl);
      for (let i = 0; i < L.length; i++) buf.s[i] = r >= i ? ((buf.s[i] ?? -1) < 0 ? ts : (buf.s[i] ?? ts)) : -1;
      let lvl = -1;
      for (let i = 0; i < L.length; i++) {
        const since = buf.s[i] ?? -1;
        if (since >= 0 && ts - since >= d) lvl = i;
      }
      const start = lvl >= 0 ? (buf.s[lvl] ?? ts) : ts;
      return { lvl, prov: provenance(b, lp, v, lvl, [v], { start, end: ts }, `sample ${fmt(v)}, breaching for ${formatDuration(Math.max(1, ts - start))} (needs ${formatDuration(d)})${note}`) };
    }
    case 'rate-of-change': {
      const prev = st.b as BufferOf<'rate-of-change'> | undefined;
      st.b = { t: ts, v };
      const gap = spec.params.maxGap;
      if (!prev || ts <= prev.t || (gap !== undefined && ts - prev.t > gap)) return undefined;
      const rate = satMul(satDiv(satSub(v, prev.v), ts - prev.t), spec.params.per);
      const dir = spec.params.direction;
      const value = dir === 'rise' ? rate : dir === 'fall' ? -rate : Math.abs(rate);
      const lvl = levelOf(op, L, value, st.lvl);
      return { lvl, prov: provenance(b, lp, value, lvl, [value, prev.v, v], { start: prev.t, end: ts }, `${dir} ${fmt(value)} per ${formatDuration(spec.params.per)} (${fmt(prev.v)} -> ${fmt(v)})${note}`) };
    }
    case 'register': {
      const r = registerObservation(b, ts, v);
      if (!r) return undefined;
      const lvl = levelOf(op, L, r.value, st.lvl);
      return { lvl, prov: provenance(b, lp, r.value, lvl, [r.value, r.prev, v], { start: r.since, end: ts }, `${r.detail}${note}`) };
    }
    default:
      return undefined;
  }
}

/** One sample of an exceedance-share: hours close as samples move on, each judged by its own version (not the sample's). */
function shareSample(b: Binding, ts: number, v: number, note: string): Decision | undefined {
  const spec = b.rule.spec;
  if (spec.kind !== 'exceedance-share') return undefined;
  const st = b.st;
  const hour = Math.floor(ts / HOUR);
  let buf = st.b as BufferOf<'exceedance-share'> | undefined;
  if (!buf) buf = st.b = newShare(b.rule.buckets);
  if (buf.h < 0 || hour === buf.h) {
    buf.h = hour;
    buf.s = satAdd(buf.s, v);
    buf.c += 1;
    return undefined;
  }
  if (hour < buf.h) return undefined;
  const closed = buf.h;
  const mean = buf.s / buf.c;
  const operating = buf.c >= spec.params.minSamplesPerHour;
  // Each hour against its own permit version; an hour no version covers is not an operating hour judged.
  const hourLp = limitAt(b, closed * HOUR);
  recordHour(buf, b.rule.buckets, closed, operating && hourLp !== undefined, operating && hourLp !== undefined && exceeds(spec.op, mean, hourLp.hourLimit));
  buf.h = hour;
  buf.s = v;
  buf.c = 1;
  return shareDecision(b, buf, note);
}

function rollingAdd(b: Binding, idx: number, sum: number, count: number, overwrite: boolean, end: number, note: string): Decision | undefined {
  const spec = b.rule.spec;
  if (spec.kind !== 'rolling') return undefined;
  const n = b.rule.buckets;
  let buf = b.st.b as RollingRing | undefined;
  if (!buf || buf.size !== n) buf = b.st.b = new RollingRing(n);
  if (idx <= buf.top - n) return undefined; // older than the window: nothing to change
  const slot = idx % n;
  buf.advance(idx);
  if (overwrite) {
    buf.s[slot] = 0;
    buf.c[slot] = 0;
  }
  buf.s[slot] = satAdd(buf.s[slot] ?? 0, sum);
  buf.c[slot] = (buf.c[slot] ?? 0) + count;
  let s = 0;
  let c = 0;
  for (let k = 0; k < n; k++) {
    // Empty slots hold zeros: adding them changes neither sum.
    s = satAdd(s, buf.s[k] ?? 0);
    c += buf.c[k] ?? 0;
  }
  if (c < spec.params.minSamples || c === 0) return undefined;
  const value = spec.params.stat === 'mean' ? s / c : s;
  const start = (buf.top - n + 1) * b.rule.bucketMs;
  const lp = limitAt(b, start);
  if (!lp) return undefined;
  const lvl = levelOf(b.rule.levelOp, lp.levels, value, b.st.lvl);
  return { lvl, prov: provenance(b, lp, value, lvl, [value], { start, end: Math.max(end, start) }, `${formatDuration(spec.params.over)} ${spec.params.stat} ${fmt(value)} of ${c} ${spec.input === 'aggregate' && spec.field !== 'mean' ? 'windows' : 'samples'}${note}`) };
}

function newShare(n: number): BufferOf<'exceedance-share'> {
  const words = Math.ceil(n / 32);
  return { h: -1, s: 0, c: 0, last: -1, op: new Array<number>(words).fill(0), ex: new Array<number>(words).fill(0), no: 0, ne: 0 };
}

const bit = (a: number[], i: number): boolean => (((a[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1;
function setBit(a: number[], i: number, on: boolean): void {
  const w = i >>> 5;
  a[w] = on ? (a[w] ?? 0) | (1 << (i & 31)) : (a[w] ?? 0) & ~(1 << (i & 31));
}

/** Records one hour (idempotent: a revised or replayed hour overwrites its bits). */
export function recordHour(buf: BufferOf<'exceedance-share'>, n: number, hour: number, operating: boolean, exceeded: boolean): boolean {
  if (buf.last >= 0 && hour <= buf.last - n) return false;
  if (hour > buf.last) {
    if (buf.last < 0 || hour - buf.last >= n) {
      buf.op.fill(0);
      buf.ex.fill(0);
      buf.no = 0;
      buf.ne = 0;
    } else {
      for (let h = buf.last + 1; h <= hour; h++) {
        const slot = h % n;
        if (bit(buf.op, slot)) buf.no--;
        if (bit(buf.ex, slot)) buf.ne--;
        setBit(buf.op, slot, false);
        setBit(buf.ex, slot, false);
      }
    }
    buf.last = hour;
  }
  const slot = hour % n;
  buf.no += Number(operating) - Number(bit(buf.op, slot));
  buf.ne += Number(operating && exceeded) - Number(bit(buf.ex, slot));
  setBit(buf.op, slot, operating);
  setBit(buf.ex, slot, operating && exceeded);
  return true;
}

function shareDecision(b: Binding, buf: BufferOf<'exceedance-share'>, note: string): Decision | undefined {
  const spec = b.rule.spec;
  if (spec.kind !== 'exceedance-share' || buf.no < spec.params.minOperatingHours) return undefined;
  const share = buf.ne / buf.no;
  // The share's own levels and the limit named: the version of the newest hour.
  const lp = limitAt(b, buf.last * HOUR);
  if (!lp) return undefined;
  const lvl = levelOf('above', lp.levels, share, b.st.lvl);
  const n = b.rule.buckets;
  const window = { start: (buf.last - n + 1) * HOUR, end: (buf.last + 1) * HOUR };
  return { lvl, prov: provenance(b, lp, share, lvl, [share, buf.ne, buf.no], window, `${buf.ne} of ${buf.no} operating hours above ${fmt(lp.hourLimit)} over ${formatDuration(spec.params.over)} (share ${(share * 100).toFixed(2)} %)${note}`) };
}

const fieldOf = (agg: AggregateEvent, field: string): number | undefined => {
  switch (field) {
    case 'mean': return agg.count > 0 ? agg.mean : undefined;
    case 'min': return agg.count > 0 ? agg.min : undefined;
    case 'max': return agg.count > 0 ? agg.max : undefined;
    case 'last': return agg.count > 0 ? agg.last : undefined;
    case 'sum': return agg.sum;
    case 'consumption': return agg.consumption;
    default: return undefined;
  }
};

export function newAcc(): Acc {
  // -1: window starts are epoch ms (>= 0), and JSON cannot carry -Infinity.
  return { t: 0, n: 0, w: [], lo: -1 };
}

/** Adds a window's share; a revision replaces the earlier share. False for a replay or an unknown old window. */
export function accumulate(acc: Acc, start: number, revision: number, sum: number, count: number): boolean {
  const w = acc.w;
  let at = w.length;
  for (let k = 0; k < w.length; k += 4) {
    if (w[k] === start) {
      if (revision <= (w[k + 1] ?? 0)) return false;
      acc.t = satAdd(acc.t, satSub(sum, w[k + 2] ?? 0));
      acc.n += count - (w[k + 3] ?? 0);
      w[k + 1] = revision;
      w[k + 2] = sum;
      w[k + 3] = count;
      return true;
    }
    if ((w[k] ?? 0) > start && at === w.length) at = k;
  }
  if (start <= acc.lo) return false;
  acc.t = satAdd(acc.t, sum);
  acc.n += count;
  w.splice(at, 0, start, revision, sum, count);
  if (w.length > RECENT_WINDOWS * 4) acc.lo = Math.max(acc.lo, w.splice(0, 4)[0] ?? acc.lo);
  return true;
}

/**
 * The last period computed per (time zone, period kind): budgets by the
 * thousand ask for the same local day or month, and periods do not overlap, so
 * one that holds t is t's period. Saves the time-zone offsets per window.
 */
const lastPeriods = new Map<string, readonly [number, number]>();
function periodOf(t: number, period: Parameters<typeof periodBounds>[1], tz: string): readonly [number, number] {
  const key = `${tz}\u0000${period}`;
  const hit = lastPeriods.get(key);
  if (hit && t >= hit[0] && t < hit[1]) return hit;
  const bounds = periodBounds(t, period, tz);
  lastPeriods.set(key, bounds);
  return bounds;
}

/** `incomplete`: the window is below the rule's minCompleteness, so neither a breach nor a clear. */
export type AggregateOutcome = Decision | Decision[] | 'duplicate' | 'no-o2' | 'incomplete' | undefined;

/**
 * One closed (or revised) window for an aggregate-input binding, judged by the
 * limit in force at the window's start (a rolling or period window: at its
 * first bucket or the period's start); a budget's windows each take the
 * emission factor in force at their own start.
 */
export function evaluateAggregate(b: Binding, agg: AggregateEvent): AggregateOutcome {
  const spec = b.rule.spec;
  if (spec.kind === 'completeness') return evaluateCompleteness(b, agg);
  if (b.o2Ref !== undefined) return pairWithO2(b, agg);
  return judgeAggregate(b, agg, undefined);
}

/**
 * Windows kept per binding to pair a concentration with its O2: two days of
 * clock hours for the kinds that take revisions of any recent hour; a threshold
 * judges the newest window only, so a few windows waiting for their partner do.
 */
const O2_WINDOWS = 48;
const O2_WINDOWS_THRESHOLD = 6;
const O2W = 8;

/**
 * O2 correction of a window, as SISPEK corrects an hour: the window's
 * concentration (its `field`) corrected to the permit's reference O2 with the
 * mean O2 of the same stack over the same window (the o2 aggregate with the
 * same bounds). Whichever of the two arrives second judges the window; a
 * revision of either judges it again. The pair is valid when both windows are.
 */
function pairWithO2(b: Binding, agg: AggregateEvent): AggregateOutcome {
  const spec = b.rule.spec;
  const isO2 = agg.metric === 'o2';
  const w = (b.st.o2w ??= []);
  const cap = (spec.kind === 'threshold' ? O2_WINDOWS_THRESHOLD : O2_WINDOWS) * O2W;
  let at = -1;
  let ins = w.length;
  for (let k = 0; k < w.length; k += O2W) {
    if (w[k] === agg.start) {
      at = k;
      break;
    }
    if ((w[k] ?? 0) > agg.start && ins === w.length) ins = k;
  }
  if (at < 0) {
    // Older than every window kept, with the ring full: its partner may have been forgotten.
    if (w.length >= cap && agg.start < (w[0] ?? 0)) return isO2 ? 'duplicate' : 'no-o2';
    w.splice(ins, 0, agg.start, -1, 0, 0, -1, -1, 0, -1);
    at = ins;
    if (w.length > cap) {
      w.splice(0, O2W);
      at -= O2W;
    }
  }
  const num = (i: number): number => w[at + i] ?? -1;
  if (isO2) {
    if (agg.count === 0) return undefined;
    if (agg.revision <= num(5)) return 'duplicate';
    w[at + 5] = agg.revision;
    w[at + 6] = agg.mean;
    w[at + 7] = agg.completeness ?? -1;
  } else {
    const raw = fieldOf(agg, spec.field);
    if (raw === undefined) return undefined;
    if (agg.revision <= num(1)) return 'duplicate';
    w[at + 1] = agg.revision;
    w[at + 2] = raw;
    w[at + 3] = agg.count;
    w[at + 4] = agg.completeness ?? -1;
  }
  if (num(1) < 0 || num(5) < 0) return undefined; // the other side has not arrived
  const window: AggregateEvent = { ...agg, metric: spec.selector.metric ?? agg.metric, revision: num(1) + num(5), count: num(3) };
  if (num(4) >= 0) window.completeness = num(4);
  else delete window.completeness;
  return judgeAggregate(b, window, { raw: num(2), o2: num(6), o2Completeness: num(7) >= 0 ? num(7) : undefined });
}

interface PairedO2 {
  raw: number;
  o2: number;
  o2Completeness: number | undefined;
}

function judgeAggregate(b: Binding, agg: AggregateEvent, paired: PairedO2 | undefined): AggregateOutcome {
  const spec = b.rule.spec;
  const st = b.st;
  const isDenominator = spec.kind === 'ratio' && agg.metric === spec.params.denominator && agg.metric !== spec.selector.metric;
  const raw = paired ? paired.raw : fieldOf(agg, isDenominator && spec.kind === 'ratio' ? spec.params.denominatorField : spec.field);
  if (raw === undefined) return undefined;
  let corr = { v: raw, o2: Number.NaN };
  if (paired && b.o2Ref !== undefined && !isDenominator) {
    const c = correctToReferenceO2(raw, paired.o2, b.o2Ref);
    if (c === undefined) return 'no-o2';
    corr = { v: c, o2: paired.o2 };
  }
  const v = corr.v;
  const note = paired ? `${o2Note(b, corr.o2)}, the same window's mean` : '';
  const what = `${spec.window ?? ''} ${isDenominator && spec.kind === 'ratio' ? spec.params.denominatorField : spec.field}`;
  // A mean weighs by its sample count when windows are combined.
  const weighted = spec.field === 'mean' && !isDenominator;
  // Validity: a window (and, corrected, its O2 window) below minCompleteness is not judged.
  const min = b.rule.minCompleteness;
  const known = [agg.completeness, paired?.o2Completeness].filter((c) => c !== undefined);
  const completeness = known.length ? Math.min(...known) : 1;
  const incomplete = min !== undefined && isIncomplete(known.length ? completeness : undefined, min);
  switch (spec.kind) {
    case 'threshold': {
      if (st.hw !== undefined && (agg.start < st.hw || (agg.start === st.hw && agg.revision <= (st.hr ?? 0)))) return 'duplicate';
      st.hw = agg.start;
      st.hr = agg.revision;
      if (incomplete) {
        st.iw = [agg.start, completeness];
        return 'incomplete';
      }
      if (st.iw?.[0] === agg.start) delete st.iw;
      const lp = limitAt(b, agg.start);
      if (!lp) return undefined;
      const lvl = levelOf(b.rule.levelOp, lp.levels, v, st.lvl);
      const valid = agg.completeness !== undefined ? `, ${(completeness * 100).toFixed(1)} % complete` : '';
      return { lvl, prov: provenance(b, lp, v, lvl, [v], { start: agg.start, end: agg.end }, `${what} ${fmt(v)}${note}${valid}`) };
    }
    case 'rolling': {
      const idx = Math.floor(agg.start / b.rule.bucketMs);
      const [sum, count] = weighted && spec.params.stat === 'mean' ? [satMul(v, agg.count), agg.count] : [v, 1];
      return rollingAdd(b, idx, sum, count, true, agg.end, note);
    }
    case 'exceedance-share': {
      let buf = st.b as BufferOf<'exceedance-share'> | undefined;
      if (!buf) buf = st.b = newShare(b.rule.buckets);
      // Each hour against its own permit version (the version in force at the hour's start); an incomplete
      // hour, or one no version covers, is neither an operating nor an exceeding hour (a revision that completes it counts).
      const hourLp = limitAt(b, agg.start);
      const operating = !incomplete && agg.count >= spec.params.minSamplesPerHour && hourLp !== undefined;
      if (!recordHour(buf, b.rule.buckets, Math.floor(agg.start / HOUR), operating, operating && exceeds(spec.op, v, hourLp.hourLimit))) return 'duplicate';
      if (incomplete) {
        st.iw = [agg.start, completeness];
        return 'incomplete';
      }
      return shareDecision(b, buf, note);
    }
    case 'budget':
    case 'ratio': {
      type PeriodBuf = BufferOf<'budget'> & { d?: Acc };
      let buf = st.b as PeriodBuf | undefined;
      if (!buf || agg.start < buf.p || agg.start >= buf.e) {
        const [p, e] = periodOf(agg.start, spec.params.period, b.tz);
        if (buf && p < buf.p) return 'duplicate'; // a window of a closed period
        buf = st.b = spec.kind === 'ratio' ? { p, e, a: newAcc(), d: newAcc() } : { p, e, a: newAcc() };
      }
      // A denominator is not multiplied; a numerator window no factor version covers adds nothing.
      const factor = isDenominator ? noFactor : factorAt(b, agg.start);
      if (!factor) return undefined;
      const mult = factor.kgCo2ePerKwh;
      const [sum, count] = spec.kind === 'budget' && spec.params.stat === 'mean' && weighted ? [satMul(v, agg.count), agg.count] : [isDenominator ? v : satMul(v, mult), 1];
      const acc = isDenominator ? buf.d : buf.a;
      if (!acc || !accumulate(acc, agg.start, agg.revision, sum, count)) return 'duplicate';
      const period = spec.params.period;
      const window = { start: buf.p, end: agg.end };
      const lp = limitAt(b, buf.p);
      if (!lp) return undefined;
      const L = lp.levels;
      const factorNote = b.factors.length ? ` (this window x ${mult} kg CO2e/kWh, ${factor.version?.reference ?? ''}${factor.version?.from !== undefined ? ` ${validityText(factor.version)}` : ''})` : '';
      if (spec.kind === 'budget') {
        const stat = spec.params.stat;
        if (stat === 'mean' && buf.a.n === 0) return undefined;
        const value = stat === 'mean' ? buf.a.t / buf.a.n : buf.a.t;
        const proRata = spec.params.proRata ?? stat === 'total';
        const fraction = Math.min(1, Math.max(0, (agg.end - buf.p) / (buf.e - buf.p)));
        const scale = proRata ? fraction : 1;
        const lvl = levelOf(b.rule.levelOp, L, value, st.lvl, scale);
        const vs = proRata ? ` vs pro-rata ${(fraction * 100).toFixed(1)} % of the ${period}` : '';
        return { lvl, prov: provenance(b, lp, value, lvl, [value], window, `${period}-to-date ${stat} ${fmt(value)}${factorNote}${vs}${note}`, scale) };
      }
      const den = buf.d?.t ?? 0;
      const minDen = spec.params.minDenominator ?? Number.MIN_VALUE;
      if (den < minDen) return undefined;
      const value = satDiv(buf.a.t, den);
      const lvl = levelOf(b.rule.levelOp, L, value, st.lvl);
      return { lvl, prov: provenance(b, lp, value, lvl, [value, buf.a.t, den], window, `${period}-to-date ${spec.selector.metric ?? ''}${factorNote} per ${spec.params.denominator}: ${fmt(buf.a.t)} / ${fmt(den)}`) };
    }
    default:
      return undefined;
  }
}

/** Deadman level alone, without building provenance: tick() calls this for every deadman binding. */
export function deadmanLevel(b: Binding, now: number): number {
  let buf = b.st.b as BufferOf<'deadman'> | undefined;
  // Never heard from: the silence counts from the first time the engine looked.
  if (!buf) buf = b.st.b = { seen: now };
  const silence = now - buf.seen;
  const L = b.levels;
  let lvl = -1;
  for (let i = 0; i < L.length; i++) if (silence > (L[i]?.after ?? 0)) lvl = i;
  const spec = b.rule.spec;
  if (buf.off && spec.kind === 'deadman') {
    const want = spec.params.onOffline;
    lvl = Math.max(lvl, want === undefined ? 0 : Math.max(0, L.findIndex((l) => l.sev === want)));
  }
  return lvl;
}

/** Deadman: silence since the last sample (receive time), and the meter's offline status. */
export function evaluateDeadman(b: Binding, now: number): Decision {
  const lvl = deadmanLevel(b, now);
  const buf = b.st.b as BufferOf<'deadman'>;
  const silence = Math.max(0, now - buf.seen);
  const ref = b.levels[lvl >= 0 ? lvl : 0];
  const detail = `${buf.off ? 'meter offline; ' : ''}no sample for ${formatDuration(Math.max(1000, Math.floor(silence / 1000) * 1000))}`;
  const prov: Provenance = { values: [silence], window: { start: buf.seen, end: now }, detail: `${detail}${ref ? ` (${lvl >= 0 ? 'after' : 'limit'} ${formatDuration(ref.after)})` : ''}` };
  if (ref) prov.threshold = ref.after;
  return { lvl, prov };
}
