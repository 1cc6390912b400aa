import type { FastifyInstance } from 'fastify';
import { forbidden, parseOr400 } from './http-errors.ts';
import { mayAct } from '../auth/authenticator.ts';
import type { ApiContext } from './context.ts';
import { deadLetterQuerySchema, type DeadLetterList } from './schemas.ts';
import { callerOf } from './server.ts';
import { readablePark } from './routes-parks.ts';

export function registerPackRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/rule-pack', () => ctx.pack);

  app.get('/api/dead-letters', (req): DeadLetterList => {
    const caller = callerOf(req);
    // Raw payloads can carry a tenant's data: operators and admins only.
    if (!mayAct(caller)) throw forbidden(`${caller.name} is a viewer; dead letters need the operator or admin role`);
    const q = parseOr400(deadLetterQuerySchema, req.query, 'query');
    if (q.park !== undefined) readablePark(ctx, req, q.park);
    const parks = q.park !== undefined ? new Set([q.park]) : caller.parks ?? undefined;
    // Letters refused before a park was known are shown only to callers who see every park.
    return { deadLetters: ctx.models.deadLetters.list(q.limit, parks, caller.parks === null && q.park === undefined), byReason: ctx.models.deadLetters.byReason() };
  });
}
