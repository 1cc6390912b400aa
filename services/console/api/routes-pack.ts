import type { FastifyInstance } from 'fastify';
import { forbidden } from './http-errors.ts';
import { mayAct } from '../auth/authenticator.ts';
import type { ApiContext } from './context.ts';
import type { DeadLetterList } from './schemas.ts';
import { callerOf } from './server.ts';
import { readablePark } from './routes-parks.ts';

export function registerPackRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/rule-pack', () => ctx.pack);

  app.get<{ Querystring: { park?: string; limit?: string } }>('/api/dead-letters', (req): DeadLetterList => {
    const caller = callerOf(req);
    // Raw payloads can carry a tenant's data: operators and admins only.
    if (!mayAct(caller)) throw forbidden(`${caller.name} is a viewer; dead letters need the operator or admin role`);
    if (req.query.park !== undefined) readablePark(ctx, req, req.query.park);
    const limit = Math.min(Math.max(Number(req.query.limit ?? 200) || 200, 1), 5_000);
    const parks = req.query.park !== undefined ? new Set([req.query.park]) : caller.parks ?? undefined;
    // Letters refused before a park was known are shown only to callers who see every park.
    return { deadLetters: ctx.models.deadLetters.list(limit, parks, caller.parks === null && req.query.park === undefined), byReason: ctx.models.deadLetters.byReason() };
  });
}
