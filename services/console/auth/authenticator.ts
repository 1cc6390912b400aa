/**
 * Who is calling: a session cookie or an API token in `Authorization: Bearer`.
 * A session cookie is signed (HMAC) and names the user, a random session id,
 * when it was issued and when it expires, and a digest of the password hash it
 * was made under; it is accepted only while the user is in the users file with
 * that same hash and the session has not been ended (sign-out, an admin's
 * revocation: session-revocations.ts). The role and parks are looked up on every
 * request, and the users file can be reloaded, so a removed user, a removed
 * token or a changed password ends access without a restart.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Me } from '../api/schemas.ts';
import { belowCurrentCost, costOf, currentCost, hashPassword, tokenMatches, verifyPassword, type ScryptCost } from './secrets.ts';
import { SessionRevocations, type SessionEvent } from './session-revocations.ts';
import { SignInLimiter, type LimitScope, type SignInLimits } from './sign-in-limiter.ts';
import { WorkGate } from './work-gate.ts';
import { toPrincipal, type Principal, type UsersFile } from './users-file.ts';

export interface AuthenticatorOptions {
  users: UsersFile;
  /** HMAC key of session cookies; instances behind one load balancer share it. */
  secret: string;
  sessionTtlMs: number;
  now?: () => number;
  limits?: SignInLimits;
  /** Password verifications running at once, and waiting, before a sign-in is turned away. */
  hashConcurrency?: number;
  hashQueue?: number;
}

export interface Caller extends Principal {
  via: Me['via'];
  /** The session the caller came with (cookie callers only). */
  session?: { sid: string; expiresAt: number };
}

export type SignInResult =
  | { ok: true; caller: Caller; session: string; rehash: boolean }
  | { ok: false; reason: 'bad-credentials' }
  | { ok: false; reason: 'limited'; scope: LimitScope; retryAfterMs: number }
  | { ok: false; reason: 'busy' };

interface Claims {
  n: string;
  s: string;
  i: number;
  e: number;
  g: string;
}

type UserEntry = UsersFile['users'][number];

export class Authenticator {
  private users = new Map<string, UserEntry>();
  private tokens: UsersFile['tokens'] = [];
  private readonly now: () => number;
  private readonly limiter: SignInLimiter;
  private readonly gate: WorkGate;
  private readonly revocations = new SessionRevocations();

  /** A hash of a random password at the users' cost: checking an unknown name costs what checking a known one does. */
  private dummyHash: Promise<string> = Promise.resolve('');

  private readonly o: AuthenticatorOptions;
  constructor(o: AuthenticatorOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.limiter = new SignInLimiter(this.now, o.limits);
    this.gate = new WorkGate(o.hashConcurrency ?? 2, o.hashQueue ?? 32);
    this.reload(o.users);
  }

  /** Takes a new users file: sessions of removed users, or made under a password hash that changed, end now. */
  reload(users: UsersFile): void {
    this.users = new Map(users.users.map((u) => [u.name, u]));
    this.tokens = users.tokens;
    const cost = dearest(users.users.map((u) => costOf(u.passwordHash)).filter((c): c is ScryptCost => c !== undefined)) ?? currentCost;
    this.dummyHash = hashPassword(randomBytes(16).toString('hex'), cost);
  }

  /** Users whose password hash is below the current scrypt cost (they verify; rehash them with console:hash). */
  weakHashes(): string[] {
    return [...this.users.values()].filter((u) => belowCurrentCost(u.passwordHash)).map((u) => u.name);
  }

