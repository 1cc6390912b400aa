/**
 * Password and token hashing with node:crypto only. Passwords: scrypt with a
 * random salt, stored as `scrypt$N$r$p$salt$hash` (base64), so the cost can be
 * raised later without breaking old hashes. API tokens are long random strings,
 * so one SHA-256 is enough: `sha256$hex`. Comparisons are constant-time.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const defaults = { N: 16_384, r: 8, p: 1, keyLength: 32 };

function scryptAsync(password: string, salt: Buffer, keyLength: number, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { N, r, p, maxmem: 128 * N * r * 2 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keyLength } = defaults;
  const key = await scryptAsync(password, salt, keyLength, N, r, p);
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isPasswordHash(s: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(s);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  const key = await scryptAsync(password, salt, expected.length, N, r, p);
  return timingSafeEqual(key, expected);
}

export const newToken = (): string => `eipt_${randomBytes(24).toString('base64url')}`;

export const hashToken = (token: string): string => `sha256$${createHash('sha256').update(token).digest('hex')}`;

export function tokenMatches(token: string, stored: string): boolean {
  const a = Buffer.from(hashToken(token));
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}
