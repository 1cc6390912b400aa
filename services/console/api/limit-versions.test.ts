/** The console shows which dated version applied: the limit on an alert, the emission factors behind the month's CO2e. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { topics } from '../../../shared/contracts/kafka-topics.ts';
import { alertEventSchema, type AlertEvent } from '../../../shared/contracts/events.ts';
import { startTestConsole, password, type TestConsole } from '../testing.ts';
import { eventually } from '../../../test/helpers/bus.ts';
import type { AlertDetail, ParkTotals } from './schemas.ts';

const limit = { reference: 'PTek 17/2021 rev. 1', from: '2026-11-15', to: '2027-11-15' };

function alertEvent(over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    v: 1, fingerprint: 'fp-dated', transition: 1, state: 'firing', previousState: null, severity: 'critical', ruleId: 'ww-cod-mean', ruleVersion: 1,
    park: 'park-a', tenant: 'park-a-smelter', meter: 'park-a-outlet', metric: 'cod', summary: 'COD 60-min mean 120 above 100',
    provenance: { values: [120], threshold: 100, detail: '1h mean 120; above 100 (permit, PTek 17/2021 rev. 1 from 2026-11-15 to 2027-11-15)', limit },
    at: Date.now(), simulated: false, ...over,
  };
}

describe('console API: dated versions', () => {
  let c: TestConsole;
  let cookie = '';
  before(async () => {
    c = await startTestConsole();
    const res = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'olu', password: password('olu') } });
    cookie = `eip_session=${res.cookies.find((k) => k.name === 'eip_session')!.value}`;
  });
  after(() => c.close());
  const get = (url: string) => c.app.inject({ method: 'GET', url, headers: { cookie } });

  it('the alert detail and its history carry the limit version that applied', async () => {
    const events = [alertEvent(), alertEvent({ fingerprint: 'fp-undated', provenance: { values: [120], threshold: 100 } })];
    await c.bus.publish(events.map((e) => ({ topic: topics.alerts.name, key: e.fingerprint, value: JSON.stringify(e) })));
    const detail = await eventually(async () => {
      const r = await get('/api/alerts/fp-dated');
      return r.statusCode === 200 ? r.json<AlertDetail>() : undefined;
    }, 10_000, 'the dated alert on the board', 25);
    assert.deepEqual(detail.provenance.limit, limit);
    assert.deepEqual(detail.history.map((h) => h.provenance.limit), [limit]);
    // An event of an older release (no version) still reads, without one.
    const undated = await eventually(async () => {
      const r = await get('/api/alerts/fp-undated');
      return r.statusCode === 200 ? r.json<AlertDetail>() : undefined;
    }, 10_000, 'the undated alert on the board', 25);
    assert.equal(undated.provenance.limit, undefined);
    assert.ok(alertEventSchema.safeParse(undated).success);
  });

  it('the month totals name the emission factor version each tenant used', async () => {
    const totals = (await get('/api/parks/park-a/totals')).json<ParkTotals>();
    const tenant = totals.tenants[0]!;
    assert.equal(tenant.factors.length, 1, 'an undated factor: one version for the whole month');
    assert.deepEqual({ kg: tenant.factors[0]!.kgCo2ePerKwh, reference: tenant.factors[0]!.reference, validFrom: tenant.factors[0]!.validFrom }, { kg: 0.8, reference: 'test', validFrom: undefined });
    assert.equal(tenant.factors[0]!.from, totals.from);
  });
});
