/**
 * The park's regulatory submissions (SPARING, SISPEK) as the reporting service
 * last recorded them: state, attempts, last error, receipt and completeness.
 * Any caller of the park may read them; the body sent is left out (the
 * compliance pack's CSV is the auditor's copy).
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.ts';
import { HttpError, parseOr400 } from './http-errors.ts';
import { readablePark } from './routes-parks.ts';
import { submissionsQuerySchema, type SubmissionList, type SubmissionView } from './schemas.ts';

export function registerSubmissionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { park: string } }>('/api/parks/:park/submissions', (req): SubmissionList => {
    const park = readablePark(ctx, req, req.params.park);
    const q = parseOr400(submissionsQuerySchema, req.query, 'query');
    if (q.from !== undefined && q.to !== undefined && q.from >= q.to) {
      throw new HttpError(400, 'invalid-request', 'query.from must be before query.to', [{ path: 'query.from', message: 'must be before to' }]);
    }
    const log = ctx.models.submissions;
    const { submissions, total } = log.list({ park: park.id, kinds: q.kind, states: q.state, station: q.station, from: q.from, to: q.to }, q.limit);
    return {
      submissions: submissions.map(({ body: _body, ...view }): SubmissionView => view),
      total, byState: log.stateCounts(park.id), unreadable: log.unreadable, dropped: log.dropped, keptPerStation: log.perStation,
    };
  });
}
