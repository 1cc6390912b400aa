/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the server
 * validates with (zod's own JSON Schema output), served at /api/openapi.json.
 */
import { z } from 'zod';
import * as s from './schemas.ts';

type Json = Record<string, unknown>;

const schema = (t: z.ZodType, io: 'input' | 'output' = 'output'): Json => {
  const out = z.toJSONSchema(t, { io, unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
};
const json = (t: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema: schema(t) } } });
const error = (description: string) => json(s.errorBodySchema, description);
const common = { 401: error('no valid session cookie or API token') };
const params = (...names: string[]) => names.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));

/** A query schema's fields as parameters; required where the schema has no default and is not optional (from and to of a series). */
function queryParams(t: z.ZodObject): Json[] {
  const input = schema(t, 'input');
  const props = (input.properties ?? {}) as Record<string, Json>;
  const required = new Set(Array.isArray(input.required) ? input.required : []);
  return Object.entries(props).map(([name, p]) => ({ name, in: 'query', required: required.has(name), schema: p, ...(typeof p.description === 'string' && { description: p.description }) }));
}

export function openApiDocument(): Json {
  const accepted = { 202: json(s.commandAcceptedSchema, 'command accepted; the change arrives as an alert transition'), 403: error('the caller is a viewer, or the alert is outside their parks'), 404: error('no such alert'), ...common };
  return {
    openapi: '3.1.0',
    info: {
      title: 'EIP telemetry console API',
      version: '1',
      description: 'Park operators\' API: alerts and their handling, parks, tenants, meters and their health, series and data quality, totals, the rule pack and dead letters. Authenticate with the session cookie from POST /api/session, or Authorization: Bearer <API token>. Query instants (from, to) are epoch milliseconds or ISO 8601 with Z or an offset.',
    },
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'eip_session' },
        token: { type: 'http', scheme: 'bearer' },
      },
    },
    security: [{ session: [] }, { token: [] }],
    paths: {
      '/api/session': {
        post: { summary: 'sign in; sets the session cookie', security: [], requestBody: { required: true, content: { 'application/json': { schema: schema(s.signInRequestSchema, 'input') } } }, responses: { 200: json(s.meSchema, 'signed in'), 400: error('invalid body'), 401: error('wrong user name or password'), 429: error('too many failed attempts from this address or for this name; Retry-After says when to try again'), 503: error('too many sign-ins at once; Retry-After') } },
        delete: { summary: 'sign out: ends the session on every console instance', responses: { 204: { description: 'signed out' }, ...common } },
      },
      '/api/me': { get: { summary: 'who the caller is', responses: { 200: json(s.meSchema, 'the caller'), ...common } } },
      '/api/parks': { get: { summary: 'parks the caller may see', responses: { 200: json(z.object({ parks: z.array(s.parkSummarySchema) }), 'parks'), ...common } } },
      '/api/parks/{park}': { get: { summary: 'a park with its tenants, meters and their health', parameters: params('park'), responses: { 200: json(s.parkViewSchema, 'the park'), 403: error('outside the caller\'s parks'), 404: error('no such park'), ...common } } },
      '/api/parks/{park}/totals': { get: { summary: 'energy, water and kg CO2e month to date against budget', parameters: params('park'), responses: { 200: json(s.parkTotalsSchema, 'totals'), 403: error('outside the caller\'s parks'), 404: error('no such park'), ...common } } },
      '/api/parks/{park}/series': { get: { summary: 'a metric over a time range: raw readings of a meter, or stored windows of a meter, tenant or park', parameters: [...params('park'), ...queryParams(s.seriesQuerySchema)], responses: { 200: json(s.seriesSchema, 'the series'), 400: error('invalid query: from and to are required, each epoch milliseconds or ISO 8601 with Z or an offset'), 403: error('outside the caller\'s parks'), 404: error('no such park, tenant or meter'), ...common } } },
      '/api/parks/{park}/tenants/{tenant}/quality': { get: { summary: `a tenant's data quality over at most ${s.qualityMaxRangeMs / 86_400_000} days: meter hours below the completeness threshold or with no record, and register events (rollover, reset, swap) by meter`, parameters: [...params('park', 'tenant'), ...queryParams(s.tenantQualityQuerySchema)], responses: { 200: json(s.tenantQualitySchema, 'incomplete hours and register events, newest first'), 400: error('invalid query: from and to are required, each epoch milliseconds or ISO 8601 with Z or an offset'), 403: error('outside the caller\'s parks'), 404: error('no such park or tenant'), ...common } } },
      '/api/parks/{park}/compliance-pack': { get: { summary: 'the auditor\'s compliance pack of the park or one tenant for a month (operator, admin): exceedance hours per parameter against the permit, completeness per stream per day, every alert with its provenance and who handled it, submissions and receipts; a PDF with charts, or one CSV per table zipped', parameters: [...params('park'), ...queryParams(s.compliancePackQuerySchema)], responses: { 200: { description: 'application/pdf or application/zip', content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } }, 'application/zip': { schema: { type: 'string', format: 'binary' } } } }, 400: error('invalid query'), 403: error('the caller is a viewer, or the park is outside their parks'), 404: error('no such park or tenant'), ...common } } },
      '/api/parks/{park}/submissions': { get: { summary: 'the park\'s regulatory submissions (SPARING, SISPEK), newest period first: state (pending, sent, failed, refused), attempts, last error, receipt, records and expected records', parameters: [...params('park'), ...queryParams(s.submissionsQuerySchema)], responses: { 200: json(s.submissionListSchema, 'submissions'), 400: error('invalid query'), 403: error('outside the caller\'s parks'), 404: error('no such park'), ...common } } },
      '/api/alerts': { get: { summary: 'alerts, most severe and newest first', parameters: queryParams(s.alertQuerySchema), responses: { 200: json(s.alertListSchema, 'alerts'), 400: error('invalid query'), 403: error('park outside the caller\'s parks'), ...common } } },
      '/api/alerts/stream': { get: { summary: 'Server-Sent Events: "alert" (an AlertView) for each open alert, then "ready", then every change live', parameters: [{ name: 'park', in: 'query', required: false, schema: { type: 'string' } }], responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: schema(s.alertViewSchema) } } }, ...common } } },
      '/api/alerts/{fingerprint}': { get: { summary: 'one alert with its provenance and history', parameters: params('fingerprint'), responses: { 200: json(s.alertDetailSchema, 'the alert'), 404: error('no such alert'), ...common } } },
      '/api/alerts/{fingerprint}/acknowledge': { post: { summary: 'acknowledge (operator, admin)', parameters: params('fingerprint'), requestBody: { required: false, content: { 'application/json': { schema: schema(s.alertActionRequestSchema, 'input') } } }, responses: accepted } },
      '/api/alerts/{fingerprint}/resolve': { post: { summary: 'resolve by hand (operator, admin)', parameters: params('fingerprint'), requestBody: { required: false, content: { 'application/json': { schema: schema(s.alertActionRequestSchema, 'input') } } }, responses: accepted } },
      '/api/silences': {
        get: { summary: 'silences in force or to come', parameters: [{ name: 'park', in: 'query', required: false, schema: { type: 'string' } }], responses: { 200: json(s.silenceListSchema, 'silences'), ...common } },
        post: { summary: 'silence alerts matching park / tenant / meter / rule / metric until endsAt, optionally recurring (operator, admin)', requestBody: { required: true, content: { 'application/json': { schema: schema(s.silenceRequestSchema, 'input') } } }, responses: { ...accepted, 400: error('invalid body') } },
      },
      '/api/silences/{id}': { delete: { summary: 'end a silence (operator, admin)', parameters: params('id'), responses: accepted } },
      '/api/rule-pack': { get: { summary: 'the rule pack the rules service runs', responses: { 200: json(s.rulePackViewSchema, 'the pack'), ...common } } },
      '/api/dead-letters': { get: { summary: 'recent refused input with reasons (operator, admin)', parameters: queryParams(s.deadLetterQuerySchema), responses: { 200: json(s.deadLetterListSchema, 'dead letters'), 400: error('invalid query'), 403: error('viewers may not see raw payloads'), ...common } } },
      '/api/users/{name}/sessions': { delete: { summary: 'end every session of a user on every console instance (admin; the user must be within the admin\'s parks)', parameters: params('name'), responses: { 200: json(s.sessionsRevokedSchema, 'sessions revoked'), 403: error('the caller is not an admin'), 404: error('no such user within the caller\'s parks'), ...common } } },
      '/api/openapi.json': { get: { summary: 'this document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } } },
    },
  };
}
