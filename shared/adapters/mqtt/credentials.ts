/**
 * MQTT accounts, from one of two kinds of file:
 *  - a credential store (written by `npm run mqtt:credentials`): one account per
 *    service, tenant or gateway, each with its own secret, stored only as a
 *    PBKDF2-SHA512 hash in the format of Mosquitto's dynamic-security plugin;
 *  - the development template (infra/dev-credentials.json): known service
 *    passwords and `{tenant}-dev-secret` for every tenant. Development and tests
 *    only: isDevCredentialSource() tells which one is in use.
 * Mosquitto's configuration (infra/mosquitto/render-dynsec.ts) and the embedded
 * broker both read these, so both accept the same accounts.
 */
import { pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { z } from 'zod';
import { clientIdSeparator, serviceRoles, type MqttPrincipal, type ServiceRole } from '../../contracts/mqtt-acl.ts';
import { idSchema } from '../../contracts/ids.ts';
import type { RegistryIndex } from '../../contracts/park-registry.ts';

const pbkdf2Async = promisify(pbkdf2);

/** Mosquitto's dynamic-security format: PBKDF2-SHA512, 64-byte key, base64 salt and hash. */
export interface PasswordHash {
  salt: string;
  hash: string;
  iterations: number;
}

/**
 * Each connect costs one derivation on Mosquitto's single thread (measured: 10,000
 * iterations made a connect take 16 ms instead of 4). The secrets are 32 random
 * bytes, so the hash guards a leaked file, not a guessable password; stretching
 * buys little, a reconnect storm pays for it.
 */
export const defaultIterations = 1_000;
const keyBytes = 64;

export function hashPassword(secret: string, iterations = defaultIterations): PasswordHash {
  const salt = randomBytes(12);
  return { salt: salt.toString('base64'), hash: pbkdf2Sync(secret, salt, iterations, keyBytes, 'sha512').toString('base64'), iterations };
}

export async function verifyPassword(stored: PasswordHash, given: Buffer): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const derived = await pbkdf2Async(given, Buffer.from(stored.salt, 'base64'), stored.iterations, expected.length || keyBytes, 'sha512');
  return expected.length === derived.length && timingSafeEqual(expected, derived);
}

/** A new secret: 32 random bytes, URL-safe. */
export const newSecret = (): string => randomBytes(32).toString('base64url');

/** Account names: a service, a tenant id, or `<tenant>.<gateway>`. Never the client-id separator. */
export const accountNameSchema = z.string().min(1).max(130).regex(/^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)?$/, 'a service name, a tenant id or <tenant>.<gateway>');

const passwordHashSchema = z.object({
  salt: z.string().min(16).regex(/^[A-Za-z0-9+/=]+$/),
  hash: z.string().min(80).regex(/^[A-Za-z0-9+/=]+$/),
  iterations: z.number().int().min(1000).max(10_000_000),
});

const storedAccountSchema = z.object({
  username: accountNameSchema,
  role: z.enum(['tenant', ...serviceRoles]),
  /** The tenant a tenant or gateway account publishes for. */
  tenant: idSchema.optional(),
  password: passwordHashSchema,
  updatedAt: z.string(),
}).refine((a) => (a.role === 'tenant') === (a.tenant !== undefined), { message: 'a tenant account names its tenant; a service account does not' });
export type StoredAccount = z.infer<typeof storedAccountSchema>;

export const credentialStoreSchema = z.object({
  version: z.literal(1),
  accounts: z.array(storedAccountSchema),
}).superRefine((s, ctx) => {
  const seen = new Set<string>();
  s.accounts.forEach((a, i) => {
    if (seen.has(a.username)) ctx.addIssue({ code: 'custom', path: ['accounts', i, 'username'], message: `duplicate account ${a.username}` });
    seen.add(a.username);
  });
});
export type CredentialStore = z.infer<typeof credentialStoreSchema>;

const devTemplateSchema = z.object({
  services: z.partialRecord(z.enum(serviceRoles), z.string().min(1)),
  tenantPassword: z.string().includes('{tenant}'),
});

