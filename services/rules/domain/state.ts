/**
 * The state of one (rule, scope): one small plain-JSON record, so the runtime can
 * keep it in a compacted topic keyed by fingerprint and write only changed ones.
 * Short keys keep 100,000 live states (and their snapshot) small.
 */
import { z } from 'zod';
import { limitVersionRefSchema, severitySchema } from '../../../shared/contracts/events.ts';
import { completenessBuffer } from './kinds/completeness.ts';

export const provenanceSchema = z.object({
  values: z.array(z.number()),
  threshold: z.number().optional(),
  window: z.object({ start: z.number(), end: z.number() }).optional(),
  detail: z.string().optional(),
  limit: limitVersionRefSchema.optional(),
});
export type Provenance = z.infer<typeof provenanceSchema>;

/** An open alert; a resolved one is simply absent (its last transition number stays in `seq`). */
export const openAlertSchema = z.object({
  s: z.enum(['pending', 'firing', 'acknowledged']),
  sev: severitySchema,
  /** When this alert instance opened; commands older than this are stale. */
  since: z.number(),
  /** Flapping: the condition cleared but the alert is held firing. */
  held: z.boolean().optional(),
  /** The latest breaching observation. */
  p: provenanceSchema,
});
export type OpenAlert = z.infer<typeof openAlertSchema>;

/** Period-to-date sum with the recent windows it came from, so a revised window replaces its share. */
export const accSchema = z.object({
  /** Sum of contributions. */
  t: z.number(),
  /** Sum of sample counts (for means). */
  n: z.number(),
  /** Recent windows, flat: [start, revision, sum, count]... oldest first. */
  w: z.array(z.number()),
  /** Newest start dropped from w: windows at or before it can no longer be told from replays. */
  lo: z.number(),
});
export type Acc = z.infer<typeof accSchema>;

export const buffers = {
  /** consecutive: per-level run lengths and the last N values. */
  consecutive: z.object({ n: z.array(z.number()), v: z.array(z.number()) }),
  /** sustained: per-level event time the current breach run began, -1 for none. */
  sustained: z.object({ s: z.array(z.number()) }),
  /** rolling: ring of buckets (index, sum, count); `top` is the newest bucket index seen. */
  rolling: z.object({ i: z.array(z.number()), s: z.array(z.number()), c: z.array(z.number()), top: z.number() }),
  /** rate-of-change: the previous sample. */
  'rate-of-change': z.object({ t: z.number(), v: z.number() }),
  /** deadman: last receive time and offline status. */
  deadman: z.object({ seen: z.number(), off: z.boolean().optional() }),
  /** budget and ratio: the period [p, e), numerator and (ratio) denominator. */
  budget: z.object({ p: z.number(), e: z.number(), a: accSchema }),
  ratio: z.object({ p: z.number(), e: z.number(), a: accSchema, d: accSchema }),
  /**
   * exceedance-share: the open hour (index h, sum s, count c), the newest recorded
   * hour `last`, and two bitsets over the ring of hours (operating, exceeding)
   * with their popcounts. 90 days is 2,160 bits: 68 numbers per bitset.
   */
  'exceedance-share': z.object({ h: z.number(), s: z.number(), c: z.number(), last: z.number(), op: z.array(z.number()), ex: z.array(z.number()), no: z.number(), ne: z.number() }),
  /** register: the previous reading, the baseline of the next step. */
  register: z.object({ t: z.number(), v: z.number() }),
  completeness: completenessBuffer,
} as const;
export type BufferOf<K extends keyof typeof buffers> = z.infer<(typeof buffers)[K]>;
export type KindBuffer = { [K in keyof typeof buffers]: BufferOf<K> }[keyof typeof buffers] | RollingRing;

/**
 * A rolling rule's ring in memory: sums and counts by slot, each slot holding
 * its bucket of the window (top - n, top] or zeros, so no bucket index is kept
 * per slot. Its record is the `rolling` buffer above, indices included.
 */
