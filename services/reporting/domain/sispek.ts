/**
 * SISPEK-style hourly CEMS averages of one stack: each parameter's clock-hour
 * mean from the aggregator's 1 h meter window of its 5-minute values, the
 * count behind it, the concentrations corrected to the stack's reference O2
 * with the same hour's O2 mean, and one validity flag per parameter.
 */
import { defaultMinCompleteness, isIncomplete } from '../../../shared/contracts/completeness.ts';
import { metricCatalogue, isMetricName } from '../../../shared/contracts/metric-catalogue.ts';
import { satDiv } from '../../../shared/saturating.ts';
import { correctToReferenceO2 } from '../../../shared/domain/o2.ts';
import { roundTo } from './rounding.ts';
import type { SispekBody, SispekParameter, Validity } from './bodies.ts';

/** One parameter's 1 h window, as the aggregator emitted it (latest revision). */
export interface HourInput {
  unit: string;
  mean: number;
  min: number;
  max: number;
  count: number;
  /** Values the cadence gives the hour (the window's `expected`, or 3600 / cadence). */
  expected: number;
  windowRevision: number;
}

export interface StackSettings {
  stack: string;
  park: string;
  tenant?: string;
  /** The parameters the registry lists for the stack: one that sent nothing is reported with count 0. */
  metrics: readonly string[];
  cadenceSeconds: number;
  o2ReferencePercent?: number;
  /** The analyser's full scale per parameter: an hour reaching past it is out of range. */
  ranges: ReadonlyMap<string, number>;
  /** Share of the expected values a parameter's hour needs to be valid (default: defaultMinCompleteness). */
  minCompleteness?: number;
}

/** Physically possible values; anything outside is an analyser or wiring fault. */
const physical: Readonly<Record<string, { min: number; max: number }>> = {
  o2: { min: 0, max: 21 },
  opacity: { min: 0, max: 100 },
};

/** Concentrations are what the reference-O2 correction applies to. */
export function isConcentration(metric: string): boolean {
  return isMetricName(metric) && metricCatalogue[metric].unit === 'mg/Nm3';
}

function rangeProblem(metric: string, input: HourInput, ranges: ReadonlyMap<string, number>): string | undefined {
  const bounds = physical[metric] ?? { min: 0, max: Infinity };
  if (input.min < bounds.min || input.max > bounds.max) return `outside the physically possible ${bounds.min}..${bounds.max === Infinity ? '∞' : bounds.max}`;
  const full = ranges.get(metric);
  if (full !== undefined && input.max > full) return `above the analyser's range (${full})`;
  return undefined;
}

/** The flag of one parameter, worst first: maintenance, then incomplete, then out of range. */
export function validityOf(metric: string, input: HourInput | undefined, settings: Pick<StackSettings, 'ranges' | 'minCompleteness'>, inMaintenance: boolean): { validity: Validity; reason?: string } {
  const minCompleteness = settings.minCompleteness ?? defaultMinCompleteness;
  if (inMaintenance) return { validity: 'maintenance', reason: 'the stack was in maintenance or calibration during the hour' };
  if (!input || input.count === 0) return { validity: 'incomplete', reason: 'no values in the hour' };
  const completeness = satDiv(input.count, input.expected);
  if (isIncomplete(completeness, minCompleteness)) return { validity: 'incomplete', reason: `${input.count} of ${input.expected} values, below ${Math.round(minCompleteness * 100)} %` };
  const problem = rangeProblem(metric, input, settings.ranges);
  if (problem) return { validity: 'out-of-range', reason: problem };
  return { validity: 'valid' };
}

const severity: Record<Validity, number> = { valid: 0, 'out-of-range': 1, incomplete: 2, maintenance: 3 };

/** The hour's body; `inMaintenance` says whether a maintenance period overlaps the hour. */
export function sispekBody(settings: StackSettings, hourStart: number, hourEnd: number, inputs: ReadonlyMap<string, HourInput>, revision: number, inMaintenance: boolean): SispekBody {
  const expectedDefault = Math.max(1, Math.round((hourEnd - hourStart) / 1000 / settings.cadenceSeconds));
  const o2 = inputs.get('o2');
  const o2Flag = validityOf('o2', o2, settings, inMaintenance);
  const parameters = settings.metrics.map((metric): SispekParameter => {
    const input = inputs.get(metric);
    let flag = validityOf(metric, input, settings, inMaintenance);
    const unit = input?.unit ?? (isMetricName(metric) ? metricCatalogue[metric].unit : '');
    const expected = input?.expected ?? expectedDefault;
    const count = input?.count ?? 0;
    const p: SispekParameter = {
      parameter: metric, unit: unit || '-',
      mean: input && count > 0 ? roundTo(input.mean, 2) : null,
      min: input && count > 0 ? roundTo(input.min, 2) : null,
      max: input && count > 0 ? roundTo(input.max, 2) : null,
      count, expected, completeness: roundTo(satDiv(count, expected), 4),
      validity: flag.validity,
      windowRevision: input?.windowRevision ?? 0,
    };
    if (isConcentration(metric) && settings.o2ReferencePercent !== undefined) {
      const corrected = input && count > 0 && o2 && o2.count > 0 ? correctToReferenceO2(input.mean, o2.mean, settings.o2ReferencePercent) : undefined;
      p.corrected = corrected === undefined ? null : roundTo(corrected, 2);
      // A corrected mean is only as good as the O2 it was corrected with.
      if (severity[o2Flag.validity] > severity[flag.validity]) flag = { validity: o2Flag.validity, reason: `O2: ${o2Flag.reason ?? o2Flag.validity}` };
      if (corrected === undefined && flag.validity === 'valid') flag = { validity: 'incomplete', reason: 'no usable O2 mean for the correction' };
      p.validity = flag.validity;
    }
    if (flag.reason !== undefined) p.reason = flag.reason;
    return p;
  });
  return {
    v: 1, stack: settings.stack, park: settings.park, ...(settings.tenant !== undefined && { tenant: settings.tenant }),
    start: new Date(hourStart).toISOString(), end: new Date(hourEnd).toISOString(), revision,
    o2ReferencePercent: settings.o2ReferencePercent ?? null, parameters,
  };
}

/** The inputs back from a stored body (a restart), so a late revision of one parameter keeps the others. */
export function inputsFromBody(body: SispekBody): Map<string, HourInput> {
  const inputs = new Map<string, HourInput>();
  for (const p of body.parameters) {
    if (p.mean === null || p.min === null || p.max === null || p.count === 0) continue;
    inputs.set(p.parameter, { unit: p.unit, mean: p.mean, min: p.min, max: p.max, count: p.count, expected: p.expected, windowRevision: p.windowRevision });
  }
  return inputs;
}
