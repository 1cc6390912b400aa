/**
 * The `completeness` kind: a data-quality alert when a stream's window (a clock
 * hour, a local day) holds fewer records than `minCompleteness` of what its
 * cadence gives it. The judged value is the window's completeness; a window
 * the stream skipped altogether (no record, so no aggregate) counts as 0 when
 * the stream's next window arrives. Like a threshold it judges the stream's
 * newest window and its revisions: a resend that completes the window clears it.
 * The first window a rule sees of a stream, when incomplete, only sets the
 * baseline: a meter that starts mid-hour (commissioning, the rules' first start)
 * has not lost records.
 */
import { z } from 'zod';
import type { AggregateEvent } from '../../../../shared/contracts/events.ts';
import { limitAt, type Binding } from '../compile.ts';
import { formatDuration } from '../duration.ts';
import { levelOf, thresholdOf } from '../levels.ts';
import { isIncomplete } from '../../../../shared/contracts/completeness.ts';
import type { Provenance } from '../state.ts';

export const completenessParams = z.strictObject({
  /** Windows the stream skipped between two of its windows count as empty (completeness 0). */
  gaps: z.boolean().default(true),
});

/** The kind's state: the end of the newest window seen. */
export const completenessBuffer = z.object({ e: z.number() });
type Buffer = z.infer<typeof completenessBuffer>;

export interface CompletenessDecision {
  lvl: number;
  prov: Provenance;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;

function decision(b: Binding, v: number, prevLvl: number, values: number[], window: { start: number; end: number }, what: string): CompletenessDecision {
  // The limit is the rule's minCompleteness, undated: one period covers all time.
  const lp = limitAt(b, window.start);
  const levels = lp?.levels ?? b.levels;
  const lvl = levelOf(b.rule.levelOp, levels, v, prevLvl);
  const level = levels[Math.min(lvl >= 0 ? lvl : Math.max(prevLvl, 0), levels.length - 1)];
  const threshold = level ? thresholdOf(b.rule.levelOp, level, v) : undefined;
  const prov: Provenance = { values, window, detail: `${what}; below ${threshold !== undefined ? pct(threshold) : '?'} (${lp?.source ?? 'minCompleteness'})` };
  if (threshold !== undefined) prov.threshold = threshold;
  return { lvl, prov };
}

/**
 * One window of the stream. Roll-ups carry no completeness and are not judged;
 * an older window than the newest judged, or a replayed revision, is a duplicate.
 */
export function evaluateCompleteness(b: Binding, agg: AggregateEvent): CompletenessDecision[] | 'duplicate' | undefined {
  const spec = b.rule.spec;
  const st = b.st;
  if (spec.kind !== 'completeness' || agg.completeness === undefined) return undefined;
  if (st.hw !== undefined && (agg.start < st.hw || (agg.start === st.hw && agg.revision <= (st.hr ?? 0)))) return 'duplicate';
  st.hw = agg.start;
  st.hr = agg.revision;
  const parsed = completenessBuffer.safeParse(st.b);
  const buf: Buffer | undefined = parsed.success ? parsed.data : undefined;
  if (!buf && st.lvl < 0 && isIncomplete(agg.completeness, b.rule.minCompleteness)) {
    st.b = { e: agg.end };
    return undefined;
  }
  const out: CompletenessDecision[] = [];
  let lvl = st.lvl;
  if (spec.params.gaps && buf && agg.start > buf.e) {
    const gap = decision(b, 0, lvl, [0, 0], { start: buf.e, end: agg.start }, `no ${spec.selector.metric ?? ''} record for ${formatDuration(agg.start - buf.e)} before this ${agg.window} window`);
    out.push(gap);
    lvl = gap.lvl;
  }
  const expected = agg.expected ?? (agg.completeness > 0 ? agg.count / agg.completeness : 0);
  out.push(decision(b, agg.completeness, lvl, [agg.completeness, agg.count, expected], { start: agg.start, end: agg.end },
    `${agg.window} completeness ${pct(agg.completeness)} (${agg.count} of ${Number.isInteger(expected) ? expected : expected.toFixed(1)} expected records)`));
  st.b = { e: Math.max(buf?.e ?? agg.end, agg.end) };
  return out;
}
