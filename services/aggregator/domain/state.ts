/**
 * The aggregator's checkpoint: plain JSON, validated on the way back in, so the
 * runtime can keep it in a compacted topic or SQLite and resume from it.
 */
import { z } from 'zod';
import { windowSizeSchema } from '../../../shared/contracts/events.ts';

const num = z.number().finite();
const count = z.number().int().nonnegative();
/** [revision, fingerprint of the emitted content] */
const emittedSchema = z.tuple([count, count]);
/** [count, sum, min, max, lastTs, last, real, consumption, events]: see summary.ts */
const summarySchema = z.tuple([num, num, num, num, num, num, num, num, num]);
/** [ts - window start, value], with a third element 1 when the reading was simulated */
const sampleSchema = z.union([z.tuple([num, num]), z.tuple([num, num, z.literal(1)])]);

export const aggregatorStateSchema = z.object({
  v: z.literal(1),
  /** The window sizes the state was built with; a restore with other sizes is refused. */
  windows: z.array(windowSizeSchema).min(1),
  watermark: num.nullable(),
  maxEventTime: num.nullable(),
  late: count,
  series: z.array(
    z.object({
      meter: z.string().min(1),
      metric: z.string().min(1),
      /** Last register reading of the windows already forgotten: [ts, value]. */
      carry: z.tuple([num, num]).optional(),
      /** The series' own progress: its newest event time. */
      p: num.optional(),
      /** What the series forgot, when beyond the shared `forgotten`. */
      f: num.optional(),
      /** Windows of the smallest size, with their samples. s: start, x: samples, d: changed since emitted, e: emitted. */
      fine: z.array(z.object({ s: num, x: z.array(sampleSchema).min(1), d: z.literal(1).optional(), e: emittedSchema.optional() })),
      /** Larger windows: a: the summary of their smaller windows already forgotten. */
      coarse: z.array(z.object({ w: windowSizeSchema, s: num, a: summarySchema.optional(), d: z.literal(1).optional(), e: emittedSchema.optional() })),
      /** Final summaries of windows it already forgot that its tenant and park windows still hold: [size, start, summary]. */
      z: z.array(z.tuple([windowSizeSchema, num, summarySchema])).optional(),
    }),
  ),
  /**
   * Tenant and park windows whose partial this aggregator emitted: [windowId,
   * revision, fingerprint]. Their members are rebuilt from the series.
   */
  rollups: z.array(z.tuple([z.string().min(1), count, count])),
  /** Every series forgot its windows ending at or before this (absent: watermark - allowed lateness). */
  forgotten: num.optional(),
});

export type AggregatorState = z.infer<typeof aggregatorStateSchema>;
export type SeriesState = AggregatorState['series'][number];
export type FineState = SeriesState['fine'][number];
export type CoarseState = SeriesState['coarse'][number];
export type SampleState = FineState['x'][number];

/** Validates a checkpoint read back from storage (the shape only; restore checks it fits the configuration). */
export function parseAggregatorState(json: unknown): AggregatorState {
  const parsed = aggregatorStateSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
    throw new Error(`aggregator checkpoint is invalid: ${detail}`);
  }
  return parsed.data;
}
