/**
 * Scenario timelines: what to do to which meter, when. Entries are validated
 * with zod and cross-checked against the registry; every error names the
 * entry index and the field so a typo in a long file is quick to find.
 */
import { z } from 'zod';
import type { RegistryIndex } from '../../shared/contracts/park-registry.ts';
import { metricCatalogue, isMetricName } from '../../shared/contracts/metric-catalogue.ts';
import { parseDuration, parseSignedDuration } from './duration.ts';
import type { TickEffects } from './meter-state.ts';

export const faultKinds = [
  'spike', 'drift', 'stuck', 'dropout', 'silent', 'register-reset', 'duplicate', 'malformed',
  'out-of-order', 'late-burst', 'clock-skew', 'rollover',
] as const;
export type FaultKind = (typeof faultKinds)[number];

const durationText = z.string().refine((s) => parseDuration(s) !== null, { message: 'not a duration (e.g. "+30m", "90m", "1h30m")' });

export const scenarioEntrySchema = z
  .strictObject({
    at: z.string().min(1),
    meter: z.string().min(1),
    metric: z.string().min(1).optional(),
    set: z.number().finite().optional(),
    fault: z.enum(faultKinds).optional(),
    for: durationText.optional(),
    /** spike: the sample is multiplied by this. */
    factor: z.number().finite().optional(),
    /** drift: change per hour, in the metric's unit. */
    perHour: z.number().finite().optional(),
    /** clock-skew: how far the meter's clock is ahead ("+10m") or behind ("-2h"). */
    offset: z.string().refine((s) => parseSignedDuration(s) !== null, { message: 'not a signed duration (e.g. "+10m", "-2h")' }).optional(),
    /** rollover: where the register wraps to zero (1000000 for a 6-digit register). */
    modulus: z.number().finite().positive().optional(),
  })
  .superRefine((e, ctx) => {
    if (e.set === undefined && e.fault === undefined) ctx.addIssue({ code: 'custom', path: ['fault'], message: 'an entry needs "set" or "fault"' });
    if (e.set !== undefined && e.fault !== undefined) ctx.addIssue({ code: 'custom', path: ['set'], message: '"set" and "fault" exclude each other' });
    const needsMetric = e.set !== undefined || e.fault === 'spike' || e.fault === 'drift' || e.fault === 'stuck' || e.fault === 'register-reset' || e.fault === 'rollover';
    if (needsMetric && e.metric === undefined) ctx.addIssue({ code: 'custom', path: ['metric'], message: 'required for this entry' });
    const needsFor = e.set !== undefined || e.fault === 'drift' || e.fault === 'stuck' || e.fault === 'silent' || e.fault === 'dropout'
      || e.fault === 'out-of-order' || e.fault === 'late-burst' || e.fault === 'clock-skew';
    if (needsFor && e.for === undefined) ctx.addIssue({ code: 'custom', path: ['for'], message: 'required for this entry (how long it lasts)' });
    // A register's range is fixed: it wraps from the entry's time to the end of the run.
    if (e.fault === 'rollover' && e.for !== undefined) ctx.addIssue({ code: 'custom', path: ['for'], message: 'a rollover has no end (the register keeps its range); remove "for"' });
    if (e.fault === 'spike' && e.factor === undefined) ctx.addIssue({ code: 'custom', path: ['factor'], message: 'required for a spike' });
    if (e.fault === 'drift' && e.perHour === undefined) ctx.addIssue({ code: 'custom', path: ['perHour'], message: 'required for a drift' });
    if (e.fault === 'clock-skew' && e.offset === undefined) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'required for a clock-skew (e.g. "+10m", "-2h")' });
    if (e.fault === 'clock-skew' && e.offset !== undefined && parseSignedDuration(e.offset) === 0) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'a clock-skew of zero changes nothing' });
    if (e.offset !== undefined && e.fault !== 'clock-skew') ctx.addIssue({ code: 'custom', path: ['offset'], message: 'only a clock-skew takes "offset"' });
    if (e.fault === 'rollover' && e.modulus === undefined) ctx.addIssue({ code: 'custom', path: ['modulus'], message: 'required for a rollover (e.g. 1000000 for a 6-digit register)' });
    if (e.modulus !== undefined && e.fault !== 'rollover') ctx.addIssue({ code: 'custom', path: ['modulus'], message: 'only a rollover takes "modulus"' });
  });
