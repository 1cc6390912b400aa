/**
 * Who may use the console: a JSON file of users (password hashes) and API
 * tokens (token hashes), each with a role and the parks it covers. Secrets are
 * never stored in clear; `npm run console:hash` makes the hashes.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { EipError } from '../../../shared/errors.ts';
import { formatIssues } from '../../../shared/contracts/park-registry.ts';
import { roleSchema, type Role } from '../api/schemas.ts';
import { isPasswordHash } from './secrets.ts';

const parksSchema = z.array(z.union([z.literal('*'), z.string().regex(/^[a-z0-9][a-z0-9_-]*$/)])).min(1);

export const usersFileSchema = z.strictObject({
  version: z.literal(1),
  users: z.array(z.strictObject({
    name: z.string().min(1).max(128),
    role: roleSchema,
    parks: parksSchema,
    passwordHash: z.string().refine(isPasswordHash, { message: 'must be a scrypt hash made by `npm run console:hash`' }),
  })).default([]),
  tokens: z.array(z.strictObject({
    name: z.string().min(1).max(128),
    role: roleSchema,
    parks: parksSchema,
    tokenHash: z.string().regex(/^sha256\$[0-9a-f]{64}$/, 'must be sha256$<64 hex digits> made by `npm run console:hash -- --token`'),
  })).default([]),
}).superRefine((f, ctx) => {
  const names = new Set<string>();
  [...f.users, ...f.tokens].forEach((u, i) => {
    if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: [i < f.users.length ? 'users' : 'tokens', i < f.users.length ? i : i - f.users.length, 'name'], message: `duplicate name "${u.name}"` });
    names.add(u.name);
  });
});
export type UsersFile = z.infer<typeof usersFileSchema>;

export interface Principal {
  name: string;
  role: Role;
  /** null: every park. */
  parks: ReadonlySet<string> | null;
  parkList: string[];
}

export function toPrincipal(u: { name: string; role: Role; parks: string[] }): Principal {
  return { name: u.name, role: u.role, parks: u.parks.includes('*') ? null : new Set(u.parks), parkList: u.parks };
}

export function loadUsersFile(path: string): UsersFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new EipError('CONFIG_INVALID', `CONSOLE_USERS: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = usersFileSchema.safeParse(raw);
  if (!parsed.success) throw new EipError('CONFIG_INVALID', `CONSOLE_USERS: ${path}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
