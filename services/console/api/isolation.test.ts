/**
 * The console's isolation table: every park-scoped caller (each role, a session
 * or an API token) against the other park's data over every console path: the
 * alert list and its filters, alert detail, commands (acknowledge, resolve,
 * silence, unsilence), silences, parks and meter health, series, data quality, totals, submissions, dead
 * letters and their counts, the compliance pack, the rule pack, session revocation and the live
 * stream. Each refusal row expects 403 / 404, or the other park filtered out of
 * the answer; the control rows show the same caller reaching its own park.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { topics } from '../../../shared/contracts/kafka-topics.ts';
import { alertCommandSchema, type AlertCommand, type AlertEvent } from '../../../shared/contracts/events.ts';
import type { ConsumedBatch } from '../../../shared/ports/event-bus.ts';
import { eventually } from '../../../test/helpers/bus.ts';
import { startTestConsole, password, type TestConsole } from '../testing.ts';

type Park = 'park-a' | 'park-b';
type Role = 'viewer' | 'operator' | 'admin';
const parks: readonly Park[] = ['park-a', 'park-b'];
const otherThan = (p: Park): Park => (p === 'park-a' ? 'park-b' : 'park-a');

interface Caller {
  name: string;
  role: Role;
  park: Park;
  token?: string;
}

const callers: Caller[] = parks.flatMap((park): Caller[] => [
  { name: `viewer-${park}`, role: 'viewer', park },
  { name: `operator-${park}`, role: 'operator', park },
  { name: `admin-${park}`, role: 'admin', park },
  { name: `bot-${park}`, role: 'operator', park, token: `eipt_isolation-bot-${park}` },
  { name: `reader-${park}`, role: 'viewer', park, token: `eipt_isolation-reader-${park}` },
]);

const t0 = Date.parse('2026-11-20T00:00:00Z');
const minute = 60_000;

const alert = (park: Park, fingerprint: string, over: Partial<AlertEvent> = {}): AlertEvent => ({
  v: 1, fingerprint, transition: 1, state: 'firing', previousState: null, severity: 'critical', ruleId: 'outlet-cod', ruleVersion: 1,
  park, tenant: `${park}-smelter`, meter: `${park}-outlet`, metric: 'cod', summary: 'COD above the limit', provenance: { values: [120], threshold: 100 },
  at: Date.now(), simulated: false, ...over,
});

const pack = `version: 1
name: isolation-pack
rules:
  - id: outlet-cod
    version: 1
    description: COD above the limit
    source: the estate's effluent standard
    kind: threshold
    selector: { metric: cod }
    limit: 100
    levels: { critical: {} }
    overrides:
      - { park: park-a, limit: 90, source: permit of park-a }
      - { meter: park-b-outlet, limit: 80, source: permit of park-b }
  - id: ph-first
    version: 1
    description: pH above 9 at the first estate
    source: the first estate's permit
    kind: threshold
    selector: { metric: ph, parks: [park-a] }
    limit: 9
    levels: { warning: {} }
  - id: ph-second
    version: 1
    description: pH above 9 at the second estate
    source: the second estate's permit
    kind: threshold
    selector: { metric: ph, tenants: [park-b-smelter] }
    limit: 9
    levels: { warning: {} }
`;

type Expect = 'refused' | 'filtered' | 'allowed';
interface Row {
  what: string;
  expect: Expect;
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  payload?: object;
  /** For allowed rows: what the answer must hold. */
  holds?: string;
  /** For filtered rows whose leak would not name the park (counts): what else must be true. */
  also?: (body: string) => boolean;
}

/** Counts by reason over exactly the letters the caller may see. */
const countsMatchLetters = (body: string): boolean => {
  const b = JSON.parse(body) as { deadLetters: unknown[]; byReason: Record<string, number> };
  return Object.values(b.byReason).reduce((a, n) => a + n, 0) === b.deadLetters.length;
};

