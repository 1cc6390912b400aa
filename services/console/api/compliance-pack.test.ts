/**
 * The compliance pack route: operators and admins get the PDF or the zip,
 * viewers 403, other parks 403 and unknown tenants 404; and the alert history
 * fallback: an alert only the store still has (older than the alerts topic
 * keeps) is listed and shown with who acknowledged it, to its park only.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { strFromU8, unzipSync } from 'fflate';
import { startTestConsole, password, testToken, type TestConsole } from '../testing.ts';
import { eventsOfPoints, mergeHistory } from '../alert-history.ts';

const HOUR = 3_600_000;
// Mid-month a year ago, so the alert's hour lies inside one local month.
const yearAgo = ((d) => Date.UTC(d.getUTCFullYear() - 1, d.getUTCMonth(), 15, 4))(new Date());

describe('compliance pack route and alert history beyond the bus', () => {
  let c: TestConsole;
  const cookies = new Map<string, string>();
  const as = (user: string) => ({ cookie: cookies.get(user)! });

  before(async () => {
    c = await startTestConsole();
    for (const user of ['ada', 'olu', 'vic', 'ana']) {
      const res = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: user, password: password(user) } });
      assert.equal(res.statusCode, 200, res.body);
      cookies.set(user, `eip_session=${res.cookies.find((k) => k.name === 'eip_session')!.value}`);
    }
    const base = { ruleId: 'outlet-cod', severity: 'critical', park: 'park-a', tenant: 'park-a-smelter', meter: 'park-a-outlet', metric: 'cod', summary: 'COD above 100' };
    await c.store.writeAlertEvents([
      { ...base, fingerprint: 'fp-old', state: 'firing', value: 130, threshold: 100, at: yearAgo, transition: 1 },
      { ...base, fingerprint: 'fp-old', state: 'acknowledged', at: yearAgo + 60_000, transition: 2, by: 'rina' },
      { ...base, fingerprint: 'fp-old', state: 'resolved', at: yearAgo + HOUR, transition: 3, by: 'rina' },
    ]);
  });
  after(async () => c.close());

  const url = (park: string, q: string) => `/api/parks/${park}/compliance-pack?month=2026-11${q}`;

  it('serves operators and admins the PDF and the zip; refuses viewers, other parks and bad queries', async () => {
    const pdf = await c.app.inject({ method: 'GET', url: url('park-a', '&format=pdf'), headers: as('olu') });
    assert.equal(pdf.statusCode, 200, pdf.body.slice(0, 200));
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.match(String(pdf.headers['content-disposition']), /compliance-pack-park-a-2026-11\.pdf/);
    assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    const zip = await c.app.inject({ method: 'GET', url: url('park-a', '&format=zip&tenant=park-a-smelter'), headers: as('ada') });
    assert.equal(zip.statusCode, 200);
    assert.equal(zip.headers['content-type'], 'application/zip');
    const files = unzipSync(new Uint8Array(zip.rawPayload));
    assert.match(strFromU8(files['exceedances.csv']!), /park-a-outlet,cod,mg\/L,,100,permit/);
    const token = await c.app.inject({ method: 'GET', url: url('park-b', '&format=zip'), headers: { authorization: `Bearer ${testToken}` } });
    assert.equal(token.statusCode, 200, 'an operator token of park-b');
    assert.equal((await c.app.inject({ method: 'GET', url: url('park-a', ''), headers: as('vic') })).statusCode, 403, 'viewer');
    assert.equal((await c.app.inject({ method: 'GET', url: url('park-b', ''), headers: as('ana') })).statusCode, 403, 'an operator of park-a at park-b');
    assert.equal((await c.app.inject({ method: 'GET', url: url('park-a', ''), headers: { authorization: `Bearer ${testToken}` } })).statusCode, 403, 'the park-b token at park-a');
    assert.equal((await c.app.inject({ method: 'GET', url: url('park-a', '&tenant=park-b-smelter'), headers: as('olu') })).statusCode, 404, 'another park\'s tenant');
    assert.equal((await c.app.inject({ method: 'GET', url: url('nowhere', ''), headers: as('ada') })).statusCode, 404);
    assert.equal((await c.app.inject({ method: 'GET', url: '/api/parks/park-a/compliance-pack?month=2026-13', headers: as('olu') })).statusCode, 400);
    assert.equal((await c.app.inject({ method: 'GET', url: url('park-a', '&format=docx'), headers: as('olu') })).statusCode, 400);
    assert.equal((await c.app.inject({ method: 'GET', url: url('park-a', '') })).statusCode, 401);
  });

  it('shows an alert only the store has, with who acknowledged and resolved it, within its park', async () => {
    assert.equal(c.models.alerts.get('fp-old'), undefined, 'not on the bus');
    const detail = await c.app.inject({ method: 'GET', url: '/api/alerts/fp-old', headers: as('ana') });
    assert.equal(detail.statusCode, 200, detail.body);
    const d = JSON.parse(detail.body) as { state: string; acknowledgedBy?: string; resolvedBy?: string; history: Array<{ state: string; provenance: { values: number[]; threshold?: number } }> };
    assert.equal(d.state, 'resolved');
    assert.equal(d.acknowledgedBy, 'rina');
    assert.equal(d.resolvedBy, 'rina');
    assert.deepEqual(d.history.map((h) => h.state), ['firing', 'acknowledged', 'resolved']);
    assert.deepEqual(d.history[0]!.provenance, { values: [130], threshold: 100 });
    assert.equal((await c.app.inject({ method: 'GET', url: '/api/alerts/fp-old', headers: { authorization: `Bearer ${testToken}` } })).statusCode, 404, 'another park\'s caller');
    const list = await c.app.inject({ method: 'GET', url: `/api/alerts?state=all&from=${yearAgo - HOUR}`, headers: as('ana') });
    assert.equal(list.statusCode, 200);
    assert.deepEqual((JSON.parse(list.body) as { alerts: Array<{ fingerprint: string }> }).alerts.map((a) => a.fingerprint), ['fp-old']);
    const recent = await c.app.inject({ method: 'GET', url: `/api/alerts?state=all&from=${Date.now() - 86_400_000}`, headers: as('ana') });
    assert.deepEqual((JSON.parse(recent.body) as { alerts: unknown[] }).alerts, [], 'a recent period is the read model\'s');
    const other = await c.app.inject({ method: 'GET', url: `/api/alerts?state=all&from=${yearAgo - HOUR}`, headers: { authorization: `Bearer ${testToken}` } });
    assert.deepEqual((JSON.parse(other.body) as { alerts: unknown[] }).alerts, []);
    // The pack of that month lists it with who handled it, and every transition.
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Makassar', year: 'numeric', month: '2-digit' }).format(yearAgo).slice(0, 7);
    const zip = await c.app.inject({ method: 'GET', url: `/api/parks/park-a/compliance-pack?month=${month}&format=zip`, headers: as('ana') });
    assert.equal(zip.statusCode, 200);
    const files = unzipSync(new Uint8Array(zip.rawPayload));
    const alerts = strFromU8(files['alerts.csv']!).trim().split('\r\n');
    assert.equal(alerts.length, 2, alerts.join('\n'));
    assert.match(alerts[1]!, /^fp-old,outlet-cod,critical,park-a-smelter,park-a-outlet,cod,.*,resolved,COD above 100,100,130,rina,.*,rina,/);
    assert.equal(strFromU8(files['alert-transitions.csv']!).trim().split('\r\n').length, 4);
  });

  it('merges the store\'s history under the read model\'s without doubling a transition', () => {
    const stored = eventsOfPoints([
      { fingerprint: 'fp', ruleId: 'r', state: 'firing', severity: 'warning', park: 'p', summary: 's', at: 1_000, transition: 1 },
      { fingerprint: 'fp', ruleId: 'r', state: 'acknowledged', severity: 'warning', park: 'p', summary: 's', at: 2_000, by: 'rina' },
      { fingerprint: 'fp', ruleId: 'r', state: 'nonsense', severity: 'warning', park: 'p', summary: 's', at: 2_500 },
    ]);
    assert.deepEqual(stored.map((e) => [e.transition, e.state, e.previousState, e.by]), [[1, 'firing', null, undefined], [2, 'acknowledged', 'firing', 'rina']]);
    const fromBus = [{ ...stored[0]!, ruleVersion: 3, provenance: { values: [1, 2] } }];
    const merged = mergeHistory(fromBus, stored);
    assert.deepEqual(merged.map((e) => [e.transition, e.ruleVersion]), [[1, 3], [2, 0]]);
  });
});
