/**
 * The rules engine: pure core of the rules service. Inputs come in with the
 * current time as an argument; each entry point returns the alert transitions it
 * caused. No I/O, no timers: the runtime calls tick(now) for deadman silence,
 * pending 'for' durations, flapping holds and silence expiry.
 *
 * Lookup is indexed: readings by meter then metric, aggregates by scope then
 * metric, commands by fingerprint. No input scans every rule.
 *
 * Alert state machine per (rule, scope), one fingerprint:
 *   (none) -> pending -> firing -> acknowledged -> resolved
 *   pending -> resolved            the condition cleared before `for` (cancelled)
 *   firing/acknowledged -> resolved  the value crossed the clear level, or a resolve command
 *   firing -> firing               severity changed (warning <-> critical)
 *   acknowledged -> firing         escalated to a higher severity: needs eyes again
 * The first transition of each alert instance has previousState null; `transition`
 * keeps counting across instances, so (fingerprint, transition) is unique forever.
 */
import type { AggregateEvent, AlertCommand, AlertEvent, AlertState, MeterStatusEvent, ReadingBatchEvent, Severity } from '../../../shared/contracts/events.ts';
import type { RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import { compile, freshState, type Binding, type SkippedBinding } from './compile.ts';
import { deadmanLevel, evaluateAggregate, evaluateDeadman, evaluateSample, fmt, o2Corrected, type Decision } from './evaluate.ts';
import type { AlertScope } from './fingerprint.ts';
import { severityRank } from './levels.ts';
import type { RulePack } from './pack.ts';
import { silenceActive, silenceMatches, silenceRecordSchema, type SilenceRecord } from './silences.ts';
import { buffers, RollingRing, stateRecordSchema, type BufferOf, type OpenAlert, type Provenance, type RuleState, type StateRecord } from './state.ts';
import { maxStorableEpochMs } from '../../../shared/contracts/ids.ts';

/** One transition. `silencedBy` set: record and publish it, but do not notify anyone. */
export interface Transition {
  event: AlertEvent;
  silencedBy?: string;
}

export interface EngineSnapshot {
  v: 1;
  /** Only states that differ from a fresh one. */
  states: StateRecord[];
  silences: SilenceRecord[];
}

/** What changed since the last takeChanges(): write these, tombstone the removed silences. */
export interface EngineChanges {
  states: StateRecord[];
  silences: SilenceRecord[];
  removedSilences: string[];
}

/** The same, with each state record as the JSON the runtime writes: no copy of the state on the way. */
export interface EngineChangesJson {
  states: Array<{ fp: string; json: string }>;
  silences: SilenceRecord[];
  removedSilences: string[];
}

export interface EngineCounters {
  /** Samples at or before the binding's last evaluated sample time (replays, out of order). */
  duplicates: number;
  /** Concentrations not judged: no usable O2 reading (or O2 window) of the same meter. */
  noO2: number;
  /** Windows not judged for being below the rule's minCompleteness (neither breach nor clear). */
  incomplete: number;
  /** Records of meters, tenants or parks this registry does not have under those ids (another park on the same bus). */
  foreign: number;
  /** Readings and windows after the last storable time (maxStorableEpochMs): not judged, their dates are not computable. */
  unstorable: number;
}

export interface AlertView {
  fingerprint: string;
  ruleId: string;
  scope: AlertScope;
  state: Exclude<AlertState, 'resolved'>;
  severity: Severity;
  since: number;
  held: boolean;
}

/**
 * The bindings of one key (a meter, or an aggregate scope id) by metric: two
 * parallel arrays of a few entries, searched linearly, far lighter than a Map
 * per key at 100,000 bindings.
 */
interface ByMetric {
  metrics: string[];
  lists: Binding[][];
}
type Index = Map<string, ByMetric>;

function listOf(m: ByMetric | undefined, metric: string): Binding[] | undefined {
  if (!m) return undefined;
  const i = m.metrics.indexOf(metric);
  return i < 0 ? undefined : m.lists[i];
}

/** Arrays grown by push keep spare capacity; copies hold exactly their entries. */
function trimmed(index: Index): void {
  for (const m of index.values()) {
    m.metrics = m.metrics.slice();
    m.lists = m.lists.map((l) => l.slice());
  }
}

function trimmedLists<K>(map: Map<K, Binding[]>): void {
  for (const [k, l] of map) map.set(k, l.slice());
}

/**
 * Where a binding's inputs arrive: readings of one meter (per-sample kinds and
 * deadman), or aggregates of one scope id (meter, tenant or park). The key is
 * the Kafka key of those inputs, so it decides the partition, and so which
 * instance of a scaled-out rules service holds the binding's state.
 */
export interface Home {
  input: 'reading' | 'aggregate';
  key: string;
}

/** "outside" names the bound that was crossed, so a summary reads "below 6" rather than "outside 6". */
function sideOf(op: string, value: number | undefined, threshold: number): string {
  if (op !== 'outside' || value === undefined) return op;
  return value < threshold ? 'below' : 'above';
}

function push(index: Index, key: string, metric: string, b: Binding): void {
  let byMetric = index.get(key);
  if (!byMetric) index.set(key, (byMetric = { metrics: [], lists: [] }));
  const list = listOf(byMetric, metric);
  if (list) list.push(b);
  else {
    byMetric.metrics.push(metric);
    byMetric.lists.push([b]);
  }
}

const ALL = '*';

/** Where a binding's inputs arrive (see Home), computed rather than kept: one object per binding less. */
function homeOfBinding(b: Binding): Home | undefined {
  const spec = b.rule.spec;
  const { meter } = b.scope;
  if (spec.kind === 'deadman' || spec.input === 'reading') return meter === undefined ? undefined : { input: 'reading', key: meter };
  const id = spec.selector.scope === 'meter' ? meter : spec.selector.scope === 'tenant' ? b.scope.tenant : b.scope.park;
  return id === undefined ? undefined : { input: 'aggregate', key: id };
}

export class RulesEngine {
  readonly skipped: readonly SkippedBinding[];
  readonly counters: EngineCounters = { duplicates: 0, noO2: 0, incomplete: 0, foreign: 0, unstorable: 0 };
  private readonly bindings: Binding[];
  private readonly byFp = new Map<string, Binding>();
  private readonly readings: Index = new Map();
  /** Aggregates by scope, then scope id. */
  private readonly aggregates: Record<'meter' | 'tenant' | 'park', Index> = { meter: new Map(), tenant: new Map(), park: new Map() };
  private readonly o2Listeners = new Map<string, Binding[]>();
  private deadmen: Binding[] = [];
  private readonly deadmenByMeter = new Map<string, Binding[]>();
  private readonly pending = new Set<Binding>();
  private readonly held = new Set<Binding>();
  private readonly silences = new Map<string, SilenceRecord>();
  private readonly dirty = new Set<Binding>();
  private readonly dirtySilences = new Set<string>();
  /** Bindings active (held): kept as they change, as the gauge reads it after every batch. */
  private active = 0;

  private readonly registry: RegistryIndex;
  constructor(pack: RulePack, registry: RegistryIndex) {
    this.registry = registry;
    const c = compile(pack, registry);
    this.bindings = c.bindings;
    this.skipped = c.skipped;
    for (const b of c.bindings) {
      this.byFp.set(b.fp, b);
      if (b.active) this.active++;
      const spec = b.rule.spec;
      const { meter, metric } = b.scope;
      if (spec.kind === 'deadman') {
        this.deadmen.push(b);
        // Deadman and reading rules are meter-scoped (the pack refuses others).
        if (meter !== undefined) {
          push(this.readings, meter, metric ?? ALL, b);
          const list = this.deadmenByMeter.get(meter);
          if (list) list.push(b);
          else this.deadmenByMeter.set(meter, [b]);
        }
        continue;
      }
      if (spec.input === 'reading') {
        if (meter !== undefined && metric !== undefined) push(this.readings, meter, metric, b);
      } else {
        const id = spec.selector.scope === 'meter' ? meter : spec.selector.scope === 'tenant' ? b.scope.tenant : b.scope.park;
        const index = this.aggregates[spec.selector.scope];
        const key = id ?? '';
        if (metric !== undefined) push(index, key, metric, b);
        if (spec.kind === 'ratio' && spec.params.denominator !== metric) push(index, key, spec.params.denominator, b);
        // O2 correction of a window pairs it with the same stack's O2 window.
        if (b.o2Ref !== undefined && metric !== 'o2') push(index, key, 'o2', b);
      }
      if (b.o2Ref !== undefined && meter !== undefined && spec.input === 'reading') {
        const list = this.o2Listeners.get(meter);
        if (list) list.push(b);
        else this.o2Listeners.set(meter, [b]);
      }
    }
    trimmed(this.readings);
    for (const index of Object.values(this.aggregates)) trimmed(index);
    trimmedLists(this.o2Listeners);
    trimmedLists(this.deadmenByMeter);
    this.deadmen = this.deadmen.slice();
  }

  /** Number of (rule, scope) bindings. */
  get size(): number {
    return this.bindings.length;
  }

  fingerprints(): IterableIterator<string> {
    return this.byFp.keys();
  }

  scopeOf(fp: string): { ruleId: string; scope: AlertScope } | undefined {
    const b = this.byFp.get(fp);
    return b ? { ruleId: b.rule.spec.id, scope: b.scope } : undefined;
  }

  /** Where the binding's inputs arrive (see Home); undefined for an unknown fingerprint. */
  homeOf(fp: string): Home | undefined {
    const b = this.byFp.get(fp);
    return b ? homeOfBinding(b) : undefined;
  }

  /** Every binding's fingerprint with its home. */
  *homesOf(): IterableIterator<[fp: string, home: Home]> {
    for (const b of this.bindings) {
      const home = homeOfBinding(b);
      if (home) yield [b.fp, home];
    }
  }

  /** Bindings whose state this engine holds. */
  get owned(): number {
    return this.active;
  }

  /**
   * Takes these fingerprints over: each starts fresh, then takes its record
   * among `records` (records of other fingerprints are left alone, so the
   * runtime can pass what it read of the state topic). Their inputs and timers
   * count from now on.
   */
  own(fps: Iterable<string>, records: Iterable<unknown>): { owned: number; restored: number; ignored: number } {
    const taking = new Set<Binding>();
    for (const fp of fps) {
      const b = this.byFp.get(fp);
      if (!b) continue;
      this.forget(b);
      if (!b.active) this.active++;
      b.active = true;
      taking.add(b);
    }
    let restored = 0;
    let ignored = 0;
    for (const raw of records) {
      const r = this.applyRecord(raw, (b) => taking.has(b));
      if (r === 'restored') restored++;
      else if (r === 'ignored') ignored++;
    }
    for (const b of taking) this.dirty.delete(b);
    return { owned: taking.size, restored, ignored };
  }

  /**
   * Gives these fingerprints up: their state is forgotten (the runtime has
   * written it already), and their inputs and timers are ignored until owned
   * again. Returns how many were held.
   */
  disown(fps: Iterable<string>): number {
    let n = 0;
    for (const fp of fps) {
      const b = this.byFp.get(fp);
      if (!b || !b.active) continue;
      this.forget(b);
      b.active = false;
      this.active--;
      n++;
    }
    return n;
  }

  /** Replaces every silence (silences apply to every binding, whoever holds it). */
  replaceSilences(records: readonly unknown[]): { silences: number; ignored: number } {
    this.silences.clear();
    let ignored = 0;
    for (const raw of records) {
      const s = silenceRecordSchema.safeParse(raw);
      if (s.success) this.silences.set(s.data.id, s.data);
      else ignored++;
    }
    this.dirtySilences.clear();
    return { silences: this.silences.size, ignored };
  }

  private forget(b: Binding): void {
    b.st = freshState();
    this.pending.delete(b);
    this.held.delete(b);
    this.dirty.delete(b);
  }

  /** Open alerts (pending, firing, acknowledged). */
  *alerts(): IterableIterator<AlertView> {
    for (const b of this.bindings) {
      if (!b.active) continue;
      const a = b.st.a;
      if (a) yield { fingerprint: b.fp, ruleId: b.rule.spec.id, scope: b.scope, state: a.s, severity: a.sev, since: a.since, held: a.held ?? false };
    }
  }

  /** Instantaneous limits and per-sample kinds, deadman liveness, and O2 for stack corrections. */
  onReading(batch: ReadingBatchEvent, now: number): Transition[] {
    const out: Transition[] = [];
    if (!this.registry.owned(batch.park, batch.tenant, batch.meter)) {
      this.counters.foreign++;
      return out;
    }
    const byMetric = this.readings.get(batch.meter);
    const o2l = this.o2Listeners.get(batch.meter);
    if (o2l) {
      // O2 first: a concentration in the same message is corrected with it.
      for (const r of batch.readings) {
        if (r.metric !== 'o2') continue;
        for (const b of o2l) {
          if (!b.active) continue;
          if (!b.st.o2 || r.ts >= b.st.o2[0]) {
            b.st.o2 = [r.ts, r.value];
            this.dirty.add(b);
          }
        }
      }
    }
    if (!byMetric) return out;
    const sim = batch.simulated;
    const any = listOf(byMetric, ALL);
    if (any) for (const b of any) if (b.active) this.seen(b, batch.receivedAt, sim, now, out);
    // A logger resending its buffer may list records in any order; per-sample kinds need event order.
    let readings = batch.readings;
    for (let i = 1; i < readings.length; i++) {
      if ((readings[i]?.ts ?? 0) < (readings[i - 1]?.ts ?? 0)) {
        readings = [...readings].sort((x, y) => x.ts - y.ts);
        break;
      }
    }
    for (const r of readings) {
      const list = listOf(byMetric, r.metric);
      if (!list) continue;
      if (r.ts > maxStorableEpochMs) {
        this.counters.unstorable++;
        continue;
      }
      for (const b of list) {
        if (!b.active) continue;
        if (b.rule.spec.kind === 'deadman') {
          this.seen(b, batch.receivedAt, sim, now, out);
          continue;
        }
        const st = b.st;
        if (st.hw !== undefined && r.ts <= st.hw) {
          this.counters.duplicates++;
          continue;
        }
        st.hw = r.ts;
        this.dirty.add(b);
        const c = o2Corrected(b, r.ts, r.ts, r.value);
        if (!c) {
          this.counters.noO2++;
          continue;
        }
        const d = evaluateSample(b, r.ts, c.v, c.o2);
        if (d) this.apply(b, d, sim, now, out);
      }
    }
    return out;
  }

  /** Windowed, budget, ratio and exceedance-share rules on closed (or revised) windows. */
  onAggregate(agg: AggregateEvent, now: number): Transition[] {
    const out: Transition[] = [];
    const ours = agg.scope === 'meter' ? agg.meter !== undefined && this.registry.owned(agg.park, agg.tenant, agg.meter) !== undefined : this.registry.ownsScope(agg.park, agg.scope === 'tenant' ? agg.tenant : undefined);
    if (!ours) {
      this.counters.foreign++;
      return out;
    }
    if (agg.end > maxStorableEpochMs) {
      this.counters.unstorable++;
      return out;
    }
    const id = agg.scope === 'meter' ? agg.meter : agg.scope === 'tenant' ? agg.tenant : agg.park;
    const list = listOf(this.aggregates[agg.scope].get(id ?? ''), agg.metric);
    if (!list) return out;
    for (const b of list) {
      if (!b.active || b.rule.spec.window !== agg.window) continue;
      const d = evaluateAggregate(b, agg);
      if (d === 'duplicate') this.counters.duplicates++;
      else if (d === 'no-o2') this.counters.noO2++;
      if (d === 'duplicate' || d === 'no-o2') continue;
      this.dirty.add(b);
      if (d === 'incomplete') this.counters.incomplete++;
      else if (Array.isArray(d)) for (const x of d) this.apply(b, x, agg.simulated, now, out);
      else if (d) this.apply(b, d, agg.simulated, now, out);
    }
    return out;
  }

  /** Offline raises the meter's deadman rules at once; online (birth) counts as a sign of life. */
  onMeterStatus(ev: MeterStatusEvent, now: number): Transition[] {
    const out: Transition[] = [];
    if (!this.registry.owned(ev.park, ev.tenant, ev.meter)) {
      this.counters.foreign++;
      return out;
    }
    for (const b of this.deadmenByMeter.get(ev.meter) ?? []) {
      if (!b.active) continue;
      const buf = (b.st.b ??= { seen: now }) as { seen: number; off?: boolean };
      if (ev.status === 'offline') buf.off = true;
      else {
        delete buf.off;
        buf.seen = Math.max(buf.seen, ev.at);
      }
      this.dirty.add(b);
      this.apply(b, evaluateDeadman(b, now), ev.simulated, now, out);
    }
    return out;
  }

  /** Deadman silence, pending 'for' durations, flapping holds, silence expiry. */
  tick(now: number): Transition[] {
    const out: Transition[] = [];
    for (const b of this.deadmen) {
      if (!b.active) continue;
      const fresh = b.st.b === undefined;
      const lvl = deadmanLevel(b, now);
      if (fresh) this.dirty.add(b);
      if (lvl !== b.st.lvl || b.st.a?.s === 'pending') this.apply(b, evaluateDeadman(b, now), b.st.sim ?? false, now, out);
    }
    for (const b of [...this.pending]) {
      const a = b.st.a;
      if (!a || a.s !== 'pending') this.pending.delete(b);
      else if (now - a.since >= b.forMs) this.fire(b, a, now, out);
    }
    for (const b of [...this.held]) {
      const a = b.st.a;
      if (!a?.held) this.held.delete(b);
      else if (b.st.lvl < 0 && !this.flapping(b, now)) this.close(b, a, a.p, now, out);
    }
    for (const [id, s] of this.silences) {
      if (s.endsAt <= now) {
        this.silences.delete(id);
        this.dirtySilences.add(id);
      }
    }
    return out;
  }

  /** Acknowledge, resolve, silence, unsilence. Replays are harmless: a command older than the alert it names is ignored. */
  onCommand(cmd: AlertCommand, now: number): Transition[] {
    const out: Transition[] = [];
    switch (cmd.kind) {
      case 'acknowledge':
      case 'resolve': {
        const b = this.byFp.get(cmd.fingerprint);
        const a = b?.active ? b.st.a : undefined;
        if (!b || !a || cmd.at < a.since) return out;
        const detail = cmd.comment !== undefined ? `${cmd.kind}d by ${cmd.by}: ${cmd.comment}` : `${cmd.kind}d by ${cmd.by}`;
        if (cmd.kind === 'acknowledge') {
          if (a.s !== 'firing') return out;
          a.s = 'acknowledged';
          this.emit(b, 'acknowledged', 'firing', a.sev, { ...a.p, detail }, now, out, cmd.by);
        } else {
          // A new alert needs the condition to clear first (or to get worse).
          if (b.st.lvl >= 0) b.st.mr = b.st.lvl;
          this.close(b, a, { ...a.p, detail }, now, out, cmd.by);
        }
        return out;
      }
      case 'silence': {
        const s: SilenceRecord = { v: 1, id: cmd.silenceId, matchers: { ...cmd.matchers }, startsAt: cmd.startsAt, endsAt: cmd.endsAt, by: cmd.by };
        if (cmd.recurrence) s.recurrence = { ...cmd.recurrence };
        if (cmd.comment !== undefined) s.comment = cmd.comment;
        this.silences.set(s.id, s);
        this.dirtySilences.add(s.id);
        return out;
      }
      case 'unsilence':
        if (this.silences.delete(cmd.silenceId)) this.dirtySilences.add(cmd.silenceId);
        return out;
    }
  }

  activeSilences(now: number): SilenceRecord[] {
    return [...this.silences.values()].filter((s) => silenceActive(s, now));
  }

  // --- state machine -------------------------------------------------------

  private seen(b: Binding, receivedAt: number, sim: boolean, now: number, out: Transition[]): void {
    const buf = b.st.b as { seen: number; off?: boolean } | undefined;
    if (!buf) b.st.b = { seen: receivedAt };
    else if (receivedAt > buf.seen || buf.off) {
      // Data is a sign of life even if the broker last said offline.
      buf.seen = Math.max(buf.seen, receivedAt);
      delete buf.off;
    } else return;
    this.dirty.add(b);
    if (b.st.lvl >= 0 || b.st.a) this.apply(b, evaluateDeadman(b, now), sim, now, out);
  }

  private flapping(b: Binding, now: number): boolean {
    const f = b.rule.spec.flapping;
    if (!f || !b.st.fl) return false;
    let n = 0;
    for (const t of b.st.fl) if (t > now - f.within) n++;
    return n >= f.changes;
  }

  private apply(b: Binding, d: Decision, sim: boolean, now: number, out: Transition[]): void {
    const st = b.st;
    const was = st.lvl;
    const lvl = d.lvl;
    const flap = b.rule.spec.flapping;
    if (lvl !== was) this.dirty.add(b);
    if (flap && (was >= 0) !== (lvl >= 0)) {
      const fl = (st.fl ??= []);
      fl.push(now);
      while (fl.length > flap.changes || (fl.length && (fl[0] ?? now) <= now - flap.within)) fl.shift();
    }
    st.lvl = lvl;
    st.sim = sim;
    const a = st.a;
    if (lvl >= 0) {
      if (st.mr !== undefined && lvl <= st.mr) return;
      delete st.mr;
      const sev = b.levels[lvl]?.sev ?? 'warning';
      if (!a) {
        const pending = b.forMs > 0;
        const open: OpenAlert = { s: pending ? 'pending' : 'firing', sev, since: now, p: d.prov };
        st.a = open;
        if (pending) this.pending.add(b);
        this.emit(b, open.s, null, sev, d.prov, now, out);
        return;
      }
      a.p = d.prov;
      if (a.held) {
        delete a.held;
        this.held.delete(b);
      }
      this.dirty.add(b);
      if (a.s === 'pending') {
        a.sev = sev;
        if (now - a.since >= b.forMs) this.fire(b, a, now, out);
      } else if (a.s === 'firing') {
        if (sev !== a.sev) {
          a.sev = sev;
          this.emit(b, 'firing', 'firing', sev, d.prov, now, out);
        }
      } else if (severityRank[sev] > severityRank[a.sev]) {
        a.sev = sev;
        a.s = 'firing';
        this.emit(b, 'firing', 'acknowledged', sev, d.prov, now, out);
      } else if (sev !== a.sev) {
        a.sev = sev;
        this.emit(b, 'acknowledged', 'acknowledged', sev, d.prov, now, out);
      }
      return;
    }
    delete st.mr;
    if (!a) return;
    if (a.s !== 'pending' && this.flapping(b, now)) {
      // Flapping: hold it firing; tick() resolves once the changes calm down.
      a.held = true;
      this.held.add(b);
      this.dirty.add(b);
      return;
    }
    this.close(b, a, a.s === 'pending' ? { ...d.prov, detail: `cancelled before ${b.forMs} ms: ${d.prov.detail ?? ''}` } : d.prov, now, out);
  }

  private fire(b: Binding, a: OpenAlert, now: number, out: Transition[]): void {
    a.s = 'firing';
    this.pending.delete(b);
    this.emit(b, 'firing', 'pending', a.sev, a.p, now, out);
  }

  private close(b: Binding, a: OpenAlert, prov: Provenance, now: number, out: Transition[], by?: string): void {
    delete b.st.a;
    this.pending.delete(b);
    this.held.delete(b);
    this.emit(b, 'resolved', a.s, a.sev, prov, now, out, by);
  }

  private emit(b: Binding, state: AlertState, previousState: AlertState | null, severity: Severity, prov: Provenance, at: number, out: Transition[], by?: string): void {
    const st = b.st;
    st.seq += 1;
    this.dirty.add(b);
    const spec = b.rule.spec;
    const { park, tenant, meter, metric } = b.scope;
    const where = [meter ?? tenant ?? park, metric].filter((x) => x !== undefined).join(' ');
    const value = prov.values[0];
    const what = spec.kind === 'deadman'
      ? ` ${(prov.detail ?? '').replace(/ \((after|limit) .*\)$/, '')}`
      : `${value !== undefined ? ` ${fmt(value)}` : ''}${prov.threshold !== undefined ? ` (${sideOf(b.rule.levelOp, value, prov.threshold)} ${fmt(prov.threshold)})` : ''}`;
    const summary = `${spec.description}: ${where}${what}, ${state}`;
    const provenance: AlertEvent['provenance'] = { values: prov.values };
    if (prov.threshold !== undefined) provenance.threshold = prov.threshold;
    if (prov.window) provenance.window = { start: Math.max(0, Math.round(prov.window.start)), end: Math.max(0, Math.round(prov.window.end)) };
    if (prov.detail !== undefined) provenance.detail = prov.detail;
    if (prov.limit) provenance.limit = prov.limit;
    const event: AlertEvent = {
      v: 1, fingerprint: b.fp, transition: st.seq, state, previousState, severity, ruleId: spec.id, ruleVersion: spec.version,
      park, summary, provenance, at, simulated: st.sim ?? false,
    };
    if (tenant !== undefined) event.tenant = tenant;
    if (meter !== undefined) event.meter = meter;
    if (metric !== undefined) event.metric = metric;
    if (by !== undefined) event.by = by;
    let silencedBy: string | undefined;
    for (const s of this.silences.values()) {
      if (silenceActive(s, at) && silenceMatches(s, spec.id, b.scope)) {
        silencedBy = s.id;
        break;
      }
    }
    if (silencedBy !== undefined) event.silenced = true;
    out.push(silencedBy === undefined ? { event } : { event, silencedBy });
  }

  // --- snapshot / restore --------------------------------------------------

  /** A state record as JSON, written straight from the live state (the fields of RuleState follow the header). */
  private recordJson(b: Binding): string {
    const st = JSON.stringify(b.st);
    return `{"v":1,"fp":${JSON.stringify(b.fp)},"rule":${JSON.stringify(b.rule.spec.id)},"ruleVersion":${b.rule.spec.version},${st.slice(1)}`;
  }

  private record(b: Binding): StateRecord {
    return JSON.parse(this.recordJson(b)) as StateRecord;
  }

  /** Plain JSON: every non-fresh state, one record per fingerprint, plus silences. */
  snapshot(): EngineSnapshot {
    const states: StateRecord[] = [];
    for (const b of this.bindings) {
      const st = b.st;
      if (b.active && (st.seq > 0 || st.lvl >= 0 || Object.keys(st).length > 2)) states.push(this.record(b));
    }
    return { v: 1, states, silences: [...this.silences.values()].map((s) => structuredClone(s)) };
  }

  /** Records changed since the last call (the runtime writes only these). */
  takeChanges(): EngineChanges {
    const c = this.takeChangesJson();
    return { states: c.states.map((s) => JSON.parse(s.json) as StateRecord), silences: c.silences, removedSilences: c.removedSilences };
  }

  /** takeChanges(), each state record as its JSON. */
  takeChangesJson(): EngineChangesJson {
    const states: Array<{ fp: string; json: string }> = [];
    for (const b of this.dirty) states.push({ fp: b.fp, json: this.recordJson(b) });
    const silences: SilenceRecord[] = [];
    const removedSilences: string[] = [];
    for (const id of this.dirtySilences) {
      const s = this.silences.get(id);
      if (s) silences.push(structuredClone(s));
      else removedSilences.push(id);
    }
    this.dirty.clear();
    this.dirtySilences.clear();
    return { states, silences, removedSilences };
  }

  /**
   * Restores records (from snapshot() or a compacted topic). Records of rules or
   * scopes no longer bound are ignored. A record from another rule version keeps
   * its alert and transition count but drops its evaluation buffers.
   */
  restore(snapshot: { states: readonly unknown[]; silences?: readonly unknown[] }): { restored: number; ignored: number } {
    let restored = 0;
    let ignored = 0;
    for (const raw of snapshot.states) {
      if (this.applyRecord(raw, () => true) === 'restored') restored++;
      else ignored++;
    }
    for (const raw of snapshot.silences ?? []) {
      const s = silenceRecordSchema.safeParse(raw);
      if (s.success) this.silences.set(s.data.id, s.data);
      else ignored++;
    }
    this.dirty.clear();
    this.dirtySilences.clear();
    return { restored, ignored };
  }

  /** One state record into its binding, when `wanted` says so: 'skipped' when not wanted. */
  private applyRecord(raw: unknown, wanted: (b: Binding) => boolean): 'restored' | 'ignored' | 'skipped' {
    const parsed = stateRecordSchema.safeParse(raw);
    const b = parsed.success ? this.byFp.get(parsed.data.fp) : undefined;
    if (!parsed.success || !b || parsed.data.rule !== b.rule.spec.id) return 'ignored';
    if (!wanted(b)) return 'skipped';
    const { v: _v, fp: _fp, rule: _rule, ruleVersion, b: buf, ...rest } = parsed.data;
    const st: RuleState = { ...freshState(), ...rest };
    const sameVersion = ruleVersion === b.rule.spec.version;
    if (!sameVersion) {
      // Other thresholds or kind: keep the alert's identity and counter, recompute the rest.
      for (const k of ['fl', 'hw', 'hr', 'b', 'o2w', 'iw'] as const) delete st[k];
      st.lvl = st.a ? b.levels.findIndex((l) => l.sev === st.a?.sev) : -1;
    } else if (buf !== undefined) {
      const kind = b.rule.spec.kind;
      const schema = kind === 'threshold' ? undefined : buffers[kind];
      const checked = schema?.safeParse(buf);
      if (checked?.success) st.b = kind === 'rolling' ? RollingRing.from(checked.data as BufferOf<'rolling'>) : checked.data;
    }
    if (st.lvl >= b.levels.length) st.lvl = b.levels.length - 1;
    b.st = st;
    this.pending.delete(b);
    this.held.delete(b);
    if (st.a?.s === 'pending') this.pending.add(b);
    if (st.a?.held) this.held.add(b);
    return 'restored';
  }

}
