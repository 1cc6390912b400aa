/**
 * Load curves and metric baselines. A load factor (0..1) shapes everything a
 * plant consumes; concentrations wander around fixed set points instead,
 * because a working abatement plant holds them roughly steady.
 */
import { limitVersions, type MeterEntry } from '../../shared/contracts/park-registry.ts';
import type { MetricName } from '../../shared/contracts/metric-catalogue.ts';

export type LoadPattern = 'continuous' | 'three-shift' | 'two-shift';

/** Smelters and treatment plants never stop; factories follow shifts. */
export function loadPatternOf(entry: MeterEntry): LoadPattern {
  const sector = entry.tenant.sector;
  if (sector === 'nickel-smelter' || sector === 'central-wwtp') return 'continuous';
  if (sector === 'food-plant') return 'two-shift';
  return 'three-shift';
}

export interface LocalTime {
  hour: number; // fractional, 0..24
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Local time in the park's zone: shifts follow the plant's clock, not UTC. */
export function localTime(epochMs: number, timezone: string): LocalTime {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', weekday: 'short', hour: 'numeric', minute: 'numeric' });
    formatters.set(timezone, f);
  }
  const parts = f.formatToParts(new Date(epochMs));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '0';
  return { hour: Number(get('hour')) + Number(get('minute')) / 60, weekday: Math.max(0, weekdays.indexOf(get('weekday'))) };
}

/** Load factor 0..1 at a local time. */
export function loadFactor(pattern: LoadPattern, t: LocalTime): number {
  // A gentle daily wave (cooling load peaks mid-afternoon) on every pattern.
  const daily = 0.04 * Math.sin(((t.hour - 9) / 24) * 2 * Math.PI);
  if (pattern === 'continuous') return 0.85 + daily;
  const weekend = t.weekday === 0 ? 0.55 : t.weekday === 6 ? 0.8 : 1;
  // Shift changes (06, 14, 22) dip for about half an hour.
  const sinceChange = Math.min(...[6, 14, 22].map((h) => Math.abs(t.hour - h)));
  const changeDip = sinceChange < 0.5 ? 0.12 * (1 - sinceChange / 0.5) : 0;
  let shift: number;
  if (pattern === 'three-shift') shift = t.hour >= 22 || t.hour < 6 ? 0.7 : 0.85;
  else shift = t.hour >= 6 && t.hour < 22 ? 0.8 : 0.25; // two shifts; night is cleaning and refrigeration
  return Math.max(0.05, (shift + daily - changeDip) * weekend);
}

/** Set point and noise (one standard deviation) of an instantaneous metric that does not follow load. */
export const setPoints: Partial<Record<MetricName, { mean: number; sd: number }>> = {
  ph: { mean: 7.2, sd: 0.12 },
  cod: { mean: 45, sd: 4 },
  bod: { mean: 18, sd: 2 },
  tss: { mean: 60, sd: 6 },
  nh3n: { mean: 8, sd: 0.8 },
  so2: { mean: 250, sd: 20 },
  nox: { mean: 300, sd: 25 },
  pm: { mean: 40, sd: 4 },
  co: { mean: 80, sd: 8 },
  o2: { mean: 8, sd: 0.3 },
  opacity: { mean: 10, sd: 1 },
  stack_temperature: { mean: 140, sd: 3 },
  power_factor: { mean: 0.9, sd: 0.015 },
};

/** Full-load rates of the flows behind each meter kind, in canonical units per hour. */
export interface Rates {
  powerKw: number;
  waterM3h: number;
  gasNm3h: number;
  steamTh: number;
  stackNm3h: number;
  productionTh: number;
}

export function fullLoadRates(entry: MeterEntry): Rates {
  const { meter, tenant, park } = entry;
  const dailyWater = tenant.budgets?.dailyWaterIntakeM3 ?? (park.budgets?.dailyWaterIntakeM3 ?? 24_000) / 2;
  let waterM3h = dailyWater / 24;
  // A discharge limit per used hectare caps the flow: stay well inside it (inside every version of it).
  const perHas = limitVersions(park, meter, 'water_discharge').flatMap((v) => v.value.dailyMaxPerUsedHa ?? []);
  const perHa = perHas.length ? Math.min(...perHas) : undefined;
  if (perHa !== undefined) waterM3h = Math.min(waterM3h, (perHa * park.usedAreaHa) / 24 * 0.6);
  if (meter.kind === 'wastewater-quality') waterM3h *= 0.6; // effluent is less than intake
  return {
    powerKw: meter.contractedKw ?? 1000,
    waterM3h,
    gasNm3h: meter.kind === 'gas' ? (tenant.sector === 'food-plant' ? 250 : 900) : 0,
    steamTh: 12,
    stackNm3h: tenant.sector === 'nickel-smelter' ? 250_000 : 40_000,
    productionTh: 5,
  };
}
