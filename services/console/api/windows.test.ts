/**
 * The console API over stored windows: window points carry count, expected,
 * completeness, revision and register events; a tenant's incomplete hours and
 * register events; `from` / `to` as epoch milliseconds or ISO 8601 on every
 * route that takes them. On the embedded adapters with a fixed clock.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { topics } from '../../../shared/contracts/kafka-topics.ts';
import type { AggregatePoint } from '../../../shared/ports/time-series.ts';
import { eventually } from '../../../test/helpers/bus.ts';
import { startTestConsole, password, type TestConsole } from '../testing.ts';
import type { AlertList, ErrorBody, Series, TenantQuality } from './schemas.ts';

const minute = 60_000;
const hour = 60 * minute;
const T = Date.parse('2026-11-20T00:00:00Z');
/** Ten minutes into the seventh hour: hours T..T+5h are closed and past the grace, T+6h is open. */
const NOW = T + 6 * hour + 10 * minute;

const meterWindow = (over: Partial<AggregatePoint> & Pick<AggregatePoint, 'meter' | 'metric' | 'window' | 'start'>): AggregatePoint => ({
  scope: 'meter', park: 'park-a', tenant: 'park-a-smelter', unit: over.metric === 'ph' ? 'pH' : 'kWh',
  count: 30, sum: 210, min: 6.8, max: 7.2, mean: 7, last: 7.1, ...over,
});

