/**
 * HS256 JSON Web Tokens (RFC 7519) with node:crypto: what a SPARING station
 * signs its body with. Only HS256 is accepted on verification, so a token
 * saying `"alg":"none"` (or any other algorithm) is refused, not trusted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function signature(input: string, secret: string): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

export function signHs256(payload: unknown, secret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = `${header}.${body}`;
  return `${input}.${signature(input, secret)}`;
}

export type JwtVerification = { ok: true; payload: unknown } | { ok: false; reason: 'malformed' | 'algorithm' | 'signature' };

/** Checks the form, the algorithm and the signature; the payload's schema is the caller's. */
export function verifyHs256(token: string, secret: string): JwtVerification {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, reason: 'malformed' };
  const [h, b, s] = parts as [string, string, string];
  let head: unknown;
  let payload: unknown;
  try {
    head = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(b, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof head !== 'object' || head === null || (head as { alg?: unknown }).alg !== 'HS256') return { ok: false, reason: 'algorithm' };
  const expected = Buffer.from(signature(`${h}.${b}`, secret));
  const given = Buffer.from(s);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'signature' };
  return { ok: true, payload };
}