/** Every console path, for a caller of park `own` aimed at park `other`; control rows aimed at `own`. */
function rowsFor(c: Caller): Row[] {
  const own = c.park;
  const other = otherThan(own);
  const acts = c.role !== 'viewer';
  const series = (park: Park, scope: string) => `/api/parks/${park}/series?${scope}&metric=ph&from=${t0}&to=${t0 + 10 * minute}`;
  const rows: Row[] = [
    { what: 'alerts of the other park by name', expect: 'refused', method: 'GET', url: `/api/alerts?park=${other}` },
    { what: 'alert list', expect: 'filtered', method: 'GET', url: '/api/alerts?state=all' },
    { what: 'alert list by the other park\'s tenant', expect: 'filtered', method: 'GET', url: `/api/alerts?state=all&tenant=${other}-smelter` },
    { what: 'alert list by the other park\'s meter', expect: 'filtered', method: 'GET', url: `/api/alerts?state=all&meter=${other}-outlet` },
    { what: 'alert detail', expect: 'refused', method: 'GET', url: `/api/alerts/fp-${other}` },
    { what: 'acknowledge', expect: 'refused', method: 'POST', url: `/api/alerts/fp-${other}/acknowledge`, payload: {} },
    { what: 'resolve', expect: 'refused', method: 'POST', url: `/api/alerts/fp-${other}/resolve`, payload: {} },
    { what: 'silence the other park', expect: 'refused', method: 'POST', url: '/api/silences', payload: { park: other, endsAt: Date.now() + 60 * minute } },
    { what: 'unsilence', expect: 'refused', method: 'DELETE', url: `/api/silences/silence-${other}` },
    { what: 'silence list', expect: 'filtered', method: 'GET', url: '/api/silences' },
    { what: 'silences of the other park by name', expect: 'refused', method: 'GET', url: `/api/silences?park=${other}` },
    { what: 'park list and health', expect: 'filtered', method: 'GET', url: '/api/parks' },
    { what: 'park detail and meter health', expect: 'refused', method: 'GET', url: `/api/parks/${other}` },
    { what: 'series of the other park', expect: 'refused', method: 'GET', url: series(other, `meter=${other}-outlet`) },
    { what: 'series of the other park\'s meter under the own park', expect: 'refused', method: 'GET', url: series(own, `meter=${other}-outlet`) },
    { what: 'window series of the other park\'s tenant under the own park', expect: 'refused', method: 'GET', url: `${series(own, `tenant=${other}-smelter`)}&source=window&window=1h` },
    { what: 'totals', expect: 'refused', method: 'GET', url: `/api/parks/${other}/totals` },
    { what: 'data quality of the other park\'s tenant', expect: 'refused', method: 'GET', url: `/api/parks/${other}/tenants/${other}-smelter/quality?from=${t0}&to=${t0 + 10 * minute}` },
    { what: 'data quality of the other park\'s tenant under the own park', expect: 'refused', method: 'GET', url: `/api/parks/${own}/tenants/${other}-smelter/quality?from=${t0}&to=${t0 + 10 * minute}` },
    { what: 'dead letters of the other park by name', expect: 'refused', method: 'GET', url: `/api/dead-letters?park=${other}` },
    { what: 'dead letters and counts by reason', expect: acts ? 'filtered' : 'refused', method: 'GET', url: '/api/dead-letters', also: countsMatchLetters },
    { what: 'submissions of the other park', expect: 'refused', method: 'GET', url: `/api/parks/${other}/submissions` },
    { what: 'submissions of the other park, filtered by its station', expect: 'refused', method: 'GET', url: `/api/parks/${other}/submissions?station=uid-${other}` },
    { what: 'compliance pack of the other park', expect: 'refused', method: 'GET', url: `/api/parks/${other}/compliance-pack?month=2026-11&format=zip` },
    { what: 'compliance pack of the other park\'s tenant under the own park', expect: 'refused', method: 'GET', url: `/api/parks/${own}/compliance-pack?month=2026-11&format=zip&tenant=${other}-smelter` },
    ...(acts ? [] : [{ what: 'own compliance pack (a viewer)', expect: 'refused' as const, method: 'GET' as const, url: `/api/parks/${own}/compliance-pack?month=2026-11&format=zip` }]),
    { what: 'rule pack', expect: 'filtered', method: 'GET', url: '/api/rule-pack' },
    { what: 'revoke the other park\'s user', expect: 'refused', method: 'DELETE', url: `/api/users/spare-${other}/sessions` },
    // Control rows: the same caller, its own park.
    { what: 'own alert list', expect: 'allowed', method: 'GET', url: '/api/alerts?state=all', holds: `fp-${own}` },
    { what: 'own alert detail', expect: 'allowed', method: 'GET', url: `/api/alerts/fp-${own}`, holds: `fp-${own}` },
    { what: 'own silences', expect: 'allowed', method: 'GET', url: `/api/silences?park=${own}`, holds: `silence-${own}` },
    { what: 'own park', expect: 'allowed', method: 'GET', url: `/api/parks/${own}`, holds: `${own}-outlet` },
    { what: 'own series', expect: 'allowed', method: 'GET', url: series(own, `meter=${own}-outlet`), holds: `[${t0 + 2 * minute},` },
    { what: 'own totals', expect: 'allowed', method: 'GET', url: `/api/parks/${own}/totals`, holds: `"park":"${own}"` },
    { what: 'own submissions, none of the other park\'s', expect: 'filtered', method: 'GET', url: `/api/parks/${own}/submissions`, also: (body) => body.includes(`"station":"uid-${own}"`) },
    { what: 'own data quality', expect: 'allowed', method: 'GET', url: `/api/parks/${own}/tenants/${own}-smelter/quality?from=${t0}&to=${t0 + 10 * minute}`, holds: `"tenant":"${own}-smelter"` },
    { what: 'own rule pack entries', expect: 'allowed', method: 'GET', url: '/api/rule-pack', holds: `permit of ${own}` },
  ];
  if (acts) {
    rows.push(
      { what: 'own dead letters', expect: 'allowed', method: 'GET', url: '/api/dead-letters', holds: `eip/${own}/` },
      { what: 'own compliance pack', expect: 'allowed', method: 'GET', url: `/api/parks/${own}/compliance-pack?month=2026-11&format=zip`, holds: 'exceedances.csv' },
      { what: 'acknowledge own', expect: 'allowed', method: 'POST', url: `/api/alerts/fp-${own}/acknowledge`, payload: {}, holds: 'commandId' },
      { what: 'silence own', expect: 'allowed', method: 'POST', url: '/api/silences', payload: { park: own, meter: `${own}-outlet`, endsAt: Date.now() + 60 * minute }, holds: 'silenceId' },
    );
  }
  if (c.role === 'admin') rows.push({ what: 'revoke own park\'s user', expect: 'allowed', method: 'DELETE', url: `/api/users/spare-${own}/sessions`, holds: `spare-${own}` });
  return rows;
}

