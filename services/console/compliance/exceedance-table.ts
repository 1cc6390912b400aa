/**
 * Exceedance hours per parameter: each clock hour's mean (the stored 1-hour
 * meter window) against the permit limit in force at that hour. Stack
 * parameters of a meter with an O2 reference are corrected to it first with
 * the same hour's mean O2, by the rules' own correction. An hour below the
 * completeness threshold is counted apart: never judged compliant, and an
 * exceedance in it is reported as such.
 */
import { correctToReferenceO2 } from '../../../shared/domain/o2.ts';
import { isIncomplete } from '../../../shared/contracts/completeness.ts';
import type { Meter, Tenant } from '../../../shared/contracts/park-registry.ts';
import { limitInForce, type Limit } from './limits-in-force.ts';
import { hourKey, indexHours, judgedHours, tenantsOf, unitOf, type PackInput } from './pack-input.ts';

export interface ExceedanceRow {
  tenant: string;
  meter: string;
  metric: string;
  unit: string;
  limitMin: number | undefined;
  limitMax: number | undefined;
  limitSource: string;
  /** Reference O2 (%) the means were corrected to, for stack parameters. */
  o2Reference: number | undefined;
  /** Clock hours that ended within the period while this limit was in force. */
  hours: number;
  /** Hours with a complete window (judged). */
  valid: number;
  /** Complete hours whose mean is outside the limit. */
  exceeded: number;
  incomplete: number;
  /** Incomplete hours whose mean is outside the limit (reported, not judged). */
  exceededIncomplete: number;
  /** Hours with no stored window. */
  missing: number;
  /** Stack hours with no usable O2 mean to correct with. */
  noO2: number;
  /** The highest (corrected) hourly mean. */
  maxMean: number | undefined;
}

export interface ExceedanceHourRow {
  tenant: string;
  meter: string;
  metric: string;
  unit: string;
  /** Hour start, epoch ms. */
  hour: number;
  /** The hour's mean as stored, and after O2 correction (equal when none applies). */
  mean: number;
  judged: number;
  o2: number | undefined;
  limitMin: number | undefined;
  limitMax: number | undefined;
  count: number;
  expected: number | undefined;
  completeness: number | undefined;
  incomplete: boolean;
}

export interface ExceedanceTables {
  summary: ExceedanceRow[];
  hours: ExceedanceHourRow[];
}

/** Hourly limits only: a daily volume per used hectare is a daily budget, judged by the rules per day. */
const hourly = (l: Limit): boolean => l.min !== undefined || l.max !== undefined;

const outside = (v: number, l: Limit): boolean => (l.max !== undefined && v > l.max) || (l.min !== undefined && v < l.min);

export function buildExceedances(input: PackInput): ExceedanceTables {
  const windows = indexHours(input.hours);
  const hours = judgedHours(input);
  const summary: ExceedanceRow[] = [];
  const exceededHours: ExceedanceHourRow[] = [];
  for (const tenant of tenantsOf(input)) {
    for (const meter of tenant.meters) {
      for (const metric of meter.metrics) {
        const rows = new Map<Limit, ExceedanceRow>();
        for (const hour of hours) {
          const limit = limitInForce(input.park, meter, metric, hour);
          if (!limit || !hourly(limit)) continue;
          let row = rows.get(limit);
          if (!row) {
            row = emptyRow(tenant, meter, metric, limit);
            rows.set(limit, row);
          }
          judgeHour(row, meter, metric, hour, limit, windows, input.minCompleteness, tenant, exceededHours);
        }
        summary.push(...rows.values());
      }
    }
  }
  return { summary, hours: exceededHours };
}

function emptyRow(tenant: Tenant, meter: Meter, metric: string, limit: Limit): ExceedanceRow {
  return {
    tenant: tenant.id, meter: meter.id, metric, unit: unitOf(metric), limitMin: limit.min, limitMax: limit.max, limitSource: limit.source,
    o2Reference: corrects(meter, metric) ? meter.o2ReferencePercent : undefined,
    hours: 0, valid: 0, exceeded: 0, incomplete: 0, exceededIncomplete: 0, missing: 0, noO2: 0, maxMean: undefined,
  };
}

/** O2 itself is not corrected; every other parameter of a meter with a reference is, as the rules do. */
const corrects = (meter: Meter, metric: string): boolean => meter.o2ReferencePercent !== undefined && metric !== 'o2';

function judgeHour(
  row: ExceedanceRow, meter: Meter, metric: string, hour: number, limit: Limit,
  windows: ReturnType<typeof indexHours>, minCompleteness: number, tenant: Tenant, out: ExceedanceHourRow[],
): void {
  row.hours++;
  const w = windows.get(hourKey(meter.id, metric, hour));
  if (!w) {
    row.missing++;
    return;
  }
  let judged = w.mean;
  let o2: number | undefined;
  if (corrects(meter, metric)) {
    o2 = windows.get(hourKey(meter.id, 'o2', hour))?.mean;
    const corrected = o2 === undefined ? undefined : correctToReferenceO2(w.mean, o2, meter.o2ReferencePercent!);
    if (corrected === undefined) {
      row.noO2++;
      return;
    }
    judged = corrected;
  }
  if (row.maxMean === undefined || judged > row.maxMean) row.maxMean = judged;
  const incomplete = isIncomplete(w.completeness, minCompleteness);
  const over = outside(judged, limit);
  if (incomplete) {
    row.incomplete++;
    if (over) row.exceededIncomplete++;
  } else {
    row.valid++;
    if (over) row.exceeded++;
  }
  if (over) {
    out.push({
      tenant: tenant.id, meter: meter.id, metric, unit: w.unit, hour, mean: w.mean, judged, o2,
      limitMin: limit.min, limitMax: limit.max, count: w.count, expected: w.expected, completeness: w.completeness, incomplete,
    });
  }
}
