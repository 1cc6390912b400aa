/**
 * Password and token hashing with node:crypto only. Passwords: scrypt with a
 * random salt, stored as `scrypt$N$r$p$salt$hash` (base64). The cost travels
 * in the string, so a hash made at an older cost still verifies after the
 * default is raised; `belowCurrentCost` flags it for rehashing. API tokens are
 * long random strings, so one SHA-256 is enough: `sha256$hex`. Comparisons are
 * constant-time.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** OWASP's recommendation for scrypt (password storage cheat sheet): N=2^17, r=8, p=1, 128 MiB per hash. */
export const currentCost: ScryptCost = { N: 2 ** 17, r: 8, p: 1 };
const keyLength = 32;
/** A users file is input too: a crafted cost must not make one verification take gigabytes or minutes. */
const maxN = 2 ** 20;
const maxR = 32;
const maxP = 16;

function scryptAsync(password: string, salt: Buffer, length: number, { N, r, p }: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N, r, p, maxmem: 128 * N * r * p + 128 * r * 2 + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, cost: ScryptCost = currentCost): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, keyLength, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash extends ScryptCost {
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | undefined {
  const m = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const powerOfTwo = N >= 2 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > maxN || r < 1 || r > maxR || p < 1 || p > maxP) return undefined;
  const key = Buffer.from(m[5]!, 'base64');
  if (key.length < 16 || key.length > 64) return undefined;
  return { N, r, p, salt: Buffer.from(m[4]!, 'base64'), key };
}

export function isPasswordHash(s: string): boolean {
  return parseHash(s) !== undefined;
}

export function costOf(stored: string): ScryptCost | undefined {
  const h = parseHash(stored);
  return h && { N: h.N, r: h.r, p: h.p };
}

/** True for a hash made at less than the current cost: it verifies, but should be made again with console:hash. */
export function belowCurrentCost(stored: string): boolean {
  const h = parseHash(stored);
  return h !== undefined && (h.N < currentCost.N || h.r < currentCost.r || h.p < currentCost.p);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parseHash(stored);
  if (!h) return false;
  const key = await scryptAsync(password, h.salt, h.key.length, h);
  return timingSafeEqual(key, h.key);
}

export const newToken = (): string => `eipt_${randomBytes(24).toString('base64url')}`;

export const hashToken = (token: string): string => `sha256$${createHash('sha256').update(token).digest('hex')}`;

export function tokenMatches(token: string, stored: string): boolean {
  const a = Buffer.from(hashToken(token));
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}
