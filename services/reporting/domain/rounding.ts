/**
 * Decimal rounding for the wire: `Math.round(x * 100) / 100` turns 1.005 into
 * 1 (1.005 * 100 is 100.49999...), so the shift goes through the decimal
 * exponent instead. Values too large for a decimal shift are returned as they are.
 */
export function roundTo(value: number, decimals: number): number {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e15) return value;
  const factor = 10 ** decimals;
  // Tiny values print in exponent form, which the decimal shift cannot take; they round to 0 or a last digit anyway.
  if (String(value).includes('e')) return Math.round(value * factor) / factor || 0;
  const shifted = Math.round(Number(`${value}e${decimals}`));
  const result = Number(`${shifted}e-${decimals}`);
  // -0 reads as 0 in JSON but not in assertions: one zero.
  return Object.is(result, -0) ? 0 : result;
}
