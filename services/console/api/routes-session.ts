import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.ts';
import { HttpError } from './http-errors.ts';
import { parseOr400 } from './http-errors.ts';
import { signInRequestSchema, type Me } from './schemas.ts';
import { callerOf } from './server.ts';
import type { Caller } from '../auth/authenticator.ts';

export const sessionCookie = 'eip_session';

export const meOf = (c: Caller): Me => ({ name: c.name, role: c.role, parks: c.parkList, via: c.via });

export function registerSessionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/api/session', async (req, reply) => {
    const body = parseOr400(signInRequestSchema, req.body, 'body');
    const result = await ctx.auth.signIn(body.username, body.password);
    if (!result.ok) {
      // Logged without the password, and without saying which half was wrong.
      ctx.logger.warn({ user: body.username, reason: result.reason }, 'sign-in refused');
      if (result.reason === 'locked') throw new HttpError(429, 'too-many-attempts', 'too many failed sign-ins for this user; wait five minutes');
      throw new HttpError(401, 'unauthorized', 'wrong user name or password');
    }
    ctx.logger.info({ user: result.caller.name, role: result.caller.role }, 'signed in');
    void reply.setCookie(sessionCookie, result.session, {
      httpOnly: true, sameSite: 'strict', path: '/', secure: ctx.secureCookies, maxAge: Math.floor(ctx.sessionTtlMs / 1000),
    });
    return meOf(result.caller);
  });

  app.delete('/api/session', async (req, reply) => {
    void reply.clearCookie(sessionCookie, { path: '/' });
    ctx.logger.info({ user: callerOf(req).name }, 'signed out');
    return reply.code(204).send();
  });

  app.get('/api/me', (req) => meOf(callerOf(req)));
}
