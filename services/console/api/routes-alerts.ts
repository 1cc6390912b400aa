/**
 * Alerts: the board, one alert's detail, and the operators' commands. Commands
 * go to eip.alert-commands.v1 and are answered 202: the rules service is the
 * only writer of alert state, and its transition comes back on the stream.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { topics } from '../../../shared/contracts/kafka-topics.ts';
import { alertCommandSchema, type AlertCommand } from '../../../shared/contracts/events.ts';
import { mayRead } from '../auth/authenticator.ts';
import type { ApiContext } from './context.ts';
import { notFound, parseOr400 } from './http-errors.ts';
import { alertActionRequestSchema, alertQuerySchema, silenceRequestSchema, type AlertDetail, type AlertList, type CommandAccepted } from './schemas.ts';
import { callerOf } from './server.ts';
import { readablePark } from './routes-parks.ts';
import { eventsOfPoints, foldHistory, storedAlertLookbackMs } from '../alert-history.ts';
import { byRank } from '../read-model/alert-board.ts';

/** Acknowledging, resolving and silencing: operators and admins (checked by the server on the matched route). */
const act = { config: { access: 'operator' } } as const;

export function registerAlertRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const send = async (command: AlertCommand, key: string): Promise<void> => {
    // The same schema the rules service reads with: a command it would refuse is never sent.
    alertCommandSchema.parse(command);
    await ctx.bus.publish([{ topic: topics.alertCommands.name, key, value: JSON.stringify(command) }]);
  };

  /** The parks of the registry the caller may read (a park by name when given). */
  const readableParks = (req: FastifyRequest, park?: string): string[] => (park !== undefined ? [park] : ctx.registry.registry.parks.map((p) => p.id).filter((id) => mayRead(callerOf(req), id)));

  app.get('/api/alerts', async (req): Promise<AlertList> => {
    const caller = callerOf(req);
    const q = parseOr400(alertQuerySchema, req.query, 'query');
    if (q.park !== undefined) readablePark(ctx, req, q.park);
    const parks = q.park !== undefined ? new Set([q.park]) : caller.parks ?? undefined;
    const filter = { parks, tenant: q.tenant, meter: q.meter, severities: q.severity, states: q.state, from: q.from, to: q.to };
    const held = ctx.models.alerts.list(filter, q.limit);
    // Older than the alerts topic keeps: the read model may not hold them; the store does.
    const oldest = ctx.now() - topics.alerts.retentionMs;
    if (q.from === undefined || q.from >= oldest) return held;
    const to = q.to ?? ctx.now() + 1;
    const points = (await Promise.all(readableParks(req, q.park).map((park) => ctx.store.queryAlertEvents({ scope: { park, ...(q.tenant !== undefined && { tenant: q.tenant }), ...(q.meter !== undefined && { meter: q.meter }) }, from: q.from!, to })))).flat();
    const stored = foldHistory(eventsOfPoints(points), 1).list(filter).alerts.filter((v) => !ctx.models.alerts.get(v.fingerprint));
    const all = ctx.models.alerts.list(filter).alerts.concat(stored).sort(byRank);
    return { alerts: all.slice(0, q.limit), total: all.length };
  });

  const visibleAlert = (req: FastifyRequest, fingerprint: string) => {
    const found = ctx.models.alerts.get(fingerprint);
    // Someone else's park reads as absent: fingerprints must not reveal other parks' alerts.
    if (!found || !mayRead(callerOf(req), found.view.park)) throw notFound(`no alert ${fingerprint}`);
    return found;
  };

  app.get<{ Params: { fingerprint: string } }>('/api/alerts/:fingerprint', async (req): Promise<AlertDetail> => {
    const held = ctx.models.alerts.get(req.params.fingerprint);
    if (held) {
      const found = visibleAlert(req, req.params.fingerprint);
      return { ...found.view, history: [...found.history] };
    }
    // Not in the read model (older than the topic keeps): the store's history, within the caller's parks only.
    const now = ctx.now();
    const points = (await Promise.all(readableParks(req).map((park) => ctx.store.queryAlertEvents({ scope: { park }, from: Math.max(0, now - storedAlertLookbackMs), to: now + 1 }))))
      .flat().filter((p) => p.fingerprint === req.params.fingerprint);
    const stored = foldHistory(eventsOfPoints(points), Number.MAX_SAFE_INTEGER).get(req.params.fingerprint);
    if (!stored || !mayRead(callerOf(req), stored.view.park)) throw notFound(`no alert ${req.params.fingerprint}`);
    return { ...stored.view, history: [...stored.history] };
  });

  for (const kind of ['acknowledge', 'resolve'] as const) {
    app.post<{ Params: { fingerprint: string } }>(`/api/alerts/:fingerprint/${kind}`, act, async (req, reply) => {
      const caller = callerOf(req);
      const body = parseOr400(alertActionRequestSchema, req.body ?? {}, 'body');
      const found = visibleAlert(req, req.params.fingerprint);
      const commandId = randomUUID();
      await send({ v: 1, kind, commandId, fingerprint: found.view.fingerprint, by: caller.name, at: ctx.now(), ...(body.comment !== undefined && { comment: body.comment }) }, found.view.fingerprint);
      ctx.logger.info({ user: caller.name, kind, fingerprint: found.view.fingerprint, rule: found.view.ruleId, park: found.view.park }, 'alert command sent');
      const accepted: CommandAccepted = { commandId, kind };
      return reply.code(202).send(accepted);
    });
  }

  app.get<{ Querystring: { park?: string } }>('/api/silences', (req) => {
    const caller = callerOf(req);
    if (req.query.park !== undefined) readablePark(ctx, req, req.query.park);
    const parks = req.query.park !== undefined ? new Set([req.query.park]) : caller.parks ?? undefined;
    return { silences: ctx.models.silences.current(ctx.now(), parks) };
  });

  app.post('/api/silences', act, async (req, reply) => {
    const caller = callerOf(req);
    const body = parseOr400(silenceRequestSchema, req.body, 'body');
    readablePark(ctx, req, body.park);
    const now = ctx.now();
    const startsAt = body.startsAt ?? now;
    const silenceId = randomUUID();
    const commandId = randomUUID();
    const matchers = {
      park: body.park,
      ...(body.tenant !== undefined && { tenant: body.tenant }), ...(body.meter !== undefined && { meter: body.meter }),
      ...(body.ruleId !== undefined && { ruleId: body.ruleId }), ...(body.metric !== undefined && { metric: body.metric }),
    };
    await send({
      v: 1, kind: 'silence', commandId, by: caller.name, at: now, silenceId, matchers, startsAt, endsAt: body.endsAt,
      ...(body.recurrence && { recurrence: body.recurrence }), ...(body.comment !== undefined && { comment: body.comment }),
    }, silenceId);
    ctx.logger.info({ user: caller.name, silenceId, matchers, startsAt, endsAt: body.endsAt }, 'silence sent');
    const accepted: CommandAccepted = { commandId, kind: 'silence', silenceId };
    return reply.code(202).send(accepted);
  });

  app.delete<{ Params: { id: string } }>('/api/silences/:id', act, async (req, reply) => {
    const caller = callerOf(req);
    const silence = ctx.models.silences.get(req.params.id);
    if (!silence || !mayRead(caller, silence.park)) throw notFound(`no silence ${req.params.id}`);
    const commandId = randomUUID();
    await send({ v: 1, kind: 'unsilence', commandId, by: caller.name, at: ctx.now(), silenceId: silence.silenceId }, silence.silenceId);
    ctx.logger.info({ user: caller.name, silenceId: silence.silenceId }, 'unsilence sent');
    const accepted: CommandAccepted = { commandId, kind: 'unsilence', silenceId: silence.silenceId };
    return reply.code(202).send(accepted);
  });
}
