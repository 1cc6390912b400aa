/**
 * Canonical metrics, their units, and the conversions from what meters really
 * send. A cumulative register counts up (consumption is the difference between
 * readings); an instantaneous value is a sample.
 */
export type MetricKind = 'cumulative' | 'instantaneous';

export const canonicalUnits = ['kWh', 'kW', 'kVArh', 'ratio', 'm3', 'm3/h', 'Nm3', 'Nm3/h', 't', 'GJ', 'kg CO2e', 'mg/Nm3', 'mg/L', 'pH', '%', 'degC'] as const;
export type CanonicalUnit = (typeof canonicalUnits)[number];

/** value_in_canonical = value * scale + offset */
export interface Conversion {
  scale: number;
  offset?: number;
}

export interface MetricDefinition {
  unit: CanonicalUnit;
  kind: MetricKind;
  description: string;
  /** Units accepted besides the canonical one, keyed by the unit as sent. */
  from: Record<string, Conversion>;
}

const energy = { Wh: { scale: 1e-3 }, kWh: { scale: 1 }, MWh: { scale: 1e3 } };
const reactive = { VArh: { scale: 1e-3 }, varh: { scale: 1e-3 }, kvarh: { scale: 1 }, MVArh: { scale: 1e3 } };
const power = { W: { scale: 1e-3 }, MW: { scale: 1e3 } };
const volume = { L: { scale: 1e-3 }, l: { scale: 1e-3 } };
const concentration = { 'g/m3': { scale: 1 }, ppm: { scale: 1 } };
/** ppm (by volume) to mg/Nm3 at 0 °C and 1 atm: molar mass / 22.414. */
const ppmToMgNm3 = (molarMass: number): Conversion => ({ scale: molarMass / 22.414 });
const mgPerNm3 = { 'mg/m3': { scale: 1 }, 'ug/Nm3': { scale: 1e-3 }, 'g/Nm3': { scale: 1e3 } };

