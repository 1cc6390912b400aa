/**
 * Who is calling: a session cookie (signed, stateless, so any console instance
 * can check it) or an API token in `Authorization: Bearer`. The session names
 * the user; the role and parks are looked up on every request, so removing a
 * user from the file ends their access at the next restart of the console.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Me } from '../api/schemas.ts';
import { hashPassword, tokenMatches, verifyPassword } from './secrets.ts';
import { toPrincipal, type Principal, type UsersFile } from './users-file.ts';

export interface AuthenticatorOptions {
  users: UsersFile;
  /** HMAC key of session cookies; instances behind one load balancer share it. */
  secret: string;
  sessionTtlMs: number;
  now?: () => number;
}

export interface Caller extends Principal {
  via: Me['via'];
}

const failureWindowMs = 5 * 60_000;
const maxFailures = 5;

export class Authenticator {
  private readonly users = new Map<string, UsersFile['users'][number]>();
  private readonly now: () => number;
  /** Failed sign-ins per user name, to slow down guessing. */
  private readonly failures = new Map<string, number[]>();

  /** A hash of a random password: checking an unknown name costs what checking a known one does. */
  private readonly dummyHash: Promise<string>;

  constructor(private readonly o: AuthenticatorOptions) {
    this.dummyHash = hashPassword(randomBytes(16).toString('hex'));
    for (const u of o.users.users) this.users.set(u.name, u);
    this.now = o.now ?? Date.now;
  }

  /** A session value for the cookie, or why not. */
  async signIn(username: string, password: string): Promise<{ ok: true; caller: Caller; session: string } | { ok: false; reason: 'bad-credentials' | 'locked' }> {
    if (this.locked(username)) return { ok: false, reason: 'locked' };
    const user = this.users.get(username);
    // Same work whether or not the user exists, so timing does not tell names apart.
    const ok = await verifyPassword(password, user?.passwordHash ?? (await this.dummyHash));
    if (!user || !ok) {
      this.recordFailure(username);
      return { ok: false, reason: 'bad-credentials' };
    }
    this.failures.delete(username);
    const payload = Buffer.from(JSON.stringify({ n: user.name, e: this.now() + this.o.sessionTtlMs })).toString('base64url');
    return { ok: true, caller: { ...toPrincipal(user), via: 'session' }, session: `${payload}.${this.sign(payload)}` };
  }

  fromSession(value: string | undefined): Caller | undefined {
    if (!value) return undefined;
    const [payload, mac] = value.split('.');
    if (!payload || !mac) return undefined;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let claims: { n?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { n?: unknown; e?: unknown };
    } catch {
      return undefined;
    }
    if (typeof claims.n !== 'string' || typeof claims.e !== 'number' || claims.e <= this.now()) return undefined;
    const user = this.users.get(claims.n);
    return user ? { ...toPrincipal(user), via: 'session' } : undefined;
  }

  fromBearer(header: string | undefined): Caller | undefined {
    const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m) return undefined;
    const token = m[1]!;
    for (const t of this.o.users.tokens) if (tokenMatches(token, t.tokenHash)) return { ...toPrincipal(t), via: 'token' };
    return undefined;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.o.secret).update(payload).digest('base64url');
  }

  private locked(username: string): boolean {
    const recent = (this.failures.get(username) ?? []).filter((t) => t > this.now() - failureWindowMs);
    this.failures.set(username, recent);
    return recent.length >= maxFailures;
  }

  private recordFailure(username: string): void {
    const list = this.failures.get(username) ?? [];
    list.push(this.now());
    this.failures.set(username, list);
    // Bounded: names that never succeed must not grow the map without end.
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }
}

export function mayRead(caller: Principal, park: string): boolean {
  return caller.parks === null || caller.parks.has(park);
}

export const mayAct = (caller: Principal): boolean => caller.role === 'operator' || caller.role === 'admin';
