/**
 * Per-kind evaluation: from one input (a sample or a closed window) to the
 * condition level of one binding, with the provenance that explains it. Pure
 * functions over the binding's state; the alert state machine lives in engine.ts.
 */
import type { AggregateEvent } from '../../../shared/contracts/events.ts';
import type { Binding } from './compile.ts';
import { formatDuration } from './duration.ts';
import { exceeds, levelOf, thresholdOf } from './levels.ts';
import { correctToReferenceO2 } from './o2.ts';
import type { Acc, BufferOf, Provenance } from './state.ts';
import { periodBounds } from '../../../shared/time-zones.ts';
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

function provenance(b: Binding, v: number, lvl: number, values: number[], window: { start: number; end: number }, what: string, scale = 1): Provenance {
  const op = b.rule.levelOp;
  // A clear observation reports the clear level of the level it left.
  const ref = lvl >= 0 ? lvl : b.st.lvl >= 0 ? b.st.lvl : 0;
  const level = b.levels[Math.min(ref, b.levels.length - 1)];
  const threshold = level ? (lvl >= 0 || b.st.lvl < 0 ? thresholdOf(op, level, v, scale) : op === 'outside' ? (v < level.clo ? level.clo : level.chi) : level.c * scale) : undefined;
  const p: Provenance = { values, window, detail: `${what}; ${op}${threshold !== undefined ? ` ${fmt(threshold)}` : ''} (${b.limitSource})` };
  if (threshold !== undefined) p.threshold = threshold;
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

/** One sample of a reading-input binding (already deduplicated and O2-corrected). */
export function evaluateSample(b: Binding, ts: number, v: number, o2: number): Decision | undefined {
  const spec = b.rule.spec;
  const st = b.st;
  const op = b.rule.levelOp;
  const L = b.levels;
  const note = o2Note(b, o2);
  switch (spec.kind) {
    case 'threshold': {
      const lvl = levelOf(op, L, v, st.lvl);
      return { lvl, prov: provenance(b, v, lvl, [v], { start: ts, end: ts }, `sample ${fmt(v)}${note}`) };
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
      return { lvl, prov: provenance(b, v, lvl, [...buf.v], { start: ts, end: ts }, `${lvl >= 0 ? `${n} consecutive samples` : 'sample'} ${buf.v.map(fmt).join(', ')}${note}`) };
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
      return { lvl, prov: provenance(b, v, lvl, [v], { start, end: ts }, `sample ${fmt(v)}, breaching for ${formatDuration(Math.max(1, ts - start))} (needs ${formatDuration(d)})${note}`) };
    }
    case 'rolling': {
      const idx = Math.floor(ts / b.rule.bucketMs);
      return rollingAdd(b, idx, v, 1, false, ts, note);
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
      return { lvl, prov: provenance(b, value, lvl, [value, prev.v, v], { start: prev.t, end: ts }, `${dir} ${fmt(value)} per ${formatDuration(spec.params.per)} (${fmt(prev.v)} -> ${fmt(v)})${note}`) };
    }
    case 'exceedance-share': {
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
      recordHour(buf, b.rule.buckets, closed, operating, operating && exceeds(spec.op, mean, b.hourLimit));
      buf.h = hour;
      buf.s = v;
      buf.c = 1;
      return shareDecision(b, buf, note);
    }
    default:
      return undefined;
  }
}

function rollingAdd(b: Binding, idx: number, sum: number, count: number, overwrite: boolean, end: number, note: string): Decision | undefined {
  const spec = b.rule.spec;
  if (spec.kind !== 'rolling') return undefined;
  const n = b.rule.buckets;
  let buf = b.st.b as BufferOf<'rolling'> | undefined;
  if (!buf || buf.i.length !== n) buf = b.st.b = { i: new Array<number>(n).fill(-1), s: new Array<number>(n).fill(0), c: new Array<number>(n).fill(0), top: -1 };
  if (idx <= buf.top - n) return undefined; // older than the window: nothing to change
  const slot = idx % n;
  if (buf.i[slot] !== idx || overwrite) {
    buf.i[slot] = idx;
    buf.s[slot] = 0;
    buf.c[slot] = 0;
  }
  buf.s[slot] = satAdd(buf.s[slot] ?? 0, sum);
  buf.c[slot] = (buf.c[slot] ?? 0) + count;
  if (idx > buf.top) buf.top = idx;
  let s = 0;
  let c = 0;
  for (let k = 0; k < n; k++) {
    const i = buf.i[k] ?? -1;
    if (i > buf.top - n && i <= buf.top) {
      s = satAdd(s, buf.s[k] ?? 0);
      c += buf.c[k] ?? 0;
    }
  }
  if (c < spec.params.minSamples || c === 0) return undefined;
  const value = spec.params.stat === 'mean' ? s / c : s;
  const lvl = levelOf(b.rule.levelOp, b.levels, value, b.st.lvl);
  const start = (buf.top - n + 1) * b.rule.bucketMs;
  return { lvl, prov: provenance(b, value, lvl, [value], { start, end: Math.max(end, start) }, `${formatDuration(spec.params.over)} ${spec.params.stat} ${fmt(value)} of ${c} ${spec.input === 'aggregate' && spec.field !== 'mean' ? 'windows' : 'samples'}${note}`) };
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
  const lvl = levelOf('above', b.levels, share, b.st.lvl);
  const n = b.rule.buckets;
  const window = { start: (buf.last - n + 1) * HOUR, end: (buf.last + 1) * HOUR };
  return { lvl, prov: provenance(b, share, lvl, [share, buf.ne, buf.no], window, `${buf.ne} of ${buf.no} operating hours above ${fmt(b.hourLimit)} over ${formatDuration(spec.params.over)} (share ${(share * 100).toFixed(2)} %)${note}`) };
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

export type AggregateOutcome = Decision | 'duplicate' | 'no-o2' | undefined;

/** One closed (or revised) window for an aggregate-input binding. */
export function evaluateAggregate(b: Binding, agg: AggregateEvent): AggregateOutcome {
  const spec = b.rule.spec;
  const st = b.st;
  const isDenominator = spec.kind === 'ratio' && agg.metric === spec.params.denominator && agg.metric !== spec.selector.metric;
  const raw = fieldOf(agg, isDenominator && spec.kind === 'ratio' ? spec.params.denominatorField : spec.field);
  if (raw === undefined) return undefined;
  const corr = isDenominator ? { v: raw, o2: Number.NaN } : o2Corrected(b, agg.start, agg.end, raw);
  if (!corr) return 'no-o2';
  const v = corr.v;
  const note = o2Note(b, corr.o2);
  const what = `${spec.window ?? ''} ${isDenominator && spec.kind === 'ratio' ? spec.params.denominatorField : spec.field}`;
  // A mean weighs by its sample count when windows are combined.
  const weighted = spec.field === 'mean' && !isDenominator;
  switch (spec.kind) {
    case 'threshold': {
      if (st.hw !== undefined && (agg.start < st.hw || (agg.start === st.hw && agg.revision <= (st.hr ?? 0)))) return 'duplicate';
      st.hw = agg.start;
      st.hr = agg.revision;
      const lvl = levelOf(b.rule.levelOp, b.levels, v, st.lvl);
      return { lvl, prov: provenance(b, v, lvl, [v], { start: agg.start, end: agg.end }, `${what} ${fmt(v)}${note}`) };
    }
    case 'rolling': {
      const idx = Math.floor(agg.start / b.rule.bucketMs);
      const [sum, count] = weighted && spec.params.stat === 'mean' ? [satMul(v, agg.count), agg.count] : [v, 1];
      return rollingAdd(b, idx, sum, count, true, agg.end, note);
    }
    case 'exceedance-share': {
      let buf = st.b as BufferOf<'exceedance-share'> | undefined;
      if (!buf) buf = st.b = newShare(b.rule.buckets);
      const operating = agg.count >= spec.params.minSamplesPerHour;
      if (!recordHour(buf, b.rule.buckets, Math.floor(agg.start / HOUR), operating, operating && exceeds(spec.op, v, b.hourLimit))) return 'duplicate';
      return shareDecision(b, buf, note);
    }
    case 'budget':
    case 'ratio': {
      type PeriodBuf = BufferOf<'budget'> & { d?: Acc };
      let buf = st.b as PeriodBuf | undefined;
      if (!buf || agg.start < buf.p || agg.start >= buf.e) {
        const [p, e] = periodBounds(agg.start, spec.params.period, b.tz);
        if (buf && p < buf.p) return 'duplicate'; // a window of a closed period
        buf = st.b = spec.kind === 'ratio' ? { p, e, a: newAcc(), d: newAcc() } : { p, e, a: newAcc() };
      }
      const [sum, count] = spec.kind === 'budget' && spec.params.stat === 'mean' && weighted ? [satMul(v, agg.count), agg.count] : [isDenominator ? v : satMul(v, b.mult), 1];
      const acc = isDenominator ? buf.d : buf.a;
      if (!acc || !accumulate(acc, agg.start, agg.revision, sum, count)) return 'duplicate';
      const period = spec.params.period;
      const window = { start: buf.p, end: agg.end };
      if (spec.kind === 'budget') {
        const stat = spec.params.stat;
        if (stat === 'mean' && buf.a.n === 0) return undefined;
        const value = stat === 'mean' ? buf.a.t / buf.a.n : buf.a.t;
        const proRata = spec.params.proRata ?? stat === 'total';
        const fraction = Math.min(1, Math.max(0, (agg.end - buf.p) / (buf.e - buf.p)));
        const scale = proRata ? fraction : 1;
        const lvl = levelOf(b.rule.levelOp, b.levels, value, st.lvl, scale);
        const vs = proRata ? ` vs pro-rata ${(fraction * 100).toFixed(1)} % of the ${period}` : '';
        return { lvl, prov: provenance(b, value, lvl, [value], window, `${period}-to-date ${stat} ${fmt(value)}${b.mult !== 1 ? ` (x ${b.mult} kg CO2e/kWh)` : ''}${vs}${note}`, scale) };
      }
      const den = buf.d?.t ?? 0;
      const minDen = spec.params.minDenominator ?? Number.MIN_VALUE;
      if (den < minDen) return undefined;
      const value = satDiv(buf.a.t, den);
      const lvl = levelOf(b.rule.levelOp, b.levels, value, st.lvl);
      return { lvl, prov: provenance(b, value, lvl, [value, buf.a.t, den], window, `${period}-to-date ${spec.selector.metric ?? ''}${b.mult !== 1 ? ` x ${b.mult}` : ''} per ${spec.params.denominator}: ${fmt(buf.a.t)} / ${fmt(den)}`) };
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