  async signIn(username: string, password: string, address: string): Promise<SignInResult> {
    // Before any hashing: refused guesses cost a look-up, not a scrypt.
    const attempt = this.limiter.begin(address, username);
    if (!attempt.ok) return { ok: false, reason: 'limited', scope: attempt.scope, retryAfterMs: attempt.retryAfterMs };
    const user = this.users.get(username);
    // Same work whether or not the user exists, so timing does not tell names apart.
    const stored = user?.passwordHash ?? (await this.dummyHash);
    const verified = await this.gate.run(() => verifyPassword(password, stored));
    if (verified === undefined) return { ok: false, reason: 'busy' };
    if (!user || !verified) return { ok: false, reason: 'bad-credentials' };
    this.limiter.succeeded(address, username);
    // A revocation at this very millisecond must not catch the session it precedes.
    const issuedAt = Math.max(this.now(), this.revocations.issuableAfter(user.name) + 1);
    const claims: Claims = { n: user.name, s: randomBytes(16).toString('base64url'), i: issuedAt, e: this.now() + this.o.sessionTtlMs, g: this.generation(user) };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return {
      ok: true, rehash: belowCurrentCost(user.passwordHash),
      caller: { ...toPrincipal(user), via: 'session', session: { sid: claims.s, expiresAt: claims.e } },
      session: `${payload}.${this.sign(payload)}`,
    };
  }

  fromSession(value: string | undefined): Caller | undefined {
    if (!value || value.length > 1024) return undefined;
    const [payload, mac, extra] = value.split('.');
    if (!payload || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const claims = parseClaims(payload);
    if (!claims || claims.e <= this.now()) return undefined;
    const user = this.users.get(claims.n);
    if (!user || claims.g !== this.generation(user)) return undefined;
    if (this.revocations.revoked({ user: claims.n, sid: claims.s, issuedAt: claims.i })) return undefined;
    return { ...toPrincipal(user), via: 'session', session: { sid: claims.s, expiresAt: claims.e } };
  }

  fromBearer(header: string | undefined): Caller | undefined {
    const m = header ? /^Bearer\s+(\S{1,256})$/i.exec(header) : null;
    if (!m) return undefined;
    const token = m[1]!;
    for (const t of this.tokens) if (tokenMatches(token, t.tokenHash)) return { ...toPrincipal(t), via: 'token' };
    return undefined;
  }

  /** The event that ends this caller's session (none for a token); apply it once it is sent. */
  signOut(caller: Caller): SessionEvent | undefined {
    if (!caller.session) return undefined;
    return { v: 1, kind: 'sign-out', sid: caller.session.sid, user: caller.name, expiresAt: caller.session.expiresAt, at: this.now() };
  }

  /** The event that ends every session of `user` issued until now; apply it once it is sent. */
  revokeUser(user: string, by: string): SessionEvent {
    return { v: 1, kind: 'revoke-user', user, by, at: this.now() };
  }

  /** Folds a sign-out or revocation, from this instance or another. */
  applySessionEvent(e: SessionEvent): void {
    this.revocations.apply(e);
    this.revocations.prune(this.now());
  }

  /** A user of the file, as a principal (for an admin's scope check). */
  user(name: string): Principal | undefined {
    const u = this.users.get(name);
    return u && toPrincipal(u);
  }

  /** Ties a session to the password hash it was made under: a new hash, a new generation. */
  private generation(user: UserEntry): string {
    return createHmac('sha256', this.o.secret).update(`generation\u0000${user.name}\u0000${user.passwordHash}`).digest('base64url').slice(0, 22);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.o.secret).update(payload).digest('base64url');
  }
}

/** The most expensive cost among the users' hashes: an unknown name is never the cheap one to try. */
function dearest(costs: ScryptCost[]): ScryptCost | undefined {
  return costs.reduce<ScryptCost | undefined>((a, c) => (a === undefined || c.N * c.r * c.p > a.N * a.r * a.p ? c : a), undefined);
}

function parseClaims(payload: string): Claims | undefined {
  let c: Partial<Record<keyof Claims, unknown>>;
  try {
    c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof c;
  } catch {
    return undefined;
  }
  if (typeof c !== 'object' || c === null) return undefined;
  const { n, s, i, e, g } = c;
  if (typeof n !== 'string' || typeof s !== 'string' || typeof g !== 'string' || typeof i !== 'number' || typeof e !== 'number') return undefined;
  return { n, s, i, e, g };
}

export function mayRead(caller: Principal, park: string): boolean {
  return caller.parks === null || caller.parks.has(park);
}

export const mayAct = (caller: Principal): boolean => caller.role === 'operator' || caller.role === 'admin';
