/**
 * Month-to-date totals (energy, water, kg CO2e) against budgets, from the
 * aggregator's stored windows. Days are covered by 1-day windows, the edges by
 * hours and minutes, so the sum is exact up to the last closed minute without
 * reading raw data. Emissions use the emission factor version in force for each
 * part of the month, and say which.
 */
import type { WindowSize } from '../../shared/contracts/events.ts';
import { windowBounds } from '../aggregator/domain/windows.ts';
import { factorVersions, type Park } from '../../shared/contracts/park-registry.ts';
import { changesWithin, versionAt } from '../../shared/contracts/validity.ts';
import type { TimeSeriesStore, SeriesScope } from '../../shared/ports/time-series.ts';
import type { ParkTotals } from './api/schemas.ts';
import { periodBounds, zoneOffsetMs } from '../../shared/time-zones.ts';
import { satAdd, satMul } from '../../shared/saturating.ts';

const MINUTE = 60_000;

export interface Span {
  window: WindowSize;
  from: number;
  to: number;
}

/**
 * Splits [from, to) into whole windows as the aggregator aligns them (hours and
 * days on the park's clock), largest first where they fit; the remainder under
 * a minute is dropped.
 */
export function coverRange(from: number, to: number, zone = 'UTC'): Span[] {
  const sizes: WindowSize[] = ['1d', '1h', '1m'];
  const out: Span[] = [];
  const cover = (a: number, b: number, level: number): void => {
    if (a >= b || level >= sizes.length) return;
    const size = sizes[level]!;
    const at = windowBounds(a, size, zone);
    const start = at.start === a ? a : at.end;
    const end = windowBounds(b, size, zone).start;
    if (start >= end) return cover(a, b, level + 1);
    cover(a, start, level + 1);
    out.push({ window: size, from: start, to: end });
    cover(end, b, level + 1);
  };
  cover(from, to, 0);
  return out.sort((x, y) => x.from - y.from);
}

/** The month containing `now` in a time zone: [from, to) in epoch ms and its YYYY-MM label. */
export function monthBounds(now: number, timeZone: string): { from: number; to: number; label: string } {
  const [from, to] = periodBounds(now, 'month', timeZone);
  const local = new Date(from + zoneOffsetMs(timeZone, from));
  return { from, to, label: `${local.getUTCFullYear()}-${String(local.getUTCMonth() + 1).padStart(2, '0')}` };
}

async function consumption(store: TimeSeriesStore, scope: SeriesScope, aggregateScope: 'tenant' | 'park', metric: string, spans: Span[]): Promise<number | null> {
  let total: number | null = null;
  for (const span of spans) {
    const points = await store.queryStoredAggregates({ scope, aggregateScope, metric, window: span.window, from: span.from, to: span.to });
    for (const p of points) if (p.consumption !== undefined) total = satAdd(total ?? 0, p.consumption);
  }
  return total;
}

type FactorUse = ParkTotals['tenants'][number]['factors'][number];

/**
 * Scope 2: the tenant's electricity times its supply source's emission factor,
 * each part of the month by the factor version in force then. The month is cut
 * where a version starts or ends, so every stored window lies in one version
 * (a change off a whole minute: the minute holding it takes the version in force
 * at its start) and the total is the sum of per-window products.
 */
async function energyAndScope2(store: TimeSeriesStore, scope: SeriesScope, park: Park, supplySource: string, from: number, to: number): Promise<{ energyKwh: number | null; co2eKg: number | null; factors: FactorUse[] }> {
  const versions = factorVersions(park, supplySource);
  const cuts = changesWithin(versions, from, to).map((c) => Math.ceil(c / MINUTE) * MINUTE).filter((c) => c > from && c < to);
  const edges = [from, ...new Set(cuts), to];
  let energyKwh: number | null = null;
  let co2eKg: number | null = null;
  const factors: FactorUse[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const [a, b] = [edges[i]!, edges[i + 1]!];
    const v = versionAt(versions, a);
    const energy = await consumption(store, scope, 'tenant', 'active_energy_import', coverRange(a, b));
    if (energy !== null) energyKwh = satAdd(energyKwh ?? 0, energy);
    const co2 = energy !== null && v ? satMul(energy, v.value.kgCo2ePerKwh) : null;
    if (co2 !== null) co2eKg = satAdd(co2eKg ?? 0, co2);
    if (v) {
      factors.push({
        kgCo2ePerKwh: v.value.kgCo2ePerKwh, reference: v.reference, ...(v.from !== undefined && { validFrom: v.from }), ...(v.to !== undefined && { validTo: v.to }),
        from: a, to: b, energyKwh: energy, co2eKg: co2,
      });
    }
  }
  return { energyKwh, co2eKg, factors };
}

export async function parkTotals(store: TimeSeriesStore, park: Park, now: number): Promise<ParkTotals> {
  const month = monthBounds(now, park.timezone);
  const spans = coverRange(month.from, now, park.timezone);
  const share = (now - month.from) / (month.to - month.from);
  const days = (month.to - month.from) / 86_400_000;
  const tenants = await Promise.all(park.tenants.map(async (t) => {
    const scope = { park: park.id, tenant: t.id };
    // Energy is read once, part by part: the parts are the factor versions' (one part without a revision this month).
    const [{ energyKwh, co2eKg, factors }, waterM3] = await Promise.all([
      energyAndScope2(store, scope, park, t.supplySource, month.from, now),
      consumption(store, scope, 'tenant', 'water_intake', spans),
    ]);
    return { tenant: t.id, energyKwh, waterM3, co2eKg, co2eBudgetKg: t.budgets?.monthlyKgCo2e ?? null, factors };
  }));
  const sum = (xs: Array<number | null>): number | null => xs.some((x) => x !== null) ? xs.reduce<number>((a, x) => satAdd(a, x ?? 0), 0) : null;
  const co2Budget = park.budgets?.monthlyKgCo2e ?? null;
  const waterBudget = park.budgets?.dailyWaterIntakeM3 !== undefined ? park.budgets.dailyWaterIntakeM3 * days : null;
  return {
    park: park.id, month: month.label, from: month.from, to: now,
    energyKwh: { metric: 'active_energy_import', unit: 'kWh', value: sum(tenants.map((t) => t.energyKwh)), budget: null, budgetToDate: null },
    waterM3: { metric: 'water_intake', unit: 'm3', value: sum(tenants.map((t) => t.waterM3)), budget: waterBudget, budgetToDate: waterBudget === null ? null : waterBudget * share },
    co2eKg: { metric: 'co2e', unit: 'kg CO2e', value: sum(tenants.map((t) => t.co2eKg)), budget: co2Budget, budgetToDate: co2Budget === null ? null : co2Budget * share },
    tenants,
  };
}
