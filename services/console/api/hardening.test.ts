/**
 * The console's defences on the embedded adapters: authorisation on the matched
 * route whatever the spelling of the URL, sessions ended on the server (sign-out,
 * an admin's revocation, on every instance; a password change), sign-in limits
 * before any hashing, and the security headers.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../../shared/observability/logger.ts';
import { Authenticator } from '../auth/authenticator.ts';
import { hashPassword } from '../auth/secrets.ts';
import { createModels } from '../console-models.ts';
import { LiveFeeds } from '../live-feeds.ts';
import { startTestConsole, password, testCost, type TestConsole } from '../testing.ts';
import { eventually } from '../../../test/helpers/bus.ts';
import type { FastifyRequest } from 'fastify';
import { contentSecurityPolicy, securityHeaders } from './security-headers.ts';

describe('console hardening', () => {
  let c: TestConsole;
  const cookieOf = async (user: string, remoteAddress = '10.0.0.1'): Promise<string> => {
    const res = await c.app.inject({ method: 'POST', url: '/api/session', remoteAddress, payload: { username: user, password: password(user) } });
    assert.equal(res.statusCode, 200, res.body);
    return `eip_session=${res.cookies.find((k) => k.name === 'eip_session')!.value}`;
  };
  const me = async (cookie: string): Promise<number> => (await c.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode;

  before(async () => {
    c = await startTestConsole({
      users: [
        { name: 'pam', role: 'admin', parks: ['park-a'] },
        { name: 'bea', role: 'operator', parks: ['park-b'] },
        { name: 'cam', role: 'viewer', parks: ['park-a'] },
        { name: 'dan', role: 'viewer', parks: ['park-a'] },
        { name: 'eve', role: 'viewer', parks: ['*'] },
      ],
    });
  });
  after(() => c.close());

  describe('authorisation on the matched route', () => {
    it('closes every API route to a caller without credentials, except sign-in and the OpenAPI document', async () => {
      const open: string[] = [];
      for (const route of c.app.servedRoutes.filter((r) => r.split(' ')[1]!.startsWith('/api/'))) {
        const [method, url] = route.split(' ') as [string, string];
        const res = await c.app.inject({ method: method as 'GET', url: url.replace(/:\w+/g, 'x'), payload: method === 'GET' ? undefined : {} });
        if (res.statusCode !== 401) open.push(`${route} ${res.statusCode}`);
      }
      assert.deepEqual(open.sort(), ['GET /api/openapi.json 200', 'POST /api/session 400']);
    });

    it('refuses every spelling of a protected path without a session, and serves the same route to a caller', async () => {
      const variants = [
        '/%61pi/rule-pack', '/api/rule%2Dpack', '/%61%70%69/%72ule-pack', '/%2561pi/rule-pack',
        '/API/rule-pack', '/Api/Rule-Pack', '/api//rule-pack', '//api/rule-pack', '/api/rule-pack/', '/api/rule-pack//',
        '/api/./rule-pack', '/api/x/../rule-pack', '/api/%2e/rule-pack', '/api/%2E%2E/api/rule-pack', '/./api/rule-pack',
        '/api/rule-pack?x=1', '/api/rule-pack;x', '/api/rule-pack%3F', '/api/rule-pack%00', '/api/rule-pack%20', '/api\\rule-pack',
      ];
      for (const url of variants) {
        for (const method of ['GET', 'HEAD'] as const) {
          const res = await c.app.inject({ method, url });
          const leaked = res.statusCode === 200 && (res.body.includes('ww-ph-range') || res.headers['content-type']?.toString().includes('json'));
          assert.ok(!leaked, `${method} ${url} answered ${res.statusCode} with the pack`);
          assert.ok([401, 404, 400].includes(res.statusCode) || (res.statusCode === 200 && /text\/html/.test(String(res.headers['content-type']))), `${method} ${url}: ${res.statusCode}`);
        }
      }
      // The router decodes %61 to "a": the decoded path is the route, and so is its authorisation.
      const cookie = await cookieOf('vic');
      const decoded = await c.app.inject({ method: 'GET', url: '/%61pi/rule-pack', headers: { cookie } });
      assert.equal(decoded.statusCode, 200);
      assert.match(decoded.body, /ww-ph-range/);
    });

    it('checks the role on the matched route too: a viewer spelling dead letters differently is still a viewer', async () => {
      const cookie = await cookieOf('vic');
      for (const url of ['/api/dead-letters', '/%61pi/dead-letters', '/api/dead%2Dletters']) {
        const res = await c.app.inject({ method: 'GET', url, headers: { cookie } });
        assert.equal(res.statusCode, 403, url);
      }
      const ack = await c.app.inject({ method: 'POST', url: '/%61pi/alerts/x/acknowledge', headers: { cookie }, payload: {} });
      assert.equal(ack.statusCode, 403);
    });
  });

  describe('sessions end on the server', () => {
    it('lets an admin end every session of a user, on every console instance; a new sign-in works', async () => {
      // A second instance on the same bus, folding the session topic as every console does.
      const auth2 = new Authenticator({ users: c.users, secret: 'test-secret-0123456789', sessionTtlMs: 3_600_000 });
      const logger = createLogger('console-test-2', 'silent');
      const feeds2 = new LiveFeeds({ bus: c.bus, models: createModels({ deadLettersKept: 10, historyPerAlert: 5 }), logger, onSessionEvent: (e) => auth2.applySessionEvent(e) });
      await feeds2.start();
      try {
        const first = await cookieOf('cam');
        const second = await cookieOf('cam', '10.0.0.2');
        const value = (cookie: string): string => cookie.slice('eip_session='.length);
        assert.ok(auth2.fromSession(value(first)), 'the other instance accepts the cookie before');
        const admin = await cookieOf('ada');
        const res = await c.app.inject({ method: 'DELETE', url: '/api/users/cam/sessions', headers: { cookie: admin } });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json<{ user: string }>().user, 'cam');
        assert.equal(await me(first), 401);
        assert.equal(await me(second), 401);
        await eventually(() => (auth2.fromSession(value(first)) === undefined && auth2.fromSession(value(second)) === undefined ? true : undefined), 10_000, 'the other instance refuses them', 25);
        const again = await cookieOf('cam');
        assert.equal(await me(again), 200, 'a sign-in after the revocation is a new session');
        assert.ok(auth2.fromSession(value(again)), 'on the other instance too');
      } finally {
        await feeds2.stop();
      }
    });

    it('lets only admins revoke, and an admin of some parks only users within them', async () => {
      const operator = await cookieOf('olu');
      assert.equal((await c.app.inject({ method: 'DELETE', url: '/api/users/dan/sessions', headers: { cookie: operator } })).statusCode, 403);
      const pam = await cookieOf('pam');
      assert.equal((await c.app.inject({ method: 'DELETE', url: '/api/users/bea/sessions', headers: { cookie: pam } })).statusCode, 404, 'bea is park B\'s');
      assert.equal((await c.app.inject({ method: 'DELETE', url: '/api/users/eve/sessions', headers: { cookie: pam } })).statusCode, 404, 'eve sees every park');
      assert.equal((await c.app.inject({ method: 'DELETE', url: '/api/users/nobody/sessions', headers: { cookie: pam } })).statusCode, 404);
      const dan = await cookieOf('dan');
      assert.equal((await c.app.inject({ method: 'DELETE', url: '/api/users/dan/sessions', headers: { cookie: pam } })).statusCode, 200);
      assert.equal(await me(dan), 401);
    });

    it('ends a user\'s sessions when their password hash changes in the users file, and takes the new password', async () => {
      const old = await cookieOf('eve');
      assert.equal(await me(old), 200);
      const changed = { ...c.users, users: await Promise.all(c.users.users.map(async (u) => (u.name === 'eve' ? { ...u, passwordHash: await hashPassword('a new passphrase', testCost) } : u))) };
      c.auth.reload(changed);
      try {
        assert.equal(await me(old), 401, 'made under the old hash');
        assert.equal((await c.app.inject({ method: 'POST', url: '/api/session', remoteAddress: '10.0.0.9', payload: { username: 'eve', password: password('eve') } })).statusCode, 401);
        const res = await c.app.inject({ method: 'POST', url: '/api/session', remoteAddress: '10.0.0.9', payload: { username: 'eve', password: 'a new passphrase' } });
        assert.equal(res.statusCode, 200);
        // Removing a user ends their sessions as well.
        c.auth.reload({ ...changed, users: changed.users.filter((u) => u.name !== 'eve') });
        assert.equal(await me(`eip_session=${res.cookies.find((k) => k.name === 'eip_session')!.value}`), 401);
      } finally {
        c.auth.reload(c.users);
      }
    });
  });

  describe('sign-in limits', () => {
    const attempt = (username: string, pw: string, remoteAddress: string) => c.app.inject({ method: 'POST', url: '/api/session', remoteAddress, payload: { username, password: pw } });

    it('backs off one address guessing one name, with Retry-After, before the password is even checked', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) codes.push((await attempt('olu', `guess-${i}`, '192.0.2.7')).statusCode);
      assert.deepEqual(codes, [401, 401, 401, 401, 401, 429]);
      const limited = await attempt('olu', password('olu'), '192.0.2.7');
      assert.equal(limited.statusCode, 429, 'the right password waits too: the limiter runs first');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      // Neither the user from their own address nor anyone else is locked out by it.
      assert.equal((await attempt('olu', password('olu'), '10.0.0.1')).statusCode, 200);
      assert.equal((await attempt('ghost', 'x', '192.0.2.8')).statusCode, 401);
    });

    it('backs off one address trying many names, unknown names included', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 21; i++) codes.push((await attempt(`nobody-${i}`, 'x', '198.51.100.4')).statusCode);
      assert.deepEqual(codes, [...Array<number>(20).fill(401), 429]);
      assert.equal((await attempt('ana', password('ana'), '198.51.100.4')).statusCode, 429, 'the address waits, whatever name it tries');
    });
  });

  describe('security headers', () => {
    it('sends CSP, frame-ancestors, nosniff, a referrer policy and the rest on the UI, the API and the stream', async () => {
      const cookie = await cookieOf('vic');
      for (const url of ['/', '/somewhere', '/api/me', '/api/nothing-here', '/api/openapi.json']) {
        const res = await c.app.inject({ method: 'GET', url, headers: { cookie } });
        assert.equal(res.headers['content-security-policy'], contentSecurityPolicy, url);
        assert.match(contentSecurityPolicy, /frame-ancestors 'none'/);
        assert.match(contentSecurityPolicy, /script-src 'self'(;|$)/);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
        assert.equal(res.headers['x-frame-options'], 'DENY', url);
        assert.equal(res.headers['referrer-policy'], 'no-referrer', url);
        assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin', url);
        assert.equal(res.headers['strict-transport-security'], undefined, 'not over plain HTTP');
      }
      assert.equal((await c.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).headers['cache-control'], 'no-store');
      await c.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (c.app.server.address() as AddressInfo).port;
      const ac = new AbortController();
      const stream = await fetch(`http://127.0.0.1:${port}/api/alerts/stream`, { headers: { cookie }, signal: ac.signal });
      assert.equal(stream.headers.get('content-security-policy'), contentSecurityPolicy);
      assert.equal(stream.headers.get('x-frame-options'), 'DENY');
      ac.abort();
    });

    it('adds Strict-Transport-Security when served over HTTPS, directly or behind a TLS proxy', () => {
      const over = (protocol: string) => ({ protocol }) as FastifyRequest;
      assert.match(securityHeaders(over('https'), false)['strict-transport-security'] ?? '', /max-age=31536000/);
      assert.match(securityHeaders(over('http'), true)['strict-transport-security'] ?? '', /max-age=/);
      assert.equal(securityHeaders(over('http'), false)['strict-transport-security'], undefined);
    });
  });
});
