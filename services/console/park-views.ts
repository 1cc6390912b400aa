/** Parks, tenants and meters as the console shows them: the registry joined with live health and open alerts. */
import { limitInForce, type Park, type Tenant, type Meter } from '../../shared/contracts/park-registry.ts';
import type { ConsoleModels } from './console-models.ts';
import type { MeterView, ParkSummary, ParkView, TenantView } from './api/schemas.ts';

export function meterView(models: ConsoleModels, deadmanRules: ReadonlySet<string>, park: Park, tenant: Tenant, meter: Meter, now: number): MeterView {
  const deadman = models.alerts.openFor(meter.id, deadmanRules);
  const limits: MeterView['limits'] = {};
  // The limits in force now (dated permits: today's version).
  for (const metric of Object.keys(meter.limits ?? {})) {
    const l = limitInForce(park, meter, metric, now)?.value;
    if (l && (l.min !== undefined || l.max !== undefined)) limits[metric] = { ...(l.min !== undefined && { min: l.min }), ...(l.max !== undefined && { max: l.max }) };
  }
  return {
    id: meter.id, tenant: tenant.id, kind: meter.kind, cadenceSeconds: meter.cadenceSeconds, metrics: meter.metrics, limits,
    health: models.health.health(meter.id, deadman?.since),
  };
}

export function tenantView(models: ConsoleModels, deadmanRules: ReadonlySet<string>, park: Park, tenant: Tenant, now: number): TenantView {
  return {
    id: tenant.id, name: tenant.name, sector: tenant.sector,
    meters: tenant.meters.map((m) => meterView(models, deadmanRules, park, tenant, m, now)),
    openAlerts: models.alerts.openCounts(park.id, tenant.id),
  };
}

export function parkView(models: ConsoleModels, deadmanRules: ReadonlySet<string>, park: Park, now: number): ParkView {
  const tenantViews = park.tenants.map((t) => tenantView(models, deadmanRules, park, t, now));
  return { ...summaryOf(models, park, tenantViews), tenantViews };
}

export function parkSummary(models: ConsoleModels, deadmanRules: ReadonlySet<string>, park: Park, now: number): ParkSummary {
  return summaryOf(models, park, park.tenants.map((t) => tenantView(models, deadmanRules, park, t, now)));
}

function summaryOf(models: ConsoleModels, park: Park, tenants: TenantView[]): ParkSummary {
  const meters = tenants.flatMap((t) => t.meters);
  return {
    id: park.id, name: park.name, timezone: park.timezone, tenants: tenants.length, meters: meters.length,
    metersOnline: meters.filter((m) => m.health.status === 'online').length,
    openAlerts: models.alerts.openCounts(park.id),
    submissionsFailing: failing(models, park.id),
  };
}

function failing(models: ConsoleModels, park: string): ParkSummary['submissionsFailing'] {
  const c = models.submissions.stateCounts(park);
  return { failed: c.failed, refused: c.refused };
}
