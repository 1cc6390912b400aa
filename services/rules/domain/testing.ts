/** Fixtures for the rules domain tests: a small registry, rule and event builders. */
import type { AggregateEvent, AlertCommand, MeterStatusEvent, ReadingBatchEvent, WindowSize } from '../../../shared/contracts/events.ts';
import { windowMs } from '../../../shared/contracts/events.ts';
import { parseParkRegistry, RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import { RulesEngine, type Transition } from './engine.ts';
import { parseRulePack } from './pack.ts';

export const T0 = Date.UTC(2026, 0, 15, 0, 0, 0); // 08:00 in Asia/Makassar
export const MIN = 60_000;
export const HOUR = 3_600_000;

export const registry = new RegistryIndex(parseParkRegistry({
  version: 1,
  parks: [{
    id: 'p1', name: 'Test park', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.5, source: 'test grid' } },
    budgets: { monthlyKgCo2e: 100000 },
    tenants: [
      {
        id: 't1', name: 'Tenant one', sector: 'test', supplySource: 'grid', budgets: { monthlyKgCo2e: 31000, dailyWaterIntakeM3: 100 },
        meters: [
          { id: 'm-ww', kind: 'wastewater-quality', cadenceSeconds: 120, metrics: ['ph', 'cod', 'tss', 'nh3n'],
            limits: { ph: { min: 6, max: 9, source: 'permit pH' }, cod: { max: 100, source: 'permit COD' } } },
          { id: 'm-stack', kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2', 'nox', 'pm', 'o2'], o2ReferencePercent: 7,
            limits: { so2: { max: 550, source: 'permit SO2' } } },
          { id: 'm-elec', kind: 'electricity', cadenceSeconds: 60, metrics: ['active_energy_import', 'active_power', 'power_factor'], contractedKw: 1000,
            ratings: { active_energy_import: { maxStepPerHour: 500 } } },
          { id: 'm-prod', kind: 'production', cadenceSeconds: 3600, metrics: ['production', 'co2e'] },
          { id: 'm-dis', kind: 'water', cadenceSeconds: 300, metrics: ['water_discharge', 'water_intake'],
            limits: { water_discharge: { dailyMaxPerUsedHa: 69.1, source: 'permit discharge' } } },
        ],
      },
      {
        id: 't2', name: 'Tenant two', sector: 'test', supplySource: 'grid',
        meters: [{ id: 'm-ww2', kind: 'wastewater-quality', cadenceSeconds: 120, metrics: ['ph', 'cod'] }],
      },
    ],
  }],
}));

export type RuleObject = Record<string, unknown>;

export function rule(over: RuleObject = {}): RuleObject {
  return {
    id: 'r1', version: 1, description: 'test rule', source: 'test regulation', kind: 'threshold',
    selector: { metric: 'cod', meters: ['m-ww'] }, limit: 100, levels: { critical: {} },
    ...over,
  };
}

export function packText(...rules: RuleObject[]): string {
  return JSON.stringify({ version: 1, rules });
}

export function engine(...rules: RuleObject[]): RulesEngine {
  return new RulesEngine(parseRulePack(packText(...rules)), registry);
}

export function batch(meter: string, ts: number, readings: Record<string, number>, opts: { seq?: number; receivedAt?: number; simulated?: boolean } = {}): ReadingBatchEvent {
  const entry = registry.meter(meter);
  if (!entry) throw new Error(`no meter ${meter}`);
  return {
    v: 1, park: entry.park.id, tenant: entry.tenant.id, meter, seq: opts.seq ?? 0, receivedAt: opts.receivedAt ?? ts, simulated: opts.simulated ?? false,
    readings: Object.entries(readings).map(([metric, value]) => ({ metric, unit: '-', value, ts })),
  };
}

export function agg(a: { metric: string; window: WindowSize; start: number; meter?: string; tenant?: string; scope?: 'meter' | 'tenant' | 'park'; mean?: number; count?: number; consumption?: number; revision?: number; simulated?: boolean }): AggregateEvent {
  const scope = a.scope ?? (a.meter ? 'meter' : a.tenant ? 'tenant' : 'park');
  const count = a.count ?? 1;
  const mean = a.mean ?? 0;
  const ev: AggregateEvent = {
    v: 1, windowId: `${scope}:${a.meter ?? a.tenant ?? 'p1'}:${a.metric}:${a.window}:${a.start}`, revision: a.revision ?? 0, scope, park: 'p1',
    metric: a.metric, unit: '-', window: a.window, start: a.start, end: a.start + windowMs[a.window],
    count, sum: mean * count, min: mean, max: mean, mean, last: mean, registerEvents: [], simulated: a.simulated ?? false,
  };
  if (a.meter) {
    ev.meter = a.meter;
    ev.tenant = registry.meter(a.meter)?.tenant.id;
  } else if (a.tenant) ev.tenant = a.tenant;
  if (a.consumption !== undefined) ev.consumption = a.consumption;
  return ev;
}

export function status(meter: string, st: 'online' | 'offline', at: number): MeterStatusEvent {
  const entry = registry.meter(meter);
  if (!entry) throw new Error(`no meter ${meter}`);
  return { v: 1, park: entry.park.id, tenant: entry.tenant.id, meter, status: st, cause: st === 'online' ? 'birth' : 'will', at, simulated: false };
}

let commandSeq = 0;
export function ack(fingerprint: string, at: number): AlertCommand {
  return { v: 1, kind: 'acknowledge', commandId: `c${++commandSeq}`, fingerprint, by: 'operator', at };
}
export function resolveCmd(fingerprint: string, at: number): AlertCommand {
  return { v: 1, kind: 'resolve', commandId: `c${++commandSeq}`, fingerprint, by: 'operator', at };
}

/** "firing:critical" style summaries of transitions, for compact assertions. */
export const states = (ts: Transition[]): string[] => ts.map((t) => `${t.event.state}:${t.event.severity}`);
