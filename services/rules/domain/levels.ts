/**
 * Severity levels, their thresholds and the comparison conventions, one place.
 *
 *   op            breach when        clears when (clear level c; c = threshold without hysteresis)
 *   above         v >  t             v <= c
 *   at-or-above   v >= t             v <  c
 *   below         v <  t             v >= c
 *   at-or-below   v <= t             v >  c
 *   outside       v < lo or v > hi   clo <= v <= chi
 *
 * So a value exactly at a "max 100" permit is not a breach, and a value exactly
 * at the clear level counts as cleared.
 */
import type { Severity } from '../../../shared/contracts/events.ts';
import type { ComparisonOp, LevelsSpec, Range } from './pack.ts';

export const severityRank: Record<Severity, number> = { info: 0, 'data-quality': 1, warning: 2, critical: 3 };
const bySeverity: readonly Severity[] = ['info', 'data-quality', 'warning', 'critical'];

/** One resolved level; thresholds are final numbers (limit * factor, registry values looked up). */
export interface Level {
  readonly sev: Severity;
  /** Threshold (above/below kinds and shares). */
  readonly t: number;
  /** Clear level for t. */
  readonly c: number;
  /** Bounds and clear bounds for "outside". */
  readonly lo: number;
  readonly hi: number;
  readonly clo: number;
  readonly chi: number;
  /** Deadman: silence longer than this, ms. */
  readonly after: number;
}

export interface Hysteresis {
  clearFraction?: number;
  clearDelta?: number;
}

export interface ResolvedLimit {
  value?: number;
  range?: Range;
}

const isHigh = (op: ComparisonOp) => op === 'above' || op === 'at-or-above';

/**
 * Levels in ascending severity. Returns a reason string when a level cannot be
 * resolved for this scope (e.g. the registry has no limit), so the rule skips it.
 */
export function resolveLevels(kind: 'deadman' | 'share' | 'compare', op: ComparisonOp, spec: LevelsSpec, limit: ResolvedLimit | undefined, hyst: Hysteresis | undefined): Level[] | string {
  const out: Level[] = [];
  for (const sev of bySeverity) {
    const l = spec[sev];
    if (!l) continue;
    const base = { sev, t: 0, c: 0, lo: 0, hi: 0, clo: 0, chi: 0, after: 0 };
    if (kind === 'deadman') {
      out.push({ ...base, after: l.after ?? 0 });
      continue;
    }
    if (op === 'outside' && kind === 'compare') {
      const r = l.range ?? limit?.range;
      if (!r) return `no range for level ${sev}`;
      let clo = r.min;
      let chi = r.max;
      if (l.clear !== undefined && typeof l.clear === 'object') [clo, chi] = [l.clear.min, l.clear.max];
      else if (hyst?.clearDelta !== undefined) [clo, chi] = [r.min + hyst.clearDelta, r.max - hyst.clearDelta];
      else if (hyst?.clearFraction !== undefined) [clo, chi] = [r.min / hyst.clearFraction, r.max * hyst.clearFraction];
      out.push({ ...base, lo: r.min, hi: r.max, clo, chi });
      continue;
    }
    const high = kind === 'share' || isHigh(op);
    let t: number;
    if (l.threshold !== undefined) t = l.threshold;
    else {
      const v = limit?.value ?? (limit?.range ? (high ? limit.range.max : limit.range.min) : undefined);
      if (v === undefined) return `no limit for level ${sev}`;
      t = v * (l.factor ?? 1);
    }
    let c = t;
    if (typeof l.clear === 'number') c = l.clear;
    else if (hyst?.clearDelta !== undefined) c = high ? t - hyst.clearDelta : t + hyst.clearDelta;
    else if (hyst?.clearFraction !== undefined) c = high ? t * hyst.clearFraction : t / hyst.clearFraction;
    out.push({ ...base, t, c });
  }
  return out;
}

export function breaches(op: ComparisonOp, v: number, l: Level, scale = 1): boolean {
  switch (op) {
    case 'above': return v > l.t * scale;
    case 'at-or-above': return v >= l.t * scale;
    case 'below': return v < l.t * scale;
    case 'at-or-below': return v <= l.t * scale;
    case 'outside': return v < l.lo || v > l.hi;
  }
}

export function clears(op: ComparisonOp, v: number, l: Level, scale = 1): boolean {
  switch (op) {
    case 'above': return v <= l.c * scale;
    case 'at-or-above': return v < l.c * scale;
    case 'below': return v >= l.c * scale;
    case 'at-or-below': return v > l.c * scale;
    case 'outside': return v >= l.clo && v <= l.chi;
  }
}

/** Plain comparison against one number (per-hour limits of exceedance-share). */
export function exceeds(op: ComparisonOp, v: number, t: number): boolean {
  switch (op) {
    case 'above': return v > t;
    case 'at-or-above': return v >= t;
    case 'below': return v < t;
    case 'at-or-below': return v <= t;
    case 'outside': return false;
  }
}

/**
 * The level a value reaches, -1 for none. Hysteresis: a level already reached
 * holds until the value crosses that level's clear level, even if it no longer
 * breaches the trigger.
 */
export function levelOf(op: ComparisonOp, levels: readonly Level[], v: number, current: number, scale = 1): number {
  let lvl = -1;
  for (let i = levels.length - 1; i >= 0; i--) {
    if (breaches(op, v, levels[i]!, scale)) {
      lvl = i;
      break;
    }
  }
  for (let i = Math.min(current, levels.length - 1); i > lvl; i--) {
    if (!clears(op, v, levels[i]!, scale)) {
      lvl = i;
      break;
    }
  }
  return lvl;
}

/** The threshold to report for a level (the bound nearest the value for "outside"). */
export function thresholdOf(op: ComparisonOp, l: Level, v: number, scale = 1): number {
  if (op === 'outside') return v < l.lo ? l.lo : l.hi;
  return l.t * scale;
}
