import type { FastifyInstance } from 'fastify';
import { parseOr400 } from './http-errors.ts';
import type { ApiContext } from './context.ts';
import { deadLetterQuerySchema, type DeadLetterList } from './schemas.ts';
import { callerOf } from './server.ts';
import { readablePark } from './routes-parks.ts';
import { packFor } from '../rule-pack-view.ts';

export function registerPackRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Rules and overrides that name only other parks (their permits, their tenants) are not the caller's to read.
  app.get('/api/rule-pack', (req) => packFor(ctx.pack, callerOf(req).parks, ctx.registry));

  // Raw payloads can carry a tenant's data: operators and admins only.
  app.get('/api/dead-letters', { config: { access: 'operator' } }, (req): DeadLetterList => {
    const caller = callerOf(req);
    const q = parseOr400(deadLetterQuerySchema, req.query, 'query');
    if (q.park !== undefined) readablePark(ctx, req, q.park);
    const parks = q.park !== undefined ? new Set([q.park]) : caller.parks ?? undefined;
    // Letters refused before a park was known are shown (and counted) only to callers who see every park.
    const includeUnknown = caller.parks === null && q.park === undefined;
    return { deadLetters: ctx.models.deadLetters.list(q.limit, parks, includeUnknown), byReason: ctx.models.deadLetters.byReason(parks, includeUnknown) };
  });
}
