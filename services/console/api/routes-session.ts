import type { FastifyInstance, FastifyReply } from 'fastify';
import { topics } from '../../../shared/contracts/kafka-topics.ts';
import type { ApiContext } from './context.ts';
import { HttpError, parseOr400 } from './http-errors.ts';
import { signInRequestSchema, type Me } from './schemas.ts';
import { callerOf } from './server.ts';
import type { Caller } from '../auth/authenticator.ts';
import type { SessionEvent } from '../auth/session-revocations.ts';

export const sessionCookie = 'eip_session';

export const meOf = (c: Caller): Me => ({ name: c.name, role: c.role, parks: c.parkList, via: c.via });

/** Sends a session's end to every console instance, then applies it here: a failure leaves nothing half-ended. */
export async function endSessions(ctx: ApiContext, e: SessionEvent): Promise<void> {
  await ctx.bus.publish([{ topic: topics.consoleSessions.name, key: e.user, value: JSON.stringify(e) }]);
  ctx.auth.applySessionEvent(e);
}

const retryAfter = (reply: FastifyReply, ms: number): void => void reply.header('retry-after', String(Math.max(1, Math.ceil(ms / 1000))));

export function registerSessionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/api/session', { config: { access: 'public' } }, async (req, reply) => {
    const body = parseOr400(signInRequestSchema, req.body, 'body');
    const result = await ctx.auth.signIn(body.username, body.password, req.ip);
    if (!result.ok) {
      // Logged without the password, and without saying which half was wrong.
      ctx.logger.warn({ user: body.username, address: req.ip, reason: result.reason, ...(result.reason === 'limited' && { scope: result.scope }) }, 'sign-in refused');
      if (result.reason === 'limited') {
        retryAfter(reply, result.retryAfterMs);
        throw new HttpError(429, 'too-many-attempts', `too many failed sign-ins; try again in ${Math.ceil(result.retryAfterMs / 1000)} s`);
      }
      if (result.reason === 'busy') {
        retryAfter(reply, 1000);
        throw new HttpError(503, 'unavailable', 'too many sign-ins at once; try again shortly');
      }
      throw new HttpError(401, 'unauthorized', 'wrong user name or password');
    }
    ctx.logger.info({ user: result.caller.name, role: result.caller.role, address: req.ip }, 'signed in');
    if (result.rehash) ctx.logger.warn({ user: result.caller.name }, 'password hash below the current scrypt cost; make a new one with `npm run console:hash` and replace it in the users file');
    void reply.setCookie(sessionCookie, result.session, {
      httpOnly: true, sameSite: 'strict', path: '/', secure: ctx.secureCookies, maxAge: Math.floor(ctx.sessionTtlMs / 1000),
    });
    return meOf(result.caller);
  });

  app.delete('/api/session', async (req, reply) => {
    const caller = callerOf(req);
    // Token callers have no session: a token ends when it leaves the users file.
    const ended = ctx.auth.signOut(caller);
    if (ended) await endSessions(ctx, ended);
    void reply.clearCookie(sessionCookie, { path: '/' });
    ctx.logger.info({ user: caller.name }, 'signed out');
    return reply.code(204).send();
  });

  app.get('/api/me', (req) => meOf(callerOf(req)));
}