describe('console isolation table', () => {
  let c: TestConsole;
  let dir: string;
  const auth = new Map<string, Record<string, string>>();
  const commands: AlertCommand[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isolation-'));
    writeFileSync(join(dir, 'pack.yaml'), pack);
    c = await startTestConsole({
      rulePack: join(dir, 'pack.yaml'),
      users: [
        ...callers.filter((x) => !x.token).map(({ name, role, park }) => ({ name, role, parks: [park] })),
        ...parks.map((park) => ({ name: `spare-${park}`, role: 'viewer' as const, parks: [park] })),
      ],
      tokens: callers.filter((x) => x.token).map(({ name, role, park, token }) => ({ name, role, parks: [park], token: token! })),
    });
    await c.bus.subscribe({
      groupId: 'isolation-commands', topics: [topics.alertCommands.name], fromBeginning: true,
      handleBatch: async (b: ConsumedBatch) => { for (const m of b.messages) commands.push(alertCommandSchema.parse(JSON.parse(m.value!.toString()))); },
    });
    for (const x of callers) {
      if (x.token) {
        auth.set(x.name, { authorization: `Bearer ${x.token}` });
        continue;
      }
      const res = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: x.name, password: password(x.name) } });
      assert.equal(res.statusCode, 200, res.body);
      auth.set(x.name, { cookie: `eip_session=${res.cookies.find((k) => k.name === 'eip_session')!.value}` });
    }
    // Each park's data: an alert, a silence, a dead letter, readings.
    await c.bus.publish(parks.map((park) => ({ topic: topics.alerts.name, key: `fp-${park}`, value: JSON.stringify(alert(park, `fp-${park}`)) })));
    await c.bus.publish(parks.map((park) => ({
      topic: topics.alertCommands.name, key: `silence-${park}`,
      value: JSON.stringify({ v: 1, kind: 'silence', commandId: `cmd-${park}`, by: 'olu', at: Date.now(), silenceId: `silence-${park}`, matchers: { park, ruleId: 'ph-first' }, startsAt: Date.now(), endsAt: Date.now() + 60 * minute }),
    })));
    await c.bus.publish(parks.map((park, i) => ({
      topic: topics.deadLetters.name, key: 'ingest',
      value: JSON.stringify({ v: 1, reason: i === 0 ? 'not-json' : 'schema', detail: 'refused', stage: 'ingest', source: `eip/${park}/${park}-smelter/${park}-outlet/telemetry`, payloadBase64: Buffer.from('{').toString('base64'), receivedAt: Date.now() }),
    })));
    await c.bus.publish(parks.map((park) => ({
      topic: topics.submissions.name, key: `sparing:uid-${park}:${t0}`,
      value: JSON.stringify({ v: 1, kind: 'sparing', station: `uid-${park}`, park, tenant: `${park}-smelter`, meter: `${park}-outlet`, periodStart: t0, periodEnd: t0 + 60 * minute, records: 30, expected: 30, state: 'refused', attempts: 1, revision: 0, lastError: '401', updatedAt: t0 }),
    })));
    for (const park of parks) {
      await c.store.writeReadings([7.1, 7.2, 7.3].map((value, i) => ({ park, tenant: `${park}-smelter`, meter: `${park}-outlet`, metric: 'ph', unit: 'pH', value, ts: t0 + i * 2 * minute })));
    }
    await eventually(() => (c.models.alerts.size === 2 && c.models.silences.get('silence-park-b') && c.models.deadLetters.list(10).length === 2 && c.models.submissions.size === 2 ? true : undefined), 10_000, 'the fixtures folded', 25);
  });
  after(async () => {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const caller of callers) {
    it(`${caller.name} (${caller.role}${caller.token ? ', API token' : ''}) reaches park ${caller.park} only`, async () => {
      const failures: string[] = [];
      for (const row of rowsFor(caller)) {
        const res = await c.app.inject({ method: row.method, url: row.url, headers: auth.get(caller.name)!, ...(row.payload && { payload: row.payload }) });
        const other = otherThan(caller.park);
        const ok = row.expect === 'refused' ? res.statusCode === 403 || res.statusCode === 404
          : row.expect === 'filtered' ? res.statusCode === 200 && !res.body.includes(other) && (row.also?.(res.body) ?? true)
            : (res.statusCode === 200 || res.statusCode === 202) && res.body.includes(row.holds!);
        if (!ok) failures.push(`${row.expect} ${row.what}: ${row.method} ${row.url} -> ${res.statusCode} ${res.body.slice(0, 300)}`);
      }
      assert.deepEqual(failures, []);
    });
  }

  it('sent no command that reaches into another park', async () => {
    await new Promise((r) => setTimeout(r, 300));
    const byCaller = new Map(callers.map((x) => [x.name, x.park]));
    const ours = commands.filter((cmd) => byCaller.has(cmd.by));
    assert.ok(ours.length >= 12, `the control rows' commands arrived (${ours.length})`);
    for (const cmd of ours) {
      const park = byCaller.get(cmd.by)!;
      const target = cmd.kind === 'silence' ? cmd.matchers.park : cmd.kind === 'unsilence' ? cmd.silenceId : cmd.fingerprint;
      assert.ok(target?.includes(park), `${cmd.by} sent ${cmd.kind} for ${target}`);
    }
  });

  it('streams each caller its own park\'s alerts only, snapshot and live, and refuses the other park by name', async () => {
    await c.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (c.app.server.address() as AddressInfo).port;
    const ac = new AbortController();
    const streams = await Promise.all(callers.map(async (x) => {
      const refused = await fetch(`http://127.0.0.1:${port}/api/alerts/stream?park=${otherThan(x.park)}`, { headers: auth.get(x.name)!, signal: ac.signal });
      assert.equal(refused.status, 403, `${x.name}: the other park's stream by name`);
      const res = await fetch(`http://127.0.0.1:${port}/api/alerts/stream`, { headers: auth.get(x.name)!, signal: ac.signal });
      assert.equal(res.status, 200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const s = { caller: x, text: '', async until(pattern: RegExp): Promise<void> {
        while (!pattern.test(s.text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`${x.name}: stream ended before ${String(pattern)}`);
          s.text += Buffer.from(value).toString('utf8');
        }
      } };
      await s.until(/event: ready/);
      return s;
    }));
    try {
      for (const s of streams) {
        assert.match(s.text, new RegExp(`id: fp-${s.caller.park}:`), `${s.caller.name}: own alert in the snapshot`);
        assert.ok(!s.text.includes(otherThan(s.caller.park)), `${s.caller.name}: nothing of the other park in the snapshot`);
      }
      await c.bus.publish(parks.map((park) => ({ topic: topics.alerts.name, key: `live-${park}`, value: JSON.stringify(alert(park, `live-${park}`)) })));
      await eventually(() => (c.models.alerts.get('live-park-a') && c.models.alerts.get('live-park-b') ? true : undefined), 10_000, 'live alerts folded', 25);
      // Both live alerts were written to whichever streams they went to before these were even sent: each stream is ordered.
      await c.bus.publish(parks.map((park) => ({ topic: topics.alerts.name, key: `sentinel-${park}`, value: JSON.stringify(alert(park, `sentinel-${park}`)) })));
      for (const s of streams) {
        await s.until(new RegExp(`id: sentinel-${s.caller.park}:`));
        assert.match(s.text, new RegExp(`id: live-${s.caller.park}:`), `${s.caller.name}: own live alert`);
        assert.ok(!s.text.includes(otherThan(s.caller.park)), `${s.caller.name}: no live alert of the other park`);
      }
    } finally {
      ac.abort();
    }
  });
});
