/**
 * The console's HTTP server: the JSON API under /api, the live alert stream,
 * the OpenAPI document and the web UI. Every body is checked against the
 * schemas in schemas.ts; every /api route but sign-in and the OpenAPI document
 * needs a caller (session cookie or API token).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import { EipError } from '../../../shared/errors.ts';
import type { Caller } from '../auth/authenticator.ts';
import type { ApiContext } from './context.ts';
import { HttpError, unauthorized } from './http-errors.ts';
import { registerSessionRoutes, sessionCookie } from './routes-session.ts';
import { registerParkRoutes } from './routes-parks.ts';
import { registerAlertRoutes } from './routes-alerts.ts';
import { registerStreamRoute } from './routes-stream.ts';
import { registerPackRoutes } from './routes-pack.ts';
import { openApiDocument } from './openapi.ts';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

const publicApi = new Set(['POST /api/session', 'GET /api/openapi.json']);

export async function createConsoleServer(ctx: ApiContext): Promise<FastifyInstance> {
  // pino's Logger is a FastifyBaseLogger; naming the type keeps Fastify's generics at their defaults.
  const loggerInstance: FastifyBaseLogger = ctx.logger;
  const app: FastifyInstance = Fastify({ loggerInstance, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 64 * 1024, trustProxy: false });
  await app.register(cookie);
  app.decorateRequest('caller', null);

  app.addHook('onRequest', (req, _reply, done) => {
    const url = req.url.split('?')[0]!;
    if (url.startsWith('/api/')) {
      req.caller = ctx.auth.fromBearer(req.headers.authorization) ?? ctx.auth.fromSession(req.cookies[sessionCookie]) ?? null;
      if (!req.caller && !publicApi.has(`${req.method} ${url}`)) return done(unauthorized());
    }
    done();
  });
  // One line per API call, with who made it; never headers or bodies (they carry secrets).
  app.addHook('onResponse', (req, reply, done) => {
    if (req.url.startsWith('/api/') && !req.url.startsWith('/api/alerts/stream')) {
      ctx.logger.info({ method: req.method, path: req.routeOptions.url ?? req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime), user: req.caller?.name }, 'api');
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
  const doc = openApiDocument();
  app.get('/api/openapi.json', () => doc);

  if (ctx.ui) {
    for (const [path, file] of ctx.ui) {
      // Assets carry no hash in their names: revalidate rather than cache for long.
      app.get(path, (_req, reply) => reply.type(file.contentType).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(file.body));
    }
  }
  return app;
}

/** The caller of an authenticated route (the onRequest hook guarantees one). */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw unauthorized();
  return req.caller;
}
