/**
 * GET /api/alerts/stream: Server-Sent Events. On connect, every open alert the
 * caller may see ("alert" events), then "ready"; afterwards each change as it
 * happens. A client that reconnects gets the snapshot again, so nothing is
 * missed across a dropped connection. A client too slow to keep up is
 * disconnected rather than buffered without bound; it reconnects to a fresh
 * snapshot.
 */
import type { FastifyInstance } from 'fastify';
import { mayRead } from '../auth/authenticator.ts';
import type { ApiContext } from './context.ts';
import { readablePark } from './routes-parks.ts';
import type { AlertView } from './schemas.ts';
import { callerOf } from './server.ts';
import { openStates } from '../read-model/alert-board.ts';

const maxBufferedBytes = 1 << 20;

export function registerStreamRoute(app: FastifyInstance, ctx: ApiContext): void {
  let clients = 0;
  app.get<{ Querystring: { park?: string } }>('/api/alerts/stream', async (req, reply) => {
    const caller = callerOf(req);
    const park = req.query.park;
    if (park !== undefined) readablePark(ctx, req, park);
    const visible = (v: AlertView): boolean => (park === undefined || v.park === park) && mayRead(caller, v.park);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Reverse proxies (nginx) must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    let open = true;
    const write = (chunk: string): void => {
      if (!open) return;
      res.write(chunk);
      if (res.writableLength > maxBufferedBytes) {
        ctx.logger.warn({ user: caller.name, buffered: res.writableLength }, 'alert stream client too slow; disconnecting it');
        res.destroy();
      }
    };
    const sendAlert = (v: AlertView): void => {
      if (visible(v)) write(`event: alert\nid: ${v.fingerprint}:${v.transition}\ndata: ${JSON.stringify(v)}\n\n`);
    };
    write('retry: 3000\n\n');
    // Subscribe before the snapshot: a change between the two is sent twice, never lost (clients keep the highest transition).
    const unsubscribe = ctx.onAlert(sendAlert);
    const snapshot = ctx.models.alerts.list({ states: openStates, ...(park !== undefined && { parks: new Set([park]) }) });
    for (const v of snapshot.alerts) sendAlert(v);
    write(`event: ready\ndata: ${JSON.stringify({ alerts: snapshot.alerts.filter(visible).length })}\n\n`);
    const heartbeat = setInterval(() => write(`: ping ${ctx.now()}\n\n`), ctx.heartbeatMs);
    clients += 1;
    ctx.logger.info({ user: caller.name, park, clients }, 'alert stream opened');
    res.on('close', () => {
      open = false;
      clearInterval(heartbeat);
      unsubscribe();
      clients -= 1;
      ctx.logger.info({ user: caller.name, clients }, 'alert stream closed');
    });
  });
}
