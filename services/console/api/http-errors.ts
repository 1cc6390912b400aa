/** Errors the API answers with, as { error, message, issues? } bodies. */
import type { z } from 'zod';
import type { ErrorBody } from './schemas.ts';

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues?: ErrorBody['issues'];
  constructor(status: number, code: string, message: string, issues?: ErrorBody['issues']) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues;
  }

  body(): ErrorBody {
    return { error: this.code, message: this.message, ...(this.issues && { issues: this.issues }) };
  }
}

export const unauthorized = (): HttpError => new HttpError(401, 'unauthorized', 'sign in, or send an API token as Authorization: Bearer <token>');
export const forbidden = (what: string): HttpError => new HttpError(403, 'forbidden', what);
export const notFound = (what: string): HttpError => new HttpError(404, 'not-found', what);

/** Validates against a schema; a failure is a 400 naming each field. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query'): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
  throw new HttpError(400, 'invalid-request', `invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}
