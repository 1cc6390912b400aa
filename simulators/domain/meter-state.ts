/**
 * One simulated meter: its seeded noise, its registers and its sequence
 * number. Pure: the caller passes the event time; nothing reads a clock.
 */
import { factorInForce, limitInForce, type MeterEntry } from '../../shared/contracts/park-registry.ts';
import { metricCatalogue, type MetricName } from '../../shared/contracts/metric-catalogue.ts';
import type { ReadingEnvelope } from '../../shared/contracts/payloads.ts';
import { gaussian, hashSeed, mulberry32, type Rng } from './prng.ts';
import { fullLoadRates, loadFactor, loadPatternOf, localTime, setPoints, type LoadPattern, type Rates } from './profiles.ts';

export interface MeterState {
  readonly entry: MeterEntry;
  readonly rng: Rng;
  readonly pattern: LoadPattern;
  readonly rates: Rates;
  readonly metrics: readonly MetricName[];
  /** Smoothed noise per metric (AR(1)), so values wander instead of jumping every sample. */
  readonly noise: Map<string, number>;
  /** Register values in canonical units, unrounded. */
  readonly registers: Map<string, number>;
  /** Where a register wraps to zero: the registry's rolloverAt, or a scenario rollover's modulus. */
  readonly wrapAt: Map<string, number>;
  /** Last value sent per metric: what a stuck sensor repeats. */
  readonly lastSent: Map<string, number>;
  seq: number;
  lastTickMs: number | null;
}

/** What a scenario does to one tick of one meter. */
export interface TickEffects {
  set?: ReadonlyMap<string, number>;
  spike?: ReadonlyMap<string, number>;
  drift?: ReadonlyMap<string, number>;
  stuck?: ReadonlySet<string>;
  resetRegisters?: ReadonlySet<string>;
}

const kgCo2ePerKwhDefault = 0.8;
const gasGjPerNm3 = 0.0378;
const steamGjPerT = 2.75;

export function createMeterState(entry: MeterEntry, seed: number): MeterState {
  const rng = mulberry32(hashSeed(seed, entry.meter.id));
  const state: MeterState = {
    entry,
    rng,
    pattern: loadPatternOf(entry),
    rates: fullLoadRates(entry),
    metrics: entry.meter.metrics,
    noise: new Map(),
    registers: new Map(),
    wrapAt: new Map(),
    lastSent: new Map(),
    seq: 0,
    lastTickMs: null,
  };
  // Registers start where an installed meter would be after some months of service (at the latest factor: a rough start).
  const hours = 500 + rng() * 1500;
  for (const m of state.metrics) {
    if (metricCatalogue[m].kind !== 'cumulative') continue;
    state.registers.set(m, registerRatePerHour(state, m, 0.7, 0.9, Number.MAX_SAFE_INTEGER) * hours);
    const rolloverAt = entry.meter.ratings?.[m]?.rolloverAt;
    if (rolloverAt !== undefined) state.wrapAt.set(m, rolloverAt);
  }
  return state;
}

/** A register's increase per hour at a load and power factor. */
function registerRatePerHour(state: MeterState, metric: MetricName, load: number, pf: number, eventTimeMs: number): number {
  const r = state.rates;
  switch (metric) {
    case 'active_energy_import': return r.powerKw * load;
    case 'active_energy_export': return 0; // no generation behind these meters
    case 'reactive_energy': return r.powerKw * load * Math.tan(Math.acos(Math.min(Math.max(pf, 0.5), 1)));
    case 'gas_volume': return r.gasNm3h * load;
    case 'gas_energy': return r.gasNm3h * load * gasGjPerNm3;
    case 'steam_mass': return r.steamTh * load;
    case 'steam_energy': return r.steamTh * load * steamGjPerT;
    case 'water_intake':
    case 'water_discharge': return r.waterM3h * load;
    case 'co2e': {
      const factor = factorInForce(state.entry.park, state.entry.tenant.supplySource, eventTimeMs)?.value.kgCo2ePerKwh ?? kgCo2ePerKwhDefault;
      return r.powerKw * load * factor;
    }
    case 'production': return r.productionTh * load;
    default: return 0;
  }
}

