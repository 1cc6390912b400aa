/**
 * The auditor's compliance pack of a park or one tenant for a month: a PDF
 * report with charts, or the tables as CSV files in a zip. Operators and
 * admins only: it lists who handled every alert and the receivers' receipts.
 */
import type { FastifyInstance } from 'fastify';
import { buildCompliancePack } from '../compliance/compliance-pack.ts';
import { zipTables } from '../compliance/pack-csv.ts';
import { monthOf } from '../compliance/pack-period.ts';
import { renderPackPdf } from '../compliance/pack-pdf.ts';
import { loadPackInput } from '../compliance/pack-sources.ts';
import { packTables } from '../compliance/pack-tables.ts';
import type { ApiContext } from './context.ts';
import { notFound, parseOr400 } from './http-errors.ts';
import { readablePark } from './routes-parks.ts';
import { compliancePackQuerySchema } from './schemas.ts';
import { callerOf } from './server.ts';

export function registerComplianceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { park: string } }>('/api/parks/:park/compliance-pack', { config: { access: 'operator' } }, async (req, reply) => {
    const park = readablePark(ctx, req, req.params.park);
    const q = parseOr400(compliancePackQuerySchema, req.query, 'query');
    const tenant = q.tenant === undefined ? undefined : park.tenants.find((t) => t.id === q.tenant);
    if (q.tenant !== undefined && !tenant) throw notFound(`no tenant ${q.tenant} in park ${park.id}`);
    const month = q.month ?? monthOf(ctx.now(), park.timezone);
    const { input, unreadableSubmissions } = await loadPackInput({ store: ctx.store, bus: ctx.bus, board: ctx.models.alerts, now: ctx.now }, { park, tenant, month, minCompleteness: q.minCompleteness });
    if (unreadableSubmissions > 0) ctx.logger.warn({ unreadable: unreadableSubmissions }, 'compliance pack: skipped submission records that are not the contract\'s');
    const pack = buildCompliancePack(input);
    ctx.logger.info({ user: callerOf(req).name, park: park.id, tenant: tenant?.id, month, format: q.format }, 'compliance pack served');
    const name = `compliance-pack-${park.id}${tenant ? `-${tenant.id}` : ''}-${month}`;
    if (q.format === 'zip') {
      return reply.type('application/zip').header('content-disposition', `attachment; filename="${name}.zip"`).send(Buffer.from(zipTables(packTables(pack), pack.generatedAt)));
    }
    return reply.type('application/pdf').header('content-disposition', `attachment; filename="${name}.pdf"`).send(await renderPackPdf(pack));
  });
}