export interface MqttAccount {
  principal: MqttPrincipal;
  check(password: Buffer): Promise<boolean>;
  /** What Mosquitto stores: the hash, or for a development password a fresh one. */
  passwordHash(): PasswordHash;
}

export interface MqttAccounts {
  /** `development`: the known-password template; `store`: per-account secrets. */
  readonly source: 'development' | 'store';
  readonly path: string;
  get(username: string): MqttAccount | undefined;
  all(): MqttAccount[];
}

/** True when the accounts come from the development template (known passwords): never for an exposed broker. */
export function isDevCredentialSource(accounts: Pick<MqttAccounts, 'source'>): boolean {
  return accounts.source === 'development';
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read MQTT credentials ${path}: ${(err as Error).message}`, { cause: err });
  }
}

const issues = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/** The principal of a stored account, its tenant placed in its park by the registry. */
export function principalOf(a: Pick<StoredAccount, 'username' | 'role' | 'tenant'>, registry: RegistryIndex): MqttPrincipal {
  if (a.role !== 'tenant') return { username: a.username, role: a.role };
  const found = registry.tenant(a.tenant!);
  if (!found) throw new Error(`MQTT account ${a.username}: tenant ${a.tenant} is not in the park registry`);
  return { username: a.username, role: 'tenant', park: found.park.id, tenant: a.tenant! };
}

export function parseCredentialStore(json: unknown, path: string): CredentialStore {
  const parsed = credentialStoreSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${path}: ${issues(parsed.error)}`);
  return parsed.data;
}

export function readCredentialStore(path: string): CredentialStore {
  return parseCredentialStore(readJson(path), path);
}

/** Written whole to a temporary file and renamed: a reader never sees half a store. Owner-only. */
export function writeCredentialStore(path: string, store: CredentialStore): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(credentialStoreSchema.parse(store), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The development template's shape: known service passwords and one pattern for every tenant. */
export const isDevTemplate = (json: unknown): boolean => typeof json === 'object' && json !== null && 'tenantPassword' in json;

function plainAccount(principal: MqttPrincipal, password: string): MqttAccount {
  const expected = Buffer.from(password);
  return {
    principal,
    check: (given) => Promise.resolve(given.length === expected.length && timingSafeEqual(given, expected)),
    passwordHash: () => hashPassword(password),
  };
}

/** Every account of the file at `path` (either kind), for the brokers. */
export function loadMqttAccounts(path: string, registry: RegistryIndex): MqttAccounts {
  const json = readJson(path);
  const byName = new Map<string, MqttAccount>();
  let source: MqttAccounts['source'];
  if (isDevTemplate(json)) {
    source = 'development';
    for (const [username, password] of loadMqttUsers(path, registry)) {
      const role = (serviceRoles as readonly string[]).includes(username) ? (username as ServiceRole) : 'tenant';
      byName.set(username, plainAccount(principalOf({ username, role, ...(role === 'tenant' && { tenant: username }) }, registry), password));
    }
  } else {
    source = 'store';
    for (const a of parseCredentialStore(json, path).accounts) {
      byName.set(a.username, { principal: principalOf(a, registry), check: (given) => verifyPassword(a.password, given), passwordHash: () => a.password });
    }
  }
  for (const name of byName.keys()) if (name.includes(clientIdSeparator)) throw new Error(`${path}: account ${name} contains the client-id separator`);
  return { source, path, get: (u) => byName.get(u), all: () => [...byName.values()] };
}

/**
 * Plain passwords of the development template, by username: what the
 * simulator and the tests connect with. A credential store holds no plain
 * secrets, so it is refused here.
 */
export function loadMqttUsers(path: string, registry: RegistryIndex): Map<string, string> {
  const json = readJson(path);
  if (!isDevTemplate(json)) throw new Error(`${path} is a credential store (hashed secrets): the simulator needs the development template or the tenants' own secrets`);
  const parsed = devTemplateSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${path}: ${issues(parsed.error)}`);
  const users = new Map<string, string>(Object.entries(parsed.data.services));
  for (const park of registry.registry.parks) for (const t of park.tenants) users.set(t.id, parsed.data.tenantPassword.replaceAll('{tenant}', t.id));
  return users;
}