function smoothNoise(state: MeterState, metric: string): number {
  const prev = state.noise.get(metric) ?? 0;
  // AR(1) with unit stationary variance: 0.8^2 + 0.6^2 = 1.
  const next = 0.8 * prev + 0.6 * gaussian(state.rng);
  state.noise.set(metric, next);
  return next;
}

/** Keeps a default value well inside the meter's limits in force (10 % of the span, or of the limit). */
function insideLimits(state: MeterState, metric: string, value: number, eventTimeMs: number): number {
  const limit = limitInForce(state.entry.park, state.entry.meter, metric, eventTimeMs)?.value;
  if (!limit) return value;
  let v = value;
  const span = limit.min !== undefined && limit.max !== undefined ? limit.max - limit.min : undefined;
  if (limit.max !== undefined) v = Math.min(v, limit.max - 0.1 * (span ?? Math.abs(limit.max)));
  if (limit.min !== undefined) v = Math.max(v, limit.min + 0.1 * (span ?? Math.abs(limit.min)));
  return v;
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** The envelope one meter publishes at one cadence tick; advances its registers and seq. */
export function nextReadings(state: MeterState, eventTimeMs: number, effects: TickEffects = {}): ReadingEnvelope {
  const cadenceMs = state.entry.meter.cadenceSeconds * 1000;
  const dtHours = Math.max(0, eventTimeMs - (state.lastTickMs ?? eventTimeMs - cadenceMs)) / 3_600_000;
  state.lastTickMs = eventTimeMs;
  const load = Math.max(0.02, loadFactor(state.pattern, localTime(eventTimeMs, state.entry.park.timezone)) * (1 + 0.03 * smoothNoise(state, '_load')));
  const pfPoint = setPoints.power_factor ?? { mean: 0.9, sd: 0.015 };
  const pf = Math.min(0.99, Math.max(0.7, pfPoint.mean + pfPoint.sd * smoothNoise(state, 'power_factor')));

  const readings: ReadingEnvelope['readings'] = [];
  for (const metric of state.metrics) {
    const def = metricCatalogue[metric];
    let value: number;
    if (def.kind === 'cumulative') {
      let reg = effects.resetRegisters?.has(metric) ? 0 : (state.registers.get(metric) ?? 0);
      reg += registerRatePerHour(state, metric, load, pf, eventTimeMs) * dtHours;
      const wrap = state.wrapAt.get(metric);
      if (wrap !== undefined && reg >= wrap) reg %= wrap;
      state.registers.set(metric, reg);
      value = reg;
    } else {
      value = instantaneous(state, metric, load, pf);
      value = insideLimits(state, metric, value, eventTimeMs);
    }
    value = applyEffects(state, metric, value, effects);
    value = round3(value);
    state.lastSent.set(metric, value);
    readings.push({ metric, value, unit: def.unit });
  }
  state.seq += 1;
  return { v: 1, ts: new Date(eventTimeMs).toISOString(), seq: state.seq, readings, simulated: true };
}

function instantaneous(state: MeterState, metric: MetricName, load: number, pf: number): number {
  const r = state.rates;
  const wobble = (sd: number): number => 1 + sd * smoothNoise(state, metric);
  switch (metric) {
    case 'active_power': return r.powerKw * load;
    case 'power_factor': return pf;
    case 'water_flow': return r.waterM3h * load * wobble(0.03);
    case 'stack_flow': return r.stackNm3h * load * wobble(0.02);
    default: {
      const point = setPoints[metric];
      if (!point) return 0;
      return Math.max(0, point.mean + point.sd * smoothNoise(state, metric));
    }
  }
}

function applyEffects(state: MeterState, metric: string, value: number, effects: TickEffects): number {
  if (effects.stuck?.has(metric)) return state.lastSent.get(metric) ?? value;
  const set = effects.set?.get(metric);
  let v = set ?? value;
  const drift = effects.drift?.get(metric);
  if (drift !== undefined) v += drift;
  const factor = effects.spike?.get(metric);
  if (factor !== undefined) v *= factor;
  return v;
}