export type ScenarioEntry = z.infer<typeof scenarioEntrySchema>;

const scenarioFileSchema = z.union([z.array(z.unknown()), z.object({ events: z.array(z.unknown()) })]);

/** A validated entry with its times resolved, in ms relative to the run's start. */
export interface TimedEntry extends ScenarioEntry {
  index: number;
  fromMs: number;
  /** Exclusive; null for one-shot entries (one sample) and for a rollover (to the end of the run). */
  untilMs: number | null;
  oneShot: boolean;
}

export class ScenarioError extends Error {}

/** Validates a parsed scenario document; throws ScenarioError listing "entry N field: message". */
export function parseScenario(doc: unknown, startMs: number, registry?: RegistryIndex): TimedEntry[] {
  const file = scenarioFileSchema.safeParse(doc);
  if (!file.success) throw new ScenarioError('scenario must be a list of entries or { events: [...] }');
  const raw = Array.isArray(file.data) ? file.data : file.data.events;
  const problems: string[] = [];
  const out: TimedEntry[] = [];
  raw.forEach((item, index) => {
    const parsed = scenarioEntrySchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`entry ${index} ${issue.path.length ? issue.path.join('.') : '(entry)'}: ${issue.message}`);
      return;
    }
    const e = parsed.data;
    const fromMs = resolveAt(e.at, startMs);
    if (fromMs === null) problems.push(`entry ${index} at: "${e.at}" is neither "+<duration>" nor an ISO time with a zone`);
    if (registry) {
      const m = registry.meter(e.meter);
      if (!m) problems.push(`entry ${index} meter: unknown meter "${e.meter}"`);
      else if (e.metric !== undefined && !(m.meter.metrics as string[]).includes(e.metric)) {
        problems.push(`entry ${index} metric: meter "${e.meter}" has no metric "${e.metric}"; it has ${m.meter.metrics.join(', ')}`);
      }
    }
    if ((e.fault === 'register-reset' || e.fault === 'rollover') && e.metric !== undefined && isMetricName(e.metric) && metricCatalogue[e.metric].kind !== 'cumulative') {
      problems.push(`entry ${index} metric: "${e.metric}" is not a register`);
    }
    if (fromMs === null) return;
    const forMs = e.for === undefined ? null : parseDuration(e.for);
    const oneShot = forMs === null && e.fault !== 'rollover';
    out.push({ ...e, index, fromMs, untilMs: forMs === null ? null : fromMs + forMs, oneShot });
  });
  problems.push(...conflicts(out));
  if (problems.length > 0) throw new ScenarioError(`scenario is invalid:\n  ${problems.join('\n  ')}`);
  return out;
}

const holds = (e: TimedEntry): boolean => e.fault === 'out-of-order' || e.fault === 'late-burst';

