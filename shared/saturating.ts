/**
 * Arithmetic for sums, means, consumption, budgets and totals that must stay
 * finite whatever finite values meters send: a result beyond the largest double
 * saturates at +-Number.MAX_VALUE instead of becoming Infinity (and then NaN, or
 * JSON null, which no schema, store or alert accepts downstream).
 *
 * Why saturate rather than refuse: decode already refused every non-finite
 * input, so an overflow here is a sum of individually valid values. Refusing the
 * reading that tips a window over would make the window's content depend on
 * arrival order; saturating keeps every stage writing, and the result is itself
 * the flag: no physical total comes near 1.8e308, so `isSaturated` tells a
 * broken meter's window at a glance. A saturated sum does not un-saturate
 * exactly when a share is later subtracted (a revised window): it stays finite,
 * which is the promise, not exact.
 *
 * Every operand must be finite; the divisor must not be zero (callers guard it).
 */

const MAX = Number.MAX_VALUE;

/** Clamps an overflowed result to the largest finite double of its sign. */
export function saturate(x: number): number {
  return x > MAX ? MAX : x < -MAX ? -MAX : x;
}

export const satAdd = (a: number, b: number): number => saturate(a + b);
export const satSub = (a: number, b: number): number => saturate(a - b);
export const satMul = (a: number, b: number): number => saturate(a * b);
/** b must not be 0. */
export const satDiv = (a: number, b: number): number => saturate(a / b);

/** Whether a value is a saturated result (or a reading at the very limit of a double). */
export const isSaturated = (x: number): boolean => Math.abs(x) === MAX;