export const metricCatalogue = {
  active_energy_import: { unit: 'kWh', kind: 'cumulative', description: 'active energy imported (register)', from: energy },
  active_energy_export: { unit: 'kWh', kind: 'cumulative', description: 'active energy exported (register)', from: energy },
  reactive_energy: { unit: 'kVArh', kind: 'cumulative', description: 'reactive energy (register)', from: reactive },
  active_power: { unit: 'kW', kind: 'instantaneous', description: 'active power demand', from: power },
  power_factor: { unit: 'ratio', kind: 'instantaneous', description: 'power factor, 0..1', from: { '%': { scale: 0.01 }, '/': { scale: 1 }, '1': { scale: 1 } } },
  gas_volume: { unit: 'Nm3', kind: 'cumulative', description: 'natural gas volume at normal conditions (register)', from: { Sm3: { scale: 273.15 / 288.15 }, 'Nm³': { scale: 1 } } },
  gas_energy: { unit: 'GJ', kind: 'cumulative', description: 'natural gas energy (register)', from: { MMBTU: { scale: 1.055056 }, MJ: { scale: 1e-3 }, kWh: { scale: 0.0036 } } },
  steam_mass: { unit: 't', kind: 'cumulative', description: 'steam delivered (register)', from: { kg: { scale: 1e-3 } } },
  steam_energy: { unit: 'GJ', kind: 'cumulative', description: 'steam energy (register)', from: { MJ: { scale: 1e-3 }, MMBTU: { scale: 1.055056 }, kWh: { scale: 0.0036 } } },
  water_intake: { unit: 'm3', kind: 'cumulative', description: 'water drawn (register)', from: { ...volume, 'm³': { scale: 1 } } },
  water_discharge: { unit: 'm3', kind: 'cumulative', description: 'wastewater discharged (register)', from: { ...volume, 'm³': { scale: 1 } } },
  water_flow: { unit: 'm3/h', kind: 'instantaneous', description: 'water or effluent flow', from: { 'L/s': { scale: 3.6 }, 'l/s': { scale: 3.6 }, 'm3/s': { scale: 3600 }, 'm3/min': { scale: 60 } } },
  ph: { unit: 'pH', kind: 'instantaneous', description: 'effluent pH', from: {} },
  cod: { unit: 'mg/L', kind: 'instantaneous', description: 'chemical oxygen demand', from: concentration },
  bod: { unit: 'mg/L', kind: 'instantaneous', description: 'biochemical oxygen demand', from: concentration },
  tss: { unit: 'mg/L', kind: 'instantaneous', description: 'total suspended solids', from: concentration },
  nh3n: { unit: 'mg/L', kind: 'instantaneous', description: 'ammonia nitrogen', from: concentration },
  so2: { unit: 'mg/Nm3', kind: 'instantaneous', description: 'stack SO2 concentration', from: { ...mgPerNm3, ppm: ppmToMgNm3(64.066) } },
  nox: { unit: 'mg/Nm3', kind: 'instantaneous', description: 'stack NOx concentration, as NO2', from: { ...mgPerNm3, ppm: ppmToMgNm3(46.0055) } },
  co: { unit: 'mg/Nm3', kind: 'instantaneous', description: 'stack CO concentration', from: { ...mgPerNm3, ppm: ppmToMgNm3(28.01) } },
  pm: { unit: 'mg/Nm3', kind: 'instantaneous', description: 'stack particulate matter', from: mgPerNm3 },
  o2: { unit: '%', kind: 'instantaneous', description: 'stack O2, dry, for reference correction', from: {} },
  opacity: { unit: '%', kind: 'instantaneous', description: 'stack opacity', from: {} },
  stack_flow: { unit: 'Nm3/h', kind: 'instantaneous', description: 'stack gas flow', from: { 'Nm3/s': { scale: 3600 } } },
  stack_temperature: { unit: 'degC', kind: 'instantaneous', description: 'stack gas temperature', from: { Cel: { scale: 1 }, K: { scale: 1, offset: -273.15 } } },
  co2e: { unit: 'kg CO2e', kind: 'cumulative', description: 'greenhouse gas emissions (register)', from: { 't CO2e': { scale: 1e3 }, tCO2e: { scale: 1e3 }, kgCO2e: { scale: 1 } } },
  production: { unit: 't', kind: 'cumulative', description: 'product output, for intensity (register)', from: { kg: { scale: 1e-3 } } },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof metricCatalogue;
export const metricNames = Object.keys(metricCatalogue) as MetricName[];

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(metricCatalogue, name);
}

export function metricDefinition(name: MetricName): MetricDefinition {
  return metricCatalogue[name];
}

export type Normalised = { ok: true; metric: MetricName; unit: CanonicalUnit; value: number } | { ok: false; reason: 'unknown-metric' | 'unknown-unit' | 'non-finite-value'; detail: string };

/** Converts a value in the unit a meter sent into the metric's canonical unit; refuses a result no sink can store. */
export function normalise(metric: string, unit: string, value: number): Normalised {
  if (!isMetricName(metric)) return { ok: false, reason: 'unknown-metric', detail: `unknown metric "${metric}"` };
  const def: MetricDefinition = metricCatalogue[metric];
  const conv: Conversion | undefined = unit === def.unit ? { scale: 1 } : Object.hasOwn(def.from, unit) ? def.from[unit] : undefined;
  if (!conv) {
    const accepted = [def.unit, ...Object.keys(def.from)].join(', ');
    return { ok: false, reason: 'unknown-unit', detail: `unit "${unit}" is not accepted for ${metric}; accepted: ${accepted}` };
  }
  const converted = conv.scale === 1 && conv.offset === undefined ? value : value * conv.scale + (conv.offset ?? 0);
  // 1e306 MWh is a finite input but no double in kWh.
  if (!Number.isFinite(converted)) return { ok: false, reason: 'non-finite-value', detail: `${metric} ${String(value)} ${unit} is not a finite number in ${def.unit}` };
  return { ok: true, metric, unit: def.unit, value: converted };
}
