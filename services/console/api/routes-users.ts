/** Admins end another user's sessions everywhere (a lost laptop, a leaver) without waiting for the users file. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.ts';
import { notFound } from './http-errors.ts';
import { endSessions } from './routes-session.ts';
import type { SessionsRevoked } from './schemas.ts';
import { callerOf } from './server.ts';

export function registerUserRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { name: string } }>('/api/users/:name/sessions', { config: { access: 'admin' } }, async (req): Promise<SessionsRevoked> => {
    const admin = callerOf(req);
    const target = ctx.auth.user(req.params.name);
    // An admin of some parks reaches only users within them; others read as absent.
    const within = target !== undefined && (admin.parks === null || (target.parks !== null && [...target.parks].every((p) => admin.parks!.has(p))));
    if (!target || !within) throw notFound(`no user ${req.params.name}`);
    const e = ctx.auth.revokeUser(target.name, admin.name);
    await endSessions(ctx, e);
    ctx.logger.info({ user: admin.name, revoked: target.name }, 'sessions revoked');
    return { user: target.name, revokedUntil: e.at };
  });
}
