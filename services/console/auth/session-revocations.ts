/**
 * Ended sessions. A session cookie is signed and names its session id, so any
 * console instance can check it without asking another; what an instance must
 * learn from the others is which sessions ended early. Sign-out and an admin's
 * revocation are events on eip.console-sessions.v1, which every instance folds
 * from the beginning (as it folds alerts), so a session ended on one instance is
 * refused by all of them. The topic keeps them longer than the longest session.
 * A password change needs no event: the cookie carries a digest of the password
 * hash it was made under, and a new hash in the users file makes it stale.
 */
import { z } from 'zod';
import { epochMsSchema } from '../../../shared/contracts/ids.ts';

export const sessionEventSchema = z.discriminatedUnion('kind', [
  z.object({ v: z.literal(1), kind: z.literal('sign-out'), sid: z.string().min(8).max(64), user: z.string().min(1).max(128), expiresAt: epochMsSchema, at: epochMsSchema }),
  z.object({ v: z.literal(1), kind: z.literal('revoke-user'), user: z.string().min(1).max(128), by: z.string().min(1).max(128), at: epochMsSchema }),
]);
export type SessionEvent = z.infer<typeof sessionEventSchema>;

export interface SessionClaims {
  user: string;
  sid: string;
  issuedAt: number;
}

export class SessionRevocations {
  /** Signed-out session ids, until they would have expired anyway. */
  private readonly ended = new Map<string, number>();
  /** Per user: sessions issued at or before this time are revoked. */
  private readonly notAfter = new Map<string, number>();

  apply(e: SessionEvent): void {
    if (e.kind === 'sign-out') this.ended.set(e.sid, Math.max(this.ended.get(e.sid) ?? 0, e.expiresAt));
    else this.notAfter.set(e.user, Math.max(this.notAfter.get(e.user) ?? 0, e.at));
  }

  revoked(c: SessionClaims): boolean {
    return this.ended.has(c.sid) || c.issuedAt <= (this.notAfter.get(c.user) ?? Number.NEGATIVE_INFINITY);
  }

  /** The earliest issue time a new session of this user may have and still be valid. */
  issuableAfter(user: string): number {
    return this.notAfter.get(user) ?? Number.NEGATIVE_INFINITY;
  }

  /** Drops sign-outs of sessions that have expired by now (their cookies are refused for that alone). */
  prune(now: number): void {
    for (const [sid, expiresAt] of this.ended) if (expiresAt <= now) this.ended.delete(sid);
  }
}
