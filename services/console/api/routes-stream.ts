/**
 * GET /api/alerts/stream: Server-Sent Events. On connect, every open alert the
 * caller may see ("alert" events), then "ready"; afterwards each change as it
 * happens. A client that reconnects gets the snapshot again, so nothing is
 * missed across a dropped connection. A client too slow to keep up is
 * disconnected rather than buffered without bound; it reconnects to a fresh
 * snapshot.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { mayRead } from '../auth/authenticator.ts';
import type { ApiContext } from './context.ts';
import { readablePark } from './routes-parks.ts';
import type { AlertView } from './schemas.ts';
import { callerOf } from './server.ts';
import { openStates } from '../read-model/alert-board.ts';
import { securityHeaders } from './security-headers.ts';

const maxBufferedBytes = 1 << 20;

export function registerStreamRoute(app: FastifyInstance, ctx: ApiContext): void {
  let clients = 0;
  const open = new Set<ServerResponse>();
  // Taken-over responses are not Fastify's to close: end them, or close() waits on every live client.
  app.addHook('preClose', (done) => {
    for (const res of open) res.end();
    done();
  });
  app.get<{ Querystring: { park?: string } }>('/api/alerts/stream', async (req, reply) => {
    const caller = callerOf(req);
    const park = req.query.park;
    if (park !== undefined) readablePark(ctx, req, park);
    const visible = (v: AlertView): boolean => (park === undefined || v.park === park) && mayRead(caller, v.park);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      // Hijacked: the onSend hook never sees this response.
      ...securityHeaders(req, ctx.secureCookies),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      // Reverse proxies (nginx) must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    let isOpen = true;
    open.add(res);
    // Until the snapshot is out, live changes wait here; afterwards a client that
    // lets more than maxBufferedBytes pile up is too slow and is disconnected.
    let pending: AlertView[] | null = [];
    const write = (chunk: string): void => {
      if (!isOpen) return;
      res.write(chunk);
      if (pending === null && res.writableLength > maxBufferedBytes) {
        ctx.logger.warn({ user: caller.name, buffered: res.writableLength }, 'alert stream client too slow; disconnecting it');
        res.destroy();
      }
    };
    const frame = (v: AlertView): string => `event: alert\nid: ${v.fingerprint}:${v.transition}\ndata: ${JSON.stringify(v)}\n\n`;
    const sendAlert = (v: AlertView): void => {
      if (!visible(v)) return;
      if (pending) pending.push(v);
      else write(frame(v));
    };
    let heartbeat: NodeJS.Timeout | undefined = undefined;
    // Subscribe before the snapshot: a change between the two is sent twice, never lost (clients keep the highest transition).
    const unsubscribe = ctx.onAlert(sendAlert);
    clients += 1;
    res.on('close', () => {
      isOpen = false;
      open.delete(res);
      clearInterval(heartbeat);
      unsubscribe();
      clients -= 1;
      ctx.logger.info({ user: caller.name, clients }, 'alert stream closed');
    });
    write('retry: 3000\n\n');
    const snapshot = ctx.models.alerts.list({ states: openStates, ...(park !== undefined && { parks: new Set([park]) }) }).alerts.filter(visible);
    // A large board is more than a socket buffer: write it at the client's pace.
    for (const v of snapshot) {
      if (!isOpen) break;
      if (!res.write(frame(v))) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
    }
    const queued: AlertView[] = pending;
    pending = null;
    for (const v of queued) write(frame(v));
    write(`event: ready\ndata: ${JSON.stringify({ alerts: snapshot.length })}\n\n`);
    if (!isOpen) return;
    // An event, not a comment: EventSource hides comments, and the UI watches pings to spot a half-open connection.
    heartbeat = setInterval(() => write(`event: ping\ndata: ${ctx.now()}\n\n`), ctx.heartbeatMs);
    ctx.logger.info({ user: caller.name, park, clients, snapshot: snapshot.length }, 'alert stream opened');
  });
}