describe('console API: windows, data quality, instants', () => {
  let c: TestConsole;
  let cookie = '';

  before(async () => {
    c = await startTestConsole({ now: () => NOW });
    const res = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'vic', password: password('vic') } });
    assert.equal(res.statusCode, 200, res.body);
    cookie = `eip_session=${res.cookies.find((k) => k.name === 'eip_session')!.value}`;
    const ph = (start: number, count: number, revision: number) => meterWindow({ meter: 'park-a-outlet', metric: 'ph', window: '1h', start, count, expected: 30, completeness: count / 30, revision });
    const energy = (window: '1h' | '1m', start: number, consumption: number, registerEvents: string[]) => meterWindow({
      meter: 'park-a-elec', metric: 'active_energy_import', window, start, count: window === '1h' ? 60 : 1, expected: window === '1h' ? 60 : 1,
      completeness: 1, revision: 0, consumption, registerEvents, sum: 0, min: 0, max: 0, mean: 0, last: 0,
    });
    await c.store.writeAggregates([
      // pH: a complete hour, one revised twice and still two thirds full, nothing at T+2h, a complete T+3h, then silence.
      ph(T, 30, 0), ph(T + hour, 20, 2), ph(T + 3 * hour, 30, 0),
      // Energy: a rollover at 01:32 (its minute kept), a reset in the 02:00 hour (no minute kept), then silence.
      energy('1h', T, 5, []), energy('1h', T + hour, 0.7, ['rollover']), energy('1h', T + 2 * hour, 0, ['reset', 'bogus']),
      energy('1m', T + hour + 31 * minute, 0.1, []), energy('1m', T + hour + 32 * minute, 0.7, ['rollover']),
      // A roll-up: its events are not a meter's, and it has no completeness.
      { ...energy('1h', T + hour, 0.7, ['rollover']), scope: 'tenant', meter: undefined, completeness: undefined, expected: undefined },
      // The other park: never in park A's answers.
      { ...ph(T + hour, 1, 0), park: 'park-b', tenant: 'park-b-smelter', meter: 'park-b-outlet' },
    ]);
  });
  after(() => c.close());

  const get = (url: string) => c.app.inject({ method: 'GET', url, headers: { cookie } });
  const quality = async (query: string): Promise<TenantQuality> => {
    const res = await get(`/api/parks/park-a/tenants/park-a-smelter/quality?${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<TenantQuality>();
  };

  describe('window points', () => {
    it('carry count, expected, completeness, incomplete, revision and register events', async () => {
      const s = (await get(`/api/parks/park-a/series?meter=park-a-outlet&metric=ph&source=window&window=1h&from=${T}&to=${T + 6 * hour}`)).json<Series>();
      assert.deepEqual(s.points, [[T, 7], [T + hour, 7], [T + 3 * hour, 7]]);
      assert.equal(s.minCompleteness, 0.75);
      assert.deepEqual(s.windows, [
        { start: T, value: 7, count: 30, expected: 30, completeness: 1, incomplete: false, revision: 0, registerEvents: [] },
        { start: T + hour, value: 7, count: 20, expected: 30, completeness: 20 / 30, incomplete: true, revision: 2, registerEvents: [] },
        { start: T + 3 * hour, value: 7, count: 30, expected: 30, completeness: 1, incomplete: false, revision: 0, registerEvents: [] },
      ]);
      const lenient = (await get(`/api/parks/park-a/series?meter=park-a-outlet&metric=ph&source=window&window=1h&from=${T}&to=${T + 6 * hour}&minCompleteness=0.5`)).json<Series>();
      assert.deepEqual(lenient.windows!.map((w) => w.incomplete), [false, false, false], 'the threshold is the caller\'s to lower');
    });

    it('mark register events on meter windows, and on roll-ups without completeness', async () => {
      const meter = (await get(`/api/parks/park-a/series?meter=park-a-elec&metric=active_energy_import&source=window&window=1h&field=consumption&from=${T}&to=${T + 6 * hour}`)).json<Series>();
      assert.deepEqual(meter.windows!.map((w) => [w.start, w.value, w.registerEvents]), [[T, 5, []], [T + hour, 0.7, ['rollover']], [T + 2 * hour, 0, ['reset']]],
        'an event the contract does not know is left out');
      const tenant = (await get(`/api/parks/park-a/series?tenant=park-a-smelter&metric=active_energy_import&source=window&window=1h&field=consumption&from=${T}&to=${T + 6 * hour}`)).json<Series>();
      assert.equal(tenant.scope, 'tenant');
      assert.deepEqual(tenant.windows, [{ start: T + hour, value: 0.7, count: 60, revision: 0, registerEvents: ['rollover'] }]);
    });

    it('are absent from raw series', async () => {
      const raw = (await get(`/api/parks/park-a/series?meter=park-a-outlet&metric=ph&from=${T}&to=${T + hour}`)).json<Series>();
      assert.equal(raw.windows, undefined);
    });
  });

  describe('from and to', () => {
    const series = (from: string, to: string) => get(`/api/parks/park-a/series?meter=park-a-outlet&metric=ph&source=window&window=1h&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);

    it('accept epoch milliseconds and ISO 8601 with Z or an offset, to the same answer', async () => {
      const epoch = (await series(String(T + hour), String(T + 4 * hour))).json<Series>();
      assert.equal(epoch.points.length, 2);
      for (const [from, to] of [
        ['2026-11-20T01:00:00Z', '2026-11-20T04:00:00Z'],
        ['2026-11-20T09:00:00+08:00', '2026-11-20T12:00:00.000+08:00'],
        ['2026-11-19T20:00-05:00', '2026-11-20T04:00:00Z'],
        [String(T + hour), '2026-11-20T04:00:00Z'],
      ] as const) {
        const res = await series(from, to);
        assert.equal(res.statusCode, 200, `${from} .. ${to}: ${res.body}`);
        assert.deepEqual(res.json<Series>().points, epoch.points, `${from} .. ${to}`);
      }
      // A "+" left unencoded reads as a space in a query string: still the offset it was.
      const raw = await get(`/api/parks/park-a/series?meter=park-a-outlet&metric=ph&source=window&window=1h&from=2026-11-20T09:00:00+08:00&to=${T + 4 * hour}`);
      assert.deepEqual(raw.json<Series>().points, epoch.points);
    });

    it('refuse anything else, naming the field and the accepted forms', async () => {
      for (const bad of ['2026-11-20T01:00:00', '2026-11-20', '2026-11-31T00:00:00Z', 'yesterday', '-1', '1e12', '99999999999999999', '2026-11-20T25:00:00Z']) {
        const res = await series(bad, String(T + 4 * hour));
        assert.equal(res.statusCode, 400, bad);
        const body = res.json<ErrorBody>();
        assert.equal(body.error, 'invalid-request');
        assert.deepEqual(body.issues?.map((i) => i.path), ['query.from'], bad);
        assert.match(body.issues[0]!.message, /epoch milliseconds .* or ISO 8601 with Z or an offset/, bad);
      }
      const twice = await get(`/api/parks/park-a/series?meter=park-a-outlet&metric=ph&from=1&from=2&to=${T}`);
      assert.equal(twice.statusCode, 400);
      assert.deepEqual(twice.json<ErrorBody>().issues?.map((i) => i.path), ['query.from']);
      const backwards = await series('2026-11-20T04:00:00Z', '2026-11-20T01:00:00Z');
      assert.equal(backwards.statusCode, 400);
      assert.match(backwards.json<ErrorBody>().message, /from must be before/);
    });

    it('say which are required when missing', async () => {
      for (const url of ['/api/parks/park-a/series?meter=park-a-outlet&metric=ph', '/api/parks/park-a/tenants/park-a-smelter/quality']) {
        const res = await get(url);
        assert.equal(res.statusCode, 400, url);
        const body = res.json<ErrorBody>();
        assert.deepEqual(body.issues?.map((i) => i.path), ['query.from', 'query.to'], url);
        for (const i of body.issues) assert.match(i.message, /^required: epoch milliseconds .* or ISO 8601/);
        assert.match(body.message, /query\.from: required.*query\.to: required/);
      }
      const onlyTo = await get(`/api/parks/park-a/series?meter=park-a-outlet&metric=ph&from=${T}`);
      assert.deepEqual(onlyTo.json<ErrorBody>().issues?.map((i) => i.path), ['query.to']);
    });

    it('filter the alert list in either form, and stay optional there', async () => {
      const at = Date.now();
      await c.bus.publish([{ topic: topics.alerts.name, key: 'fp-w1', value: JSON.stringify({
        v: 1, fingerprint: 'fp-w1', transition: 1, state: 'firing', previousState: null, severity: 'warning', ruleId: 'r', ruleVersion: 1,
        park: 'park-a', tenant: 'park-a-smelter', meter: 'park-a-outlet', metric: 'ph', summary: 'pH', provenance: { values: [5] }, at, simulated: false,
      }) }]);
      await eventually(() => (c.models.alerts.size === 1 ? true : undefined), 10_000, 'the alert on the board', 25);
      const list = async (q: string) => (await get(`/api/alerts?state=all${q}`)).json<AlertList>().alerts.map((a) => a.fingerprint);
      assert.deepEqual(await list(''), ['fp-w1']);
      assert.deepEqual(await list(`&from=${at}`), ['fp-w1']);
      assert.deepEqual(await list(`&from=${encodeURIComponent(new Date(at).toISOString())}`), ['fp-w1']);
      assert.deepEqual(await list(`&to=${encodeURIComponent(new Date(at).toISOString())}`), [], 'to is exclusive');
      assert.deepEqual(await list(`&from=${encodeURIComponent(new Date(at + 1).toISOString().replace('Z', '+00:00'))}`), []);
      const bad = await get('/api/alerts?from=2026-11-20T00:00:00');
      assert.equal(bad.statusCode, 400);
      assert.deepEqual(bad.json<ErrorBody>().issues?.map((i) => i.path), ['query.from']);
    });
  });

  describe('a tenant\'s data quality', () => {
    it('lists incomplete and missing hours, newest first, and what each stream was judged on', async () => {
      const q = await quality(`from=${T}&to=${T + 7 * hour}`);
      assert.equal(q.minCompleteness, 0.75);
      assert.deepEqual(q.incompleteHours.map((h) => [h.start - T, h.meter, h.metric, h.count, h.completeness, h.missing]), [
        [5 * hour, 'park-a-elec', 'active_energy_import', 0, 0, true],
        [5 * hour, 'park-a-outlet', 'ph', 0, 0, true],
        [4 * hour, 'park-a-elec', 'active_energy_import', 0, 0, true],
        [4 * hour, 'park-a-outlet', 'ph', 0, 0, true],
        [3 * hour, 'park-a-elec', 'active_energy_import', 0, 0, true],
        [2 * hour, 'park-a-outlet', 'ph', 0, 0, true],
        [hour, 'park-a-outlet', 'ph', 20, 20 / 30, false],
      ], 'the open hour T+6h is not missing yet, and park B is not here');
      assert.deepEqual(q.incompleteHours.at(-1), { meter: 'park-a-outlet', metric: 'ph', start: T + hour, count: 20, expected: 30, completeness: 20 / 30, revision: 2, missing: false });
      assert.equal(q.incompleteHours[0]!.expected, 60, 'a missing hour expects what the cadence gives it');
      assert.deepEqual(q.streams, [
        { meter: 'park-a-elec', metric: 'active_energy_import', hours: 6, incomplete: 3, registerEvents: 2 },
        { meter: 'park-a-elec', metric: 'active_power', hours: 0, incomplete: 0, registerEvents: 0 },
        { meter: 'park-a-outlet', metric: 'ph', hours: 6, incomplete: 4, registerEvents: 0 },
        { meter: 'park-a-outlet', metric: 'cod', hours: 0, incomplete: 0, registerEvents: 0 },
      ]);
      assert.equal(q.truncated, false);
    });

    it('lists register events by meter, to the minute where the minute is kept', async () => {
      const q = await quality(`from=${encodeURIComponent('2026-11-20T08:00:00+08:00')}&to=2026-11-20T07:00:00Z`);
      assert.deepEqual(q.registerEvents, [
        { meter: 'park-a-elec', metric: 'active_energy_import', at: T + 2 * hour, window: '1h', event: 'reset', consumption: 0, revision: 0 },
        { meter: 'park-a-elec', metric: 'active_energy_import', at: T + hour + 32 * minute, window: '1m', event: 'rollover', consumption: 0.7, revision: 0 },
      ]);
    });

    it('takes the threshold and a row limit', async () => {
      const lenient = await quality(`from=${T}&to=${T + 7 * hour}&minCompleteness=0.5`);
      assert.equal(lenient.incompleteHours.filter((h) => !h.missing).length, 0);
      const cut = await quality(`from=${T}&to=${T + 7 * hour}&limit=2`);
      assert.deepEqual(cut.incompleteHours.map((h) => h.start - T), [5 * hour, 5 * hour]);
      assert.equal(cut.registerEvents.length, 2);
      assert.equal(cut.truncated, true);
      const narrow = await quality(`from=${T + 3 * hour}&to=${T + 4 * hour}`);
      assert.deepEqual(narrow.incompleteHours, [], 'a stream judged only from its first hour in the range, and only to the range\'s end');
      assert.deepEqual(narrow.registerEvents, []);
    });

    it('refuses a bad range, an unknown tenant and a threshold out of bounds', async () => {
      const status = async (url: string) => (await get(url)).statusCode;
      const base = '/api/parks/park-a/tenants/park-a-smelter/quality';
      assert.equal(await status(`${base}?from=${T}&to=${T + 32 * 86_400_000}`), 400);
      assert.match((await get(`${base}?from=${T}&to=${T + 32 * 86_400_000}`)).json<ErrorBody>().message, /at most 31 days/);
      assert.equal(await status(`${base}?from=${T + hour}&to=${T}`), 400);
      assert.equal(await status(`${base}?from=${T}&to=${T + hour}&minCompleteness=2`), 400);
      assert.equal(await status(`${base}?from=${T}&to=${T + hour}&colour=red`), 400);
      assert.equal(await status(`/api/parks/park-a/tenants/nobody/quality?from=${T}&to=${T + hour}`), 404);
      assert.equal(await status(`/api/parks/park-a/tenants/park-b-smelter/quality?from=${T}&to=${T + hour}`), 404);
    });
  });

  it('documents the forms, what is required, and the data-quality route in the OpenAPI document', async () => {
    type Param = { name: string; required: boolean; schema: { description?: string; examples?: string[] } };
    const doc = (await get('/api/openapi.json')).json<{ paths: Record<string, { get: { parameters: Param[] } }> }>();
    const param = (path: string, name: string) => doc.paths[path]!.get.parameters.find((p) => p.name === name)!;
    for (const path of ['/api/parks/{park}/series', '/api/parks/{park}/tenants/{tenant}/quality']) {
      for (const name of ['from', 'to']) {
        assert.equal(param(path, name).required, true, `${path} ${name}`);
        assert.match(param(path, name).schema.description ?? '', /epoch milliseconds .* ISO 8601 with Z or an offset/);
        assert.ok(param(path, name).schema.examples?.includes('2026-12-01T08:00:00+08:00'), 'with examples of both forms');
      }
      assert.equal(param(path, 'minCompleteness').required, false);
    }
    assert.equal(param('/api/alerts', 'from').required, false);
    assert.match(param('/api/alerts', 'from').schema.description ?? '', /ISO 8601/);
    assert.equal(param('/api/parks/{park}/series', 'metric').required, true);
    assert.equal(param('/api/parks/{park}/series', 'limit').required, false);
  });
});
