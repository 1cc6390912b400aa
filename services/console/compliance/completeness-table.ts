/**
 * Completeness per stream (meter and metric) per local day: records received
 * over records the meter's cadence gives the day's ended hours. An hour with
 * no stored window counts as missing (the aggregator writes none for a meter
 * that sent nothing); duplicates never lift an hour above its expected count.
 */
import { isIncomplete } from '../../../shared/contracts/completeness.ts';
import { satAdd } from '../../../shared/saturating.ts';
import { hourKey, HOUR, indexHours, judgedHours, tenantsOf, type PackInput } from './pack-input.ts';

export interface CompletenessRow {
  date: string;
  tenant: string;
  meter: string;
  metric: string;
  /** Ended clock hours of the day. */
  hours: number;
  records: number;
  expected: number;
  /** records / expected, 0..1; undefined for a day with no ended hour. */
  completeness: number | undefined;
  /** Hours with a window below the threshold, and hours with none. */
  incompleteHours: number;
  missingHours: number;
}

export function buildCompleteness(input: PackInput): CompletenessRow[] {
  const windows = indexHours(input.hours);
  const rows: CompletenessRow[] = [];
  for (const day of input.period.days) {
    const hours = judgedHours(input, day.from, day.to);
    if (hours.length === 0) continue;
    for (const tenant of tenantsOf(input)) {
      for (const meter of tenant.meters) {
        const perHour = HOUR / (meter.cadenceSeconds * 1000);
        for (const metric of meter.metrics) {
          let records = 0;
          let expected = 0;
          let incompleteHours = 0;
          let missingHours = 0;
          for (const hour of hours) {
            const w = windows.get(hourKey(meter.id, metric, hour));
            const want = w?.expected ?? perHour;
            expected = satAdd(expected, want);
            if (!w) {
              missingHours++;
              continue;
            }
            records = satAdd(records, Math.min(w.count, want));
            if (isIncomplete(w.completeness, input.minCompleteness)) incompleteHours++;
          }
          rows.push({
            date: day.date, tenant: tenant.id, meter: meter.id, metric, hours: hours.length, records, expected,
            completeness: expected > 0 ? records / expected : undefined, incompleteHours, missingHours,
          });
        }
      }
    }
  }
  return rows;
}
