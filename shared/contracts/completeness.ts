/**
 * When a window's mean may be judged: at least this share of the records its
 * meter's cadence gives it arrived (completeness = count / expected). 0.75 is
 * the usual rule for continuous monitoring (an hour of 5-minute CEMS values
 * needs 9 of 12); a rule may set its own threshold. Below it a window is
 * reported as incomplete, never judged compliant. One constant, so the rules
 * and the console draw the line in the same place.
 */
export const defaultMinCompleteness = 0.75;

/** Incomplete: completeness known and below the threshold. Windows without completeness (roll-ups) are neither. */
export function isIncomplete(completeness: number | undefined, minCompleteness: number = defaultMinCompleteness): boolean {
  return completeness !== undefined && completeness < minCompleteness;
}
