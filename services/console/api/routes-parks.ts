import type { FastifyInstance, FastifyRequest } from 'fastify';
import { metricCatalogue, isMetricName } from '../../../shared/contracts/metric-catalogue.ts';
import { limitInForce, type Park } from '../../../shared/contracts/park-registry.ts';
import { mayRead } from '../auth/authenticator.ts';
import { parkSummary, parkView } from '../park-views.ts';
import { parkTotals } from '../month-totals.ts';
import type { ApiContext } from './context.ts';
import { forbidden, HttpError, notFound, parseOr400 } from './http-errors.ts';
import { qualityMaxRangeMs, seriesQuerySchema, tenantQualityQuerySchema, type Series, type TenantQuality, type WindowPoint } from './schemas.ts';
import { callerOf } from './server.ts';
import { tenantQuality } from './tenant-quality.ts';
import { windowPointOf } from './window-points.ts';

const fromBeforeTo = (q: { from: number; to: number }): void => {
  if (q.from >= q.to) throw new HttpError(400, 'invalid-request', 'query.from must be before query.to', [{ path: 'query.from', message: 'must be before to' }]);
};

/** The park named in the path, if the caller may read it: 403 outside their parks, 404 if there is none. */
export function readablePark(ctx: ApiContext, req: FastifyRequest, parkId: string): Park {
  const caller = callerOf(req);
  if (!mayRead(caller, parkId)) throw forbidden(`${caller.name} has no access to park ${parkId}`);
  const park = ctx.registry.park(parkId);
  if (!park) throw notFound(`no park ${parkId}`);
  return park;
}

export function registerParkRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/parks', (req) => {
    const caller = callerOf(req);
    const parks = ctx.registry.registry.parks.filter((p) => mayRead(caller, p.id));
    return { parks: parks.map((p) => parkSummary(ctx.models, ctx.deadmanRules, p, ctx.now())) };
  });

  app.get<{ Params: { park: string } }>('/api/parks/:park', (req) => parkView(ctx.models, ctx.deadmanRules, readablePark(ctx, req, req.params.park), ctx.now()));

  app.get<{ Params: { park: string } }>('/api/parks/:park/totals', async (req) => parkTotals(ctx.store, readablePark(ctx, req, req.params.park), ctx.now()));

  app.get<{ Params: { park: string } }>('/api/parks/:park/series', async (req): Promise<Series> => {
    const park = readablePark(ctx, req, req.params.park);
    const q = parseOr400(seriesQuerySchema, req.query, 'query');
    if (!isMetricName(q.metric)) throw new HttpError(400, 'invalid-request', `query.metric: unknown metric "${q.metric}"`, [{ path: 'query.metric', message: 'unknown metric' }]);
    fromBeforeTo(q);
    const tenant = q.tenant === undefined ? undefined : park.tenants.find((t) => t.id === q.tenant);
    if (q.tenant !== undefined && !tenant) throw notFound(`no tenant ${q.tenant} in park ${park.id}`);
    const meter = q.meter === undefined ? undefined : park.tenants.flatMap((t) => t.meters.map((m) => ({ t, m }))).find((x) => x.m.id === q.meter);
    if (q.meter !== undefined && !meter) throw notFound(`no meter ${q.meter} in park ${park.id}`);
    if (meter && tenant && meter.t.id !== tenant.id) throw notFound(`meter ${q.meter} is not tenant ${q.tenant}'s`);
    const tenantId = meter?.t.id ?? tenant?.id;
    const meterId = meter?.m.id;
    const scope = { park: park.id, ...(tenantId !== undefined && { tenant: tenantId }), ...(meterId !== undefined && { meter: meterId }) };
    const aggregateScope = meter ? 'meter' : tenant ? 'tenant' : 'park';
    // A dated permit: the version in force at the end of the range shown.
    const limit = meter ? limitInForce(park, meter.m, q.metric, Math.min(q.to - 1, ctx.now()))?.value : undefined;
    const base = { ...scope, scope: aggregateScope, metric: q.metric, unit: metricCatalogue[q.metric].unit } as const;
    const limits = { ...(limit?.min !== undefined && { min: limit.min }), ...(limit?.max !== undefined && { max: limit.max }) };
    if (q.source === 'raw') {
      // Raw readings of several meters side by side would be one jagged line: ask per meter.
      if (!meter) throw new HttpError(400, 'invalid-request', 'query.meter is required for source=raw (use source=window for tenant and park series)', [{ path: 'query.meter', message: 'required for source=raw' }]);
      const points = await ctx.store.queryReadings({ scope, metric: q.metric, from: q.from, to: q.to, limit: q.limit + 1 });
      const truncated = points.length > q.limit;
      return { ...base, source: 'raw', points: points.slice(0, q.limit).map((p) => [p.ts, p.value]), limits, truncated };
    }
    const windows = await ctx.store.queryStoredAggregates({ scope, aggregateScope, metric: q.metric, window: q.window, from: q.from, to: q.to });
    const points: Array<[number, number]> = [];
    const details: WindowPoint[] = [];
    for (const w of windows) {
      const v = w[q.field];
      if (typeof v !== 'number') continue;
      points.push([w.start, v]);
      details.push(windowPointOf(w, v, q.minCompleteness));
    }
    const truncated = points.length > q.limit;
    return { ...base, source: 'window', window: q.window, points: points.slice(-q.limit), windows: details.slice(-q.limit), minCompleteness: q.minCompleteness, limits, truncated };
  });

  app.get<{ Params: { park: string; tenant: string } }>('/api/parks/:park/tenants/:tenant/quality', async (req): Promise<TenantQuality> => {
    const park = readablePark(ctx, req, req.params.park);
    const q = parseOr400(tenantQualityQuerySchema, req.query, 'query');
    fromBeforeTo(q);
    if (q.to - q.from > qualityMaxRangeMs) throw new HttpError(400, 'invalid-request', `query.to: at most ${qualityMaxRangeMs / 86_400_000} days after query.from`, [{ path: 'query.to', message: `at most ${qualityMaxRangeMs / 86_400_000} days after from` }]);
    const tenant = park.tenants.find((t) => t.id === req.params.tenant);
    if (!tenant) throw notFound(`no tenant ${req.params.tenant} in park ${park.id}`);
    return tenantQuality(ctx.store, park, tenant, { from: q.from, to: q.to, now: ctx.now(), minCompleteness: q.minCompleteness, limit: q.limit });
  });
}
