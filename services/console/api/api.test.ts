import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { topics } from '../../../shared/contracts/kafka-topics.ts';
import { alertCommandSchema, type AlertEvent } from '../../../shared/contracts/events.ts';
import type { ConsumedBatch } from '../../../shared/ports/event-bus.ts';
import { startTestConsole, password, testToken, type TestConsole } from '../testing.ts';
import { eventually } from '../../../test/helpers/bus.ts';
import type { AlertList, AlertView, DeadLetterList, Me, ParkTotals, Series } from './schemas.ts';

const minute = 60_000;

function alertEvent(over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    v: 1, fingerprint: 'fp-a1', transition: 1, state: 'firing', previousState: null, severity: 'critical', ruleId: 'ww-ph-range', ruleVersion: 1,
    park: 'park-a', tenant: 'park-a-smelter', meter: 'park-a-outlet', metric: 'ph', summary: 'pH 5.1 below 6', provenance: { values: [5.2, 5.1, 5.1], threshold: 6 },
    at: Date.now(), simulated: false, ...over,
  };
}

const until = <T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> => eventually(fn, timeoutMs, what, 25);

describe('console API', () => {
  let c: TestConsole;
  const logLines: string[] = [];
  const cookies = new Map<string, string>();
  const commands: unknown[] = [];

  before(async () => {
    c = await startTestConsole({ logLines });
    await c.bus.subscribe({
      groupId: 'command-watch', topics: [topics.alertCommands.name], fromBeginning: true,
      handleBatch: async (b: ConsumedBatch) => { for (const m of b.messages) commands.push(JSON.parse(m.value!.toString())); },
    });
    for (const user of ['ada', 'olu', 'vic', 'ana']) {
      const res = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: user, password: password(user) } });
      assert.equal(res.statusCode, 200, res.body);
      const cookie = res.cookies.find((k) => k.name === 'eip_session');
      assert.ok(cookie?.httpOnly, 'session cookie is HttpOnly');
      assert.equal(cookie.sameSite, 'Strict');
      cookies.set(user, `eip_session=${cookie.value}`);
    }
    await c.bus.publish([alertEvent(), alertEvent({ fingerprint: 'fp-b1', park: 'park-b', tenant: 'park-b-smelter', meter: 'park-b-outlet', severity: 'warning' })]
      .map((e) => ({ topic: topics.alerts.name, key: e.fingerprint, value: JSON.stringify(e) })));
    await until('both alerts on the board', () => (c.models.alerts.size === 2 ? true : undefined));
  });
  after(() => c.close());

  const get = (url: string, user?: string, headers: Record<string, string> = {}) =>
    c.app.inject({ method: 'GET', url, headers: { ...(user && { cookie: cookies.get(user)! }), ...headers } });
  const post = (url: string, user: string, payload?: object) =>
    c.app.inject({ method: 'POST', url, headers: { cookie: cookies.get(user)! }, ...(payload && { payload }) });

  describe('authentication', () => {
    it('answers 401 without credentials on every API route but sign-in and the OpenAPI document', async () => {
      for (const url of ['/api/me', '/api/alerts', '/api/parks', '/api/parks/park-a', '/api/rule-pack', '/api/dead-letters', '/api/alerts/stream', '/api/silences']) {
        const res = await get(url);
        assert.equal(res.statusCode, 401, url);
        assert.equal(res.json<{ error: string }>().error, 'unauthorized');
      }
      assert.equal((await get('/api/openapi.json')).statusCode, 200);
    });

    it('refuses a wrong password and an unknown user alike, without a cookie', async () => {
      for (const payload of [{ username: 'olu', password: 'nope' }, { username: 'nobody', password: 'nope' }]) {
        const res = await c.app.inject({ method: 'POST', url: '/api/session', payload });
        assert.equal(res.statusCode, 401);
        assert.equal(res.cookies.length, 0);
        assert.equal(res.json<{ message: string }>().message, 'wrong user name or password');
      }
    });

    it('locks a user name after five failures in a row', async () => {
      const tries = [];
      for (let i = 0; i < 6; i++) tries.push((await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'ghost', password: `x${i}` } })).statusCode);
      assert.deepEqual(tries, [401, 401, 401, 401, 401, 429]);
    });

    it('knows the caller from the cookie, and refuses a tampered one', async () => {
      const me = (await get('/api/me', 'olu')).json<Me>();
      assert.deepEqual(me, { name: 'olu', role: 'operator', parks: ['*'], via: 'session' });
      const forged = cookies.get('vic')!.replace(/\.[^.]+$/, '.AAAA');
      assert.equal((await get('/api/me', undefined, { cookie: forged })).statusCode, 401);
      // A viewer's session payload with an operator's name but the viewer's signature.
      const [payload, mac] = cookies.get('vic')!.slice('eip_session='.length).split('.');
      const swapped = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), n: 'ada' })).toString('base64url');
      assert.equal((await get('/api/me', undefined, { cookie: `eip_session=${swapped}.${mac}` })).statusCode, 401);
    });

    it('takes an API token as a bearer, limited to its parks', async () => {
      const auth = { authorization: `Bearer ${testToken}` };
      assert.deepEqual((await get('/api/me', undefined, auth)).json<Me>(), { name: 'robot', role: 'operator', parks: ['park-b'], via: 'token' });
      assert.equal((await get('/api/me', undefined, { authorization: 'Bearer eipt_wrong' })).statusCode, 401);
      const parks = (await get('/api/parks', undefined, auth)).json<{ parks: Array<{ id: string }> }>();
      assert.deepEqual(parks.parks.map((p) => p.id), ['park-b']);
      assert.equal((await get('/api/parks/park-a', undefined, auth)).statusCode, 403);
      assert.equal((await get('/api/parks/park-b', undefined, auth)).statusCode, 200);
    });

    it('signs out by ending the session on the server, not only clearing the cookie', async () => {
      const signIn = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'vic', password: password('vic') } });
      const session = `eip_session=${signIn.cookies.find((k) => k.name === 'eip_session')!.value}`;
      assert.equal((await get('/api/me', undefined, { cookie: session })).statusCode, 200);
      const res = await c.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: session } });
      assert.equal(res.statusCode, 204);
      const cleared = res.cookies.find((k) => k.name === 'eip_session');
      assert.equal(cleared?.value, '');
      assert.equal((await get('/api/me', undefined, { cookie: session })).statusCode, 401, 'the signed-out cookie, replayed, is refused');
      assert.equal((await get('/api/me', 'vic')).statusCode, 200, 'another session of the same user lives on');
    });
  });

  describe('authorisation by park and role', () => {
    it('lists only the alerts of the caller\'s parks', async () => {
      const all = (await get('/api/alerts', 'olu')).json<AlertList>();
      assert.deepEqual(all.alerts.map((a) => a.fingerprint), ['fp-a1', 'fp-b1']);
      const mine = (await get('/api/alerts', 'ana')).json<AlertList>();
      assert.deepEqual(mine.alerts.map((a) => a.fingerprint), ['fp-a1']);
      assert.equal((await get('/api/alerts?park=park-b', 'ana')).statusCode, 403);
      assert.equal((await get('/api/alerts/fp-b1', 'ana')).statusCode, 404, 'another park\'s alert reads as absent');
      assert.equal((await get('/api/parks/park-b', 'ana')).statusCode, 403);
      assert.equal((await get('/api/parks/nowhere', 'ada')).statusCode, 404);
    });

    it('lets a viewer read but not acknowledge, resolve, silence or see dead letters', async () => {
      assert.equal((await get('/api/alerts', 'vic')).statusCode, 200);
      for (const [url, body] of [['/api/alerts/fp-a1/acknowledge', {}], ['/api/alerts/fp-a1/resolve', {}], ['/api/silences', { park: 'park-a', endsAt: Date.now() + minute }]] as const) {
        const res = await post(url, 'vic', body);
        assert.equal(res.statusCode, 403, url);
        assert.match(res.json<{ message: string }>().message, /viewer/);
      }
      assert.equal((await get('/api/dead-letters', 'vic')).statusCode, 403);
    });

    it('keeps an operator of park A from acting on park B', async () => {
      assert.equal((await post('/api/alerts/fp-b1/acknowledge', 'ana', {})).statusCode, 404);
      assert.equal((await post('/api/silences', 'ana', { park: 'park-b', endsAt: Date.now() + minute })).statusCode, 403);
    });
  });

  describe('validation', () => {
    it('names the bad field of a query', async () => {
      const res = await get('/api/alerts?state=bogus&limit=0', 'olu');
      assert.equal(res.statusCode, 400);
      const body = res.json<{ error: string; issues: Array<{ path: string }> }>();
      assert.equal(body.error, 'invalid-request');
      assert.deepEqual(body.issues.map((i) => i.path).sort(), ['query.limit', 'query.state']);
      const series = await get('/api/parks/park-a/series?from=10&to=5&metric=ph&meter=park-a-outlet', 'olu');
      assert.equal(series.statusCode, 400);
      assert.match(series.json<{ message: string }>().message, /from must be before/);
      assert.equal((await get('/api/parks/park-a/series?from=0&to=5&metric=unobtainium&meter=park-a-outlet', 'olu')).statusCode, 400);
      assert.equal((await get('/api/parks/park-a/series?from=0&to=5&metric=ph', 'olu')).statusCode, 400, 'raw needs a meter');
      const dl = await get('/api/dead-letters?limit=lots', 'olu');
      assert.equal(dl.statusCode, 400);
      assert.deepEqual(dl.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path), ['query.limit']);
    });

    it('names the bad field of a body, and refuses unknown fields and non-JSON', async () => {
      const res = await post('/api/silences', 'olu', { park: 'park-a', endsAt: 'tomorrow', colour: 'red' });
      assert.equal(res.statusCode, 400);
      const paths = res.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path);
      assert.ok(paths.includes('body.endsAt'), paths.join());
      const bad = await c.app.inject({ method: 'POST', url: '/api/session', headers: { 'content-type': 'application/json' }, payload: '{"username":' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json<{ error: string }>().error, 'invalid-request');
      assert.equal((await post('/api/alerts/fp-a1/acknowledge', 'olu', { comment: 42 })).statusCode, 400);
    });
  });

  describe('alerts', () => {
    it('sends acknowledge as a command naming the operator, and answers 202', async () => {
      const res = await post('/api/alerts/fp-a1/acknowledge', 'olu', { comment: 'crew on the way' });
      assert.equal(res.statusCode, 202);
      const { commandId } = res.json<{ commandId: string }>();
      const cmd = await until('the command on the bus', () => commands.map((x) => alertCommandSchema.parse(x)).find((x) => x.commandId === commandId));
      assert.equal(cmd.kind, 'acknowledge');
      assert.ok(cmd.kind === 'acknowledge' && cmd.fingerprint === 'fp-a1' && cmd.by === 'olu' && cmd.comment === 'crew on the way');
      assert.equal((await post('/api/alerts/no-such/resolve', 'olu', {})).statusCode, 404);
    });

    it('shows who acknowledged once the transition arrives, and drops a replayed transition', async () => {
      const acked = alertEvent({ transition: 2, state: 'acknowledged', previousState: 'firing', by: 'olu', at: Date.now() });
      await c.bus.publish([acked, alertEvent()].map((e) => ({ topic: topics.alerts.name, key: e.fingerprint, value: JSON.stringify(e) })));
      const view = await until('acknowledged on the board', async () => {
        const d = (await get('/api/alerts/fp-a1', 'olu')).json<AlertView & { history: unknown[] }>();
        return d.state === 'acknowledged' ? d : undefined;
      });
      assert.equal(view.acknowledgedBy, 'olu');
      await new Promise((r) => setTimeout(r, 200));
      const again = (await get('/api/alerts/fp-a1', 'olu')).json<AlertView & { history: unknown[] }>();
      assert.equal(again.state, 'acknowledged', 'the replayed transition 1 did not win');
      assert.equal(again.history.length, 2);
    });

    it('filters by severity and state', async () => {
      const crit = (await get('/api/alerts?severity=critical', 'olu')).json<AlertList>();
      assert.deepEqual(crit.alerts.map((a) => a.fingerprint), ['fp-a1']);
      const firing = (await get('/api/alerts?state=firing', 'olu')).json<AlertList>();
      assert.deepEqual(firing.alerts.map((a) => a.fingerprint), ['fp-b1']);
    });

    it('marks alerts silenced once the silence command comes back from the bus', async () => {
      const res = await post('/api/silences', 'olu', { park: 'park-b', ruleId: 'ww-ph-range', endsAt: Date.now() + 30 * minute, comment: 'outlet maintenance' });
      assert.equal(res.statusCode, 202);
      const { silenceId } = res.json<{ silenceId: string }>();
      await until('fp-b1 silenced', async () => ((await get('/api/alerts/fp-b1', 'olu')).json<AlertView>().silenced ? true : undefined));
      assert.equal((await get('/api/alerts/fp-a1', 'olu')).json<AlertView>().silenced, false);
      const list = (await get('/api/silences', 'olu')).json<{ silences: Array<{ silenceId: string; by: string }> }>();
      assert.deepEqual(list.silences.map((s) => [s.silenceId, s.by]), [[silenceId, 'olu']]);
      assert.equal((await c.app.inject({ method: 'DELETE', url: `/api/silences/${silenceId}`, headers: { cookie: cookies.get('olu')! } })).statusCode, 202);
      await until('fp-b1 no longer silenced', async () => ((await get('/api/alerts/fp-b1', 'olu')).json<AlertView>().silenced ? undefined : true));
    });

    it('streams the open alerts, then "ready", then changes live (Server-Sent Events)', async () => {
      await c.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (c.app.server.address() as AddressInfo).port;
      const ac = new AbortController();
      const res = await fetch(`http://127.0.0.1:${port}/api/alerts/stream?park=park-a`, { headers: { cookie: cookies.get('ana')! }, signal: ac.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      const readUntil = async (pattern: RegExp): Promise<void> => {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${String(pattern)}`);
          text += Buffer.from(value).toString('utf8');
        }
      };
      await readUntil(/event: ready/);
      assert.match(text, /event: alert\nid: fp-a1:2\n/);
      assert.doesNotMatch(text, /fp-b1/, 'the park filter holds');
      const fresh = alertEvent({ fingerprint: 'fp-a2', meter: 'park-a-elec', metric: 'active_power', severity: 'warning', ruleId: 'elec-demand', summary: 'demand above contract' });
      await c.bus.publish([{ topic: topics.alerts.name, key: fresh.fingerprint, value: JSON.stringify(fresh) }]);
      await readUntil(/id: fp-a2:1/);
      const data = /id: fp-a2:1\ndata: (.*)\n/.exec(text)![1]!;
      assert.equal((JSON.parse(data) as AlertView).summary, 'demand above contract');
      ac.abort();
    });
  });

  describe('parks, series, totals', () => {
    it('shows meter health from status, readings and deadman alerts', async () => {
      const t = Date.now();
      await c.bus.publish([
        { topic: topics.meterStatus.name, key: 'park-a-elec', value: JSON.stringify({ v: 1, park: 'park-a', tenant: 'park-a-smelter', meter: 'park-a-elec', status: 'online', cause: 'birth', at: t - minute }) },
        { topic: topics.readings.name, key: 'park-a-elec', value: '{}', timestamp: t },
        { topic: topics.alerts.name, key: 'fp-dead', value: JSON.stringify(alertEvent({ fingerprint: 'fp-dead', ruleId: 'ww-monitor-silent', meter: 'park-a-outlet', severity: 'data-quality', at: t - 2 * minute })) },
      ]);
      const park = await until('health', async () => {
        const p = (await get('/api/parks/park-a', 'olu')).json<{ tenantViews: Array<{ meters: Array<{ id: string; health: { status: string; cause: string; lastSeen: number | null } }> }> }>();
        const [elec, outlet] = p.tenantViews[0]!.meters;
        // Status, readings and alerts arrive on separate topics: wait for all three.
        return elec!.health.lastSeen === t && elec!.health.cause !== 'none' && outlet!.health.cause !== 'none' ? p : undefined;
      });
      const [elec, outlet] = park.tenantViews[0]!.meters;
      assert.equal(elec!.health.status, 'online');
      assert.equal(elec!.health.cause, 'birth');
      assert.equal(outlet!.health.status, 'offline');
      assert.equal(outlet!.health.cause, 'deadman');
    });

    it('returns a meter\'s raw readings with its permit limits', async () => {
      const t0 = Date.parse('2026-11-20T00:00:00Z');
      await c.store.writeReadings([6.5, 5.4, 9.3].map((value, i) => ({ park: 'park-a', tenant: 'park-a-smelter', meter: 'park-a-outlet', metric: 'ph', unit: 'pH', value, ts: t0 + i * 2 * minute })));
      const s = (await get(`/api/parks/park-a/series?meter=park-a-outlet&metric=ph&from=${t0}&to=${t0 + 10 * minute}`, 'vic')).json<Series>();
      assert.deepEqual(s.points, [[t0, 6.5], [t0 + 2 * minute, 5.4], [t0 + 4 * minute, 9.3]]);
      assert.deepEqual(s.limits, { min: 6, max: 9 });
      assert.equal(s.unit, 'pH');
      assert.equal(s.truncated, false);
      const cut = (await get(`/api/parks/park-a/series?meter=park-a-outlet&metric=ph&from=${t0}&to=${t0 + 10 * minute}&limit=2`, 'vic')).json<Series>();
      assert.equal(cut.points.length, 2);
      assert.equal(cut.truncated, true);
    });

    it('adds month-to-date consumption from day, hour and minute windows against the budget', async () => {
      const now = Date.now();
      const agg = (window: '1d' | '1h' | '1m', start: number, consumption: number) => ({
        scope: 'tenant' as const, park: 'park-b', tenant: 'park-b-smelter', metric: 'active_energy_import', unit: 'kWh', window, start,
        count: 1, sum: 0, min: 0, max: 0, mean: 0, last: 0, consumption,
      });
      const hourStart = Math.floor(now / 3_600_000) * 3_600_000;
      // One closed minute of this hour; a 1-minute window still open must not count.
      const points = [agg('1m', hourStart, 7), agg('1m', Math.floor(now / minute) * minute, 1000)];
      await c.store.writeAggregates(points);
      const totals = (await get('/api/parks/park-b/totals', 'olu')).json<ParkTotals>();
      const tenant = totals.tenants[0]!;
      assert.equal(tenant.energyKwh, hourStart + minute <= now - (now % minute) ? 7 : null);
      assert.equal(totals.energyKwh.value, tenant.energyKwh);
      assert.equal(tenant.co2eKg, tenant.energyKwh === null ? null : tenant.energyKwh * 0.8);
      assert.equal(totals.co2eKg.budget, 1_000_000);
      assert.ok(totals.co2eKg.budgetToDate! > 0 && totals.co2eKg.budgetToDate! <= 1_000_000);
    });
  });

  describe('logs', () => {
    it('name users and routes but never a password, token or session cookie', () => {
      const text = logLines.join('');
      assert.match(text, /"msg":"signed in"/);
      assert.match(text, /"user":"olu"/);
      assert.match(text, /"msg":"sign-in refused"/);
      for (const user of ['ada', 'olu', 'vic', 'ana']) assert.ok(!text.includes(password(user)), `no password of ${user}`);
      assert.ok(!text.includes('nope'), 'no wrong password either');
      assert.ok(!text.includes(testToken), 'no API token');
      for (const cookie of cookies.values()) assert.ok(!text.includes(cookie.split('=')[1]!.split('.')[1]!), 'no session signature');
    });
  });

  describe('dead letters, rule pack, OpenAPI, UI', () => {
    it('shows dead letters with their reason to operators, by park', async () => {
      const letter = (source: string, reason: string) => ({ v: 1, reason, detail: `${reason} detail`, stage: 'ingest', source, payloadBase64: Buffer.from('{"v":1,').toString('base64'), receivedAt: Date.now() });
      await c.bus.publish([
        { topic: topics.deadLetters.name, key: 'ingest', value: JSON.stringify(letter('eip/park-a/park-a-smelter/park-a-elec/telemetry', 'not-json')) },
        { topic: topics.deadLetters.name, key: 'ingest', value: JSON.stringify(letter('eip/park-b/park-b-smelter/park-b-elec/telemetry', 'schema')) },
        { topic: topics.deadLetters.name, key: 'rules', value: JSON.stringify(letter('eip.readings.v1/3@17', 'bad-event')) },
      ]);
      const all = await until('three letters', async () => {
        const l = (await get('/api/dead-letters', 'olu')).json<DeadLetterList>();
        return l.deadLetters.length === 3 ? l : undefined;
      });
      assert.deepEqual(all.deadLetters.map((d) => d.reason), ['bad-event', 'schema', 'not-json']);
      assert.equal(all.deadLetters[2]!.payloadText, '{"v":1,');
      assert.deepEqual(all.byReason, { 'not-json': 1, schema: 1, 'bad-event': 1 });
      const anas = (await get('/api/dead-letters', 'ana')).json<DeadLetterList>();
      assert.deepEqual(anas.deadLetters.map((d) => d.reason), ['not-json']);
      assert.deepEqual(anas.byReason, { 'not-json': 1 }, 'counts by reason cover only the letters of the caller\'s parks');
    });

    it('serves the rule pack the rules service runs', async () => {
      const pack = (await get('/api/rule-pack', 'vic')).json<{ name: string; rules: Array<{ id: string; kind: string; source?: string; spec: { id?: string } }> }>();
      assert.equal(pack.name, 'eip-default');
      const ph = pack.rules.find((r) => r.id === 'ww-ph-range')!;
      assert.equal(ph.kind, 'consecutive');
      assert.match(ph.source!, /pH 6.0 to 9.0/);
      assert.equal(ph.spec.id, 'ww-ph-range');
    });

    it('publishes an OpenAPI document covering every route, with schemas', async () => {
      const doc = (await get('/api/openapi.json')).json<{ openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { type?: string; properties?: object } }> }> }>> }>();
      assert.equal(doc.openapi, '3.1.0');
      for (const path of ['/api/session', '/api/me', '/api/parks', '/api/alerts', '/api/alerts/stream', '/api/silences', '/api/rule-pack', '/api/dead-letters']) assert.ok(doc.paths[path], `${path} documented`);
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const method of Object.keys(methods)) {
          const url = path.replace(/\{(\w+)\}/g, ':$1');
          assert.ok(c.app.hasRoute({ method: method.toUpperCase(), url }), `${method} ${path} is served`);
        }
      }
      // And the other way round: every API route served is in the document.
      const documented = new Set(Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)));
      const apiRoutes = c.app.servedRoutes.filter((r) => r.split(' ')[1]!.startsWith('/api/'));
      assert.ok(apiRoutes.length >= 18, apiRoutes.join(', '));
      for (const route of apiRoutes) assert.ok(documented.has(route), `${route} is in the OpenAPI document`);
      const alertSchema = doc.paths['/api/alerts/{fingerprint}']!.get!.responses['200']!.content!['application/json']!.schema;
      assert.equal(alertSchema.type, 'object');
      assert.ok(alertSchema.properties && 'provenance' in alertSchema.properties);
    });

    it('serves the UI at / and for unknown non-API paths, and 404 JSON for unknown API paths', async () => {
      for (const url of ['/', '/somewhere']) {
        const res = await get(url);
        assert.equal(res.statusCode, 200);
        assert.match(res.headers['content-type'] as string, /text\/html/);
      }
      const api = await get('/api/nothing-here', 'olu');
      assert.equal(api.statusCode, 404);
      assert.equal(api.json<{ error: string }>().error, 'not-found');
    });
  });
});