/** Entries that cannot share a meter: each problem names the later entry and the one it collides with. */
function conflicts(entries: readonly TimedEntry[]): string[] {
  const problems: string[] = [];
  entries.forEach((e, i) => {
    for (const other of entries.slice(0, i)) {
      if (other.meter !== e.meter) continue;
      // A message is held by one span only, so its release time is never in doubt.
      if (holds(e) && holds(other) && e.fromMs < (other.untilMs ?? Infinity) && other.fromMs < (e.untilMs ?? Infinity)) {
        problems.push(`entry ${e.index} for: overlaps entry ${other.index} (${other.fault ?? ''}) on meter "${e.meter}"; held spans of one meter must not overlap`);
      }
      if (e.metric !== other.metric) continue;
      if (e.fault === 'rollover' && other.fault === 'rollover') problems.push(`entry ${e.index} fault: meter "${e.meter}" ${e.metric ?? ''} already has a rollover (entry ${other.index})`);
      // The wrap is placed from the register's start value; a reset before it would move it.
      const [roll, reset] = e.fault === 'rollover' ? [e, other] : [other, e];
      if (roll.fault === 'rollover' && reset.fault === 'register-reset' && reset.fromMs <= roll.fromMs) {
        problems.push(`entry ${e.index} fault: a register-reset (entry ${reset.index}) before the rollover (entry ${roll.index}) of meter "${e.meter}" ${e.metric ?? ''} is not supported`);
      }
    }
  });
  return problems;
}

function resolveAt(at: string, startMs: number): number | null {
  const rel = parseDuration(at);
  if (rel !== null) return rel;
  if (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(at)) return null;
  const abs = Date.parse(at);
  return Number.isNaN(abs) ? null : abs - startMs;
}

/** A span during which a meter holds its messages, released together when it ends. */
export interface HoldSpan {
  /** The scenario entry's index: the messages it holds form one group. */
  entry: number;
  /** When the held messages go out, relative to the run's start. */
  releaseMs: number;
  /** out-of-order releases them shuffled; late-burst in the order they were taken. */
  shuffle: boolean;
}

/** What the scenario does to one tick: the effects on values, and the message-level faults. */
export interface TickPlan {
  effects: TickEffects;
  silent: boolean;
  duplicate: boolean;
  malformed: boolean;
  hold: HoldSpan | null;
  /** How far the meter's clock is off: added to the payload's ts, not to the event time. */
  clockOffsetMs: number;
}

/**
 * The plan for a meter's tick at relOffsetMs. One-shot entries fire at the
 * first tick at or after their time; `fired` remembers them across ticks.
 */
export function planTick(entries: readonly TimedEntry[], meterId: string, relMs: number, fired: Set<number>): TickPlan {
  const set = new Map<string, number>();
  const spike = new Map<string, number>();
  const drift = new Map<string, number>();
  const stuck = new Set<string>();
  const resetRegisters = new Set<string>();
  const plan: TickPlan = { effects: { set, spike, drift, stuck, resetRegisters }, silent: false, duplicate: false, malformed: false, hold: null, clockOffsetMs: 0 };
  for (const e of entries) {
    if (e.meter !== meterId || relMs < e.fromMs) continue;
    if (e.oneShot) {
      if (fired.has(e.index)) continue;
      fired.add(e.index);
    } else if (e.untilMs !== null && relMs >= e.untilMs) continue;
    const metric = e.metric ?? '';
    if (e.set !== undefined) set.set(metric, e.set);
    switch (e.fault) {
      case 'spike': spike.set(metric, e.factor ?? 1); break;
      case 'drift': drift.set(metric, ((e.perHour ?? 0) * (relMs - e.fromMs)) / 3_600_000); break;
      case 'stuck': stuck.add(metric); break;
      case 'register-reset': resetRegisters.add(metric); break;
      case 'silent':
      case 'dropout': plan.silent = true; break;
      case 'duplicate': plan.duplicate = true; break;
      case 'malformed': plan.malformed = true; break;
      case 'out-of-order':
      case 'late-burst': plan.hold = { entry: e.index, releaseMs: e.untilMs ?? e.fromMs, shuffle: e.fault === 'out-of-order' }; break;
      case 'clock-skew': plan.clockOffsetMs += parseSignedDuration(e.offset ?? '') ?? 0; break;
      // Set up once for the whole run (the register's range), not per tick: see rollover.ts.
      case 'rollover':
      case undefined: break;
    }
  }
  return plan;
}
