/**
 * The console's HTTP server: the JSON API under /api, the live alert stream,
 * the OpenAPI document and the web UI. Every body is checked against the
 * schemas in schemas.ts. Who may call a route is a property of the route
 * (`config.access`), decided on the route the router matched, never on the raw
 * URL: a route that says nothing needs a caller, so every /api route is closed
 * unless it says `public`. Every response carries the security headers
 * (security-headers.ts).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import { EipError } from '../../../shared/errors.ts';
import type { Caller } from '../auth/authenticator.ts';
import type { Role } from './schemas.ts';
import type { ApiContext } from './context.ts';
import { forbidden, HttpError, unauthorized } from './http-errors.ts';
import { securityHeaders } from './security-headers.ts';
import { registerSessionRoutes, sessionCookie } from './routes-session.ts';
import { registerParkRoutes } from './routes-parks.ts';
import { registerAlertRoutes } from './routes-alerts.ts';
import { registerStreamRoute } from './routes-stream.ts';
import { registerPackRoutes } from './routes-pack.ts';
import { registerUserRoutes } from './routes-users.ts';
import { registerComplianceRoutes } from './routes-compliance.ts';
import { registerSubmissionRoutes } from './routes-submissions.ts';
import { openApiDocument } from './openapi.ts';

/** `public`: anyone; a role: a caller with that role or a higher one. */
export type Access = 'public' | Role;

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyInstance {
    /** Every route served, as "METHOD /url" (the OpenAPI test checks each is documented). */
    servedRoutes: readonly string[];
  }
  interface FastifyContextConfig {
    /** Unset: any caller (the viewer role). */
    access?: Access;
  }
}

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const needs: Record<Role, string> = { viewer: 'a caller', operator: 'the operator or admin role', admin: 'the admin role' };

export async function createConsoleServer(ctx: ApiContext): Promise<FastifyInstance> {
  // pino's Logger is a FastifyBaseLogger; naming the type keeps Fastify's generics at their defaults.
  const loggerInstance: FastifyBaseLogger = ctx.logger;
  const app: FastifyInstance = Fastify({
    loggerInstance, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 64 * 1024,
    // The client address limits sign-in: behind a reverse proxy, name the proxies whose X-Forwarded-For is believed.
    trustProxy: ctx.trustProxy && ctx.trustProxy.length > 0 ? ctx.trustProxy : false,
  });
  await app.register(cookie);
  app.decorateRequest('caller', null);
  const served: string[] = [];
  app.decorate('servedRoutes', served);
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') served.push(`${m} ${r.url}`);
  });

  app.addHook('onRequest', (req, _reply, done) => {
    // The not-found handler serves the UI or a 404; every matched route states its own access.
    const access: Access = req.is404 ? 'public' : req.routeOptions.config.access ?? 'viewer';
    req.caller = ctx.auth.fromBearer(req.headers.authorization) ?? ctx.auth.fromSession(req.cookies[sessionCookie]) ?? null;
    if (access === 'public') return done();
    if (!req.caller) return done(unauthorized());
    if (rank[req.caller.role] < rank[access]) return done(forbidden(`${req.caller.name} is a ${req.caller.role}; this needs ${needs[access]}`));
    done();
  });
  app.addHook('onSend', (req, reply, payload, done) => {
    for (const [name, value] of Object.entries(securityHeaders(req, ctx.secureCookies))) void reply.header(name, value);
    // Answers about alerts and parks are the caller's alone: no shared or browser cache keeps them.
    if (req.routeOptions.url?.startsWith('/api/') && !reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  // One line per API call, with who made it; never headers or bodies (they carry secrets).
  app.addHook('onResponse', (req, reply, done) => {
    // By the matched route, so /%61pi/... is logged as the /api call it is.
    const path = req.routeOptions.url ?? req.url.split('?')[0]!;
    if (path.startsWith('/api/') && path !== '/api/alerts/stream') {
      ctx.logger.info({ method: req.method, path, status: reply.statusCode, ms: Math.round(reply.elapsedTime), user: req.caller?.name }, 'api');
    }
    done();
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) return reply.code(err.status).send(err.body());
    const status = typeof err === 'object' && err !== null && 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own refusals: unparsable JSON, body too large, wrong content type.
      return reply.code(status).send({ error: status === 413 ? 'too-large' : 'invalid-request', message: err instanceof Error ? err.message : 'bad request' });
    }
    if (err instanceof EipError && err.retriable) {
      ctx.logger.warn({ err, path: req.url.split('?')[0] }, 'dependency unavailable');
      return reply.code(503).send({ error: 'unavailable', message: `${err.message}; try again shortly` });
    }
    ctx.logger.error({ err, path: req.url.split('?')[0] }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error; see the console log' });
  });
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/')) return reply.code(404).send({ error: 'not-found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
    // Unknown paths outside the API get the UI (it routes by hash), or a plain 404 without one.
    const index = ctx.ui?.get('/');
    if (req.method === 'GET' && index) return reply.type(index.contentType).header('cache-control', 'no-cache').send(index.body);
    return reply.code(404).send({ error: 'not-found', message: 'no such page' });
  });

  registerSessionRoutes(app, ctx);
  registerParkRoutes(app, ctx);
  registerAlertRoutes(app, ctx);
  registerStreamRoute(app, ctx);
  registerPackRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerComplianceRoutes(app, ctx);
  registerSubmissionRoutes(app, ctx);
  const doc = openApiDocument();
  app.get('/api/openapi.json', { config: { access: 'public' } }, () => doc);

  if (ctx.ui) {
    for (const [path, file] of ctx.ui) {
      // Assets carry no hash in their names: revalidate rather than cache for long.
      app.get(path, { config: { access: 'public' } }, (_req, reply) => reply.type(file.contentType).header('cache-control', 'no-cache').send(file.body));
    }
  }
  return app;
}

/** The caller of an authenticated route (the onRequest hook guarantees one). */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw unauthorized();
  return req.caller;
}
