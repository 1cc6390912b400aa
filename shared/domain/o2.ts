/**
 * Stack concentrations are judged at a reference O2 (7 % for coal, 15 % for gas
 * turbines): C_ref = C_meas * (21 - O2_ref) / (21 - O2_meas).
 * Returns undefined when the O2 reading cannot be used (at or above 21 %, or negative).
 */
import { satDiv, satMul } from '../saturating.ts';

export function correctToReferenceO2(measured: number, o2Measured: number, o2Reference: number): number | undefined {
  if (!(o2Measured >= 0 && o2Measured < 21)) return undefined;
  return satDiv(satMul(measured, 21 - o2Reference), 21 - o2Measured);
}
