import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signHs256, verifyHs256 } from './jwt.ts';

it('signs HS256 as RFC 7519 does, and verifies its own tokens', () => {
  const token = signHs256({ uid: 'S-1', data: [] }, 'secret-1');
  const [h, b, s] = token.split('.') as [string, string, string];
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
  assert.deepEqual(JSON.parse(Buffer.from(b, 'base64url').toString()), { uid: 'S-1', data: [] });
  // The signature computed independently over header.payload.
  assert.equal(s, createHmac('sha256', 'secret-1').update(`${h}.${b}`).digest('base64url'));
  assert.deepEqual(verifyHs256(token, 'secret-1'), { ok: true, payload: { uid: 'S-1', data: [] } });
});

it('refuses a wrong secret, a changed payload, another algorithm and garbage', () => {
  const token = signHs256({ uid: 'S-1' }, 'secret-1');
  assert.deepEqual(verifyHs256(token, 'secret-2'), { ok: false, reason: 'signature' });
  const [h, , s] = token.split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ uid: 'S-2' })).toString('base64url')}.${s}`;
  assert.deepEqual(verifyHs256(forged, 'secret-1'), { ok: false, reason: 'signature' });
  const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
  assert.deepEqual(verifyHs256(none, 'secret-1'), { ok: false, reason: 'algorithm' });
  for (const junk of ['', 'a.b', 'a.b.c.d', '!!.??.**', `${h}.notjson.${s}`]) assert.equal(verifyHs256(junk, 'secret-1').ok, false, junk);
});
