/**
 * Verdicts of the pipeline benchmarks, pure so they can be tested: whether a
 * consumer group's lag stayed bounded, whether a series stayed flat, and
 * percentiles of raw samples (histogram quantiles are in bench/lib.ts).
 */

export interface LagSample { atMs: number; lag: number }

export interface LagVerdict { bounded: boolean; maxLag: number; growing: boolean; earlyMean: number; lateMean: number }

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * A group keeps up when, after the first fifth of the step (warm-up), its lag
 * stays below `bound` records and does not grow: the mean of the last quarter
 * of the samples is at most the mean of the quarter after warm-up plus a tenth
 * of the bound (a lag that wobbles around a level is fine, a lag that climbs is not).
 */
export function judgeLag(samples: readonly LagSample[], bound: number): LagVerdict {
  const after = samples.slice(Math.floor(samples.length / 5));
  if (after.length === 0) return { bounded: false, maxLag: NaN, growing: false, earlyMean: NaN, lateMean: NaN };
  const q = Math.max(1, Math.floor(after.length / 4));
  const earlyMean = mean(after.slice(0, q).map((s) => s.lag));
  const lateMean = mean(after.slice(-q).map((s) => s.lag));
  const maxLag = Math.max(...after.map((s) => s.lag));
  const growing = lateMean > earlyMean + bound / 10;
  return { bounded: maxLag < bound && !growing, maxLag, growing, earlyMean: Math.round(earlyMean), lateMean: Math.round(lateMean) };
}

export interface Flatness { min: number; max: number; ratio: number; flat: boolean }

/** Max over min of the samples after warm-up; flat when within `tolerance` (0.1: 10 %). */
export function judgeFlat(values: readonly number[], tolerance = 0.1): Flatness {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  if (finite.length === 0) return { min: NaN, max: NaN, ratio: NaN, flat: false };
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const ratio = max / min;
  return { min, max, ratio: Math.round(ratio * 1000) / 1000, flat: ratio <= 1 + tolerance };
}

/** Nearest-rank percentile of the finite samples (NaN when there are none: a sample that could not be read is NaN). */
export function percentile(xs: readonly number[], p: number): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