export class RollingRing {
  readonly s: number[];
  readonly c: number[];
  /** The newest bucket index seen, -1 for none. */
  top: number;

  constructor(n: number) {
    this.s = new Array<number>(n).fill(0);
    this.c = new Array<number>(n).fill(0);
    this.top = -1;
  }

  get size(): number {
    return this.s.length;
  }

  /** Makes idx the newest bucket, emptying the slots of the buckets between the old newest and it. */
  advance(idx: number): void {
    const n = this.s.length;
    if (idx <= this.top) return;
    if (this.top < 0 || idx - this.top >= n) {
      this.s.fill(0);
      this.c.fill(0);
    } else {
      for (let k = this.top + 1; k <= idx; k++) {
        this.s[k % n] = 0;
        this.c[k % n] = 0;
      }
    }
    this.top = idx;
  }

  /** The bucket index slot k holds, -1 when it holds none (or only zeros: the same to every sum). */
  indexOf(k: number): number {
    const n = this.s.length;
    if (this.top < 0 || (this.s[k] === 0 && this.c[k] === 0)) return -1;
    const idx = this.top - ((((this.top - k) % n) + n) % n);
    return idx < 0 ? -1 : idx;
  }

  toJSON(): BufferOf<'rolling'> {
    return { i: this.s.map((_, k) => this.indexOf(k)), s: this.s, c: this.c, top: this.top };
  }

  /** From its record: a slot whose index is outside the window counts as empty, as it did. */
  static from(rec: BufferOf<'rolling'>): RollingRing {
    const n = rec.s.length;
    const ring = new RollingRing(n);
    ring.top = rec.top;
    for (let k = 0; k < n; k++) {
      const i = rec.i[k] ?? -1;
      if (i > rec.top - n && i <= rec.top && i >= 0 && i % n === k) {
        ring.s[k] = rec.s[k] ?? 0;
        ring.c[k] = rec.c[k] ?? 0;
      }
    }
    return ring;
  }
}

export interface RuleState {
  /** Last transition number for this fingerprint; monotonic across alert instances. */
  seq: number;
  /** Current condition level (index into the binding's levels), -1 for none. */
  lvl: number;
  a?: OpenAlert;
  /** Manually resolved at this level: a new alert needs a clear first, or a higher level. */
  mr?: number;
  /** Condition change times within the flapping period. */
  fl?: number[];
  /** Input high-water: last sample time, or last aggregate window start with its revision. */
  hw?: number;
  hr?: number;
  /** Whether the latest triggering input was simulated. */
  sim?: boolean;
  /** Latest O2 reading of the meter: [ts, percent]. */
  o2?: [number, number];
  /**
   * Aggregate input with O2 correction: each recent window's concentration and
   * the same stack's O2 window of the same bounds, flat: [start, cRev, cValue,
   * cCount, cCompleteness, oRev, oMean, oCompleteness]... oldest first; a
   * revision -1 is a side not seen yet, a completeness -1 none carried.
   */
  o2w?: number[];
  /** The newest window not judged for being incomplete: [start, completeness]. */
  iw?: [number, number];
  b?: KindBuffer;
}

export const stateRecordSchema = z.object({
  v: z.literal(1),
  fp: z.string().min(1),
  rule: z.string().min(1),
  ruleVersion: z.number().int().nonnegative(),
  seq: z.number().int().nonnegative(),
  lvl: z.number().int().min(-1),
  a: openAlertSchema.optional(),
  mr: z.number().int().optional(),
  fl: z.array(z.number()).optional(),
  hw: z.number().optional(),
  hr: z.number().optional(),
  sim: z.boolean().optional(),
  o2: z.tuple([z.number(), z.number()]).optional(),
  o2w: z.array(z.number()).optional(),
  iw: z.tuple([z.number(), z.number()]).optional(),
  b: z.unknown().optional(),
});
/** What the runtime stores per fingerprint. */
export type StateRecord = z.infer<typeof stateRecordSchema>;
