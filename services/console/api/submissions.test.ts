/**
 * The submissions read model and its API over the SQLite bus: sent, failed and
 * refused records, a revision replacing an earlier record of the same period,
 * an unreadable record counted and skipped, filters, park access, and the
 * failed/refused counts on the park overview. And the bound, on the pure model.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { topics } from '../../../shared/contracts/kafka-topics.ts';
import { submissionKey, type SubmissionRecord } from '../../../shared/contracts/submissions.ts';
import { eventually } from '../../../test/helpers/bus.ts';
import { SubmissionLog } from '../read-model/submission-log.ts';
import { startTestConsole, password, type TestConsole } from '../testing.ts';
import type { ParkSummary, SubmissionList } from './schemas.ts';

const hour = 3_600_000;
const t0 = Date.parse('2026-11-20T00:00:00Z');

const record = (over: Partial<SubmissionRecord> = {}): SubmissionRecord => ({
  v: 1, kind: 'sparing', station: 'uid-a', park: 'park-a', tenant: 'park-a-smelter', meter: 'park-a-outlet',
  periodStart: t0, periodEnd: t0 + hour, records: 30, expected: 30, state: 'sent', attempts: 1, revision: 0,
  receipt: 'rcpt-1', sentAt: t0 + hour + 5_000, updatedAt: t0 + hour + 5_000, body: '{"data":[]}', ...over,
});

describe('submissions in the console', () => {
  let c: TestConsole;
  const cookies = new Map<string, string>();

  before(async () => {
    c = await startTestConsole();
    for (const user of ['olu', 'vic', 'ana']) {
      const res = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: user, password: password(user) } });
      assert.equal(res.statusCode, 200, res.body);
      cookies.set(user, `eip_session=${res.cookies.find((k) => k.name === 'eip_session')!.value}`);
    }
    const records = [
      record(),
      // Hour 2 first failed (receiver down), later refused on a bad signature.
      record({ periodStart: t0 + hour, periodEnd: t0 + 2 * hour, state: 'failed', attempts: 1, receipt: undefined, sentAt: undefined, lastError: '503 Service Unavailable', updatedAt: t0 + 2 * hour }),
      record({ periodStart: t0 + hour, periodEnd: t0 + 2 * hour, state: 'refused', attempts: 2, receipt: undefined, sentAt: undefined, lastError: '401 invalid signature', updatedAt: t0 + 2 * hour + 60_000 }),
      // Hour 3: 25 of 30 sent, then revision 1 with the 5 resent records replaces it.
      record({ periodStart: t0 + 2 * hour, periodEnd: t0 + 3 * hour, records: 25, receipt: 'rcpt-3a' }),
      record({ periodStart: t0 + 2 * hour, periodEnd: t0 + 3 * hour, records: 30, revision: 1, attempts: 1, receipt: 'rcpt-3b' }),
      record({ kind: 'sispek', station: 'stack-a', periodStart: t0 + hour, periodEnd: t0 + 2 * hour, records: 9, expected: 12, state: 'failed', attempts: 3, receipt: undefined, lastError: 'no answer within 10 s' }),
      record({ park: 'park-b', tenant: 'park-b-smelter', meter: 'park-b-outlet', station: 'uid-b', state: 'refused', lastError: '401 invalid signature', receipt: undefined }),
    ];
    await c.bus.publish([
      ...records.map((r) => ({ topic: topics.submissions.name, key: submissionKey(r), value: JSON.stringify(r) })),
      { topic: topics.submissions.name, key: 'sparing:uid-a:junk', value: '{"v":1,"kind":"sparing"' },
      { topic: topics.submissions.name, key: 'sparing:uid-a:0', value: JSON.stringify({ ...record(), state: 'lost' }) },
    ]);
    await eventually(() => (c.models.submissions.unreadable === 2 && c.models.submissions.size === 5 ? true : undefined), 10_000, 'submissions folded', 25);
  });
  after(() => c.close());

  const get = (url: string, user: string) => c.app.inject({ method: 'GET', url, headers: { cookie: cookies.get(user)! } });
  const list = async (query: string, user = 'vic'): Promise<SubmissionList> => {
    const res = await get(`/api/parks/park-a/submissions${query}`, user);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<SubmissionList>();
  };

  it('lists the latest record per period, newest first, without the body', async () => {
    const r = await list('');
    assert.equal(r.total, 4);
    assert.deepEqual(r.submissions.map((s) => [s.kind, s.station, s.periodStart - t0, s.state, s.attempts, s.revision, s.records]), [
      ['sparing', 'uid-a', 2 * hour, 'sent', 1, 1, 30],
      ['sispek', 'stack-a', hour, 'failed', 3, 0, 9],
      ['sparing', 'uid-a', hour, 'refused', 2, 0, 30],
      ['sparing', 'uid-a', 0, 'sent', 1, 0, 30],
    ]);
    assert.equal(r.submissions[0]!.receipt, 'rcpt-3b', 'revision 1 replaced revision 0');
    assert.equal(r.submissions[2]!.lastError, '401 invalid signature');
    assert.ok(r.submissions.every((s) => !('body' in s)));
    assert.deepEqual(r.byState, { pending: 0, sent: 2, failed: 1, refused: 1 });
    assert.equal(r.unreadable, 2);
    assert.equal(r.dropped, 0);
    assert.equal(r.keptPerStation, 5_000);
  });

  it('filters by kind, state, station and period (instants in either form), and limits', async () => {
    assert.deepEqual((await list('?kind=sispek')).submissions.map((s) => s.station), ['stack-a']);
    assert.deepEqual((await list('?state=failed,refused')).submissions.map((s) => s.state), ['failed', 'refused']);
    assert.equal((await list('?station=uid-a')).total, 3);
    const from = new Date(t0 + hour).toISOString();
    const r = await list(`?from=${encodeURIComponent(from)}&to=${t0 + 2 * hour}`);
    assert.deepEqual(r.submissions.map((s) => s.periodStart - t0), [hour, hour]);
    const one = await list('?limit=1');
    assert.equal(one.submissions.length, 1);
    assert.equal(one.total, 4);
  });

  it('refuses a bad query with a 400 naming it', async () => {
    for (const q of ['?state=lost', '?kind=x', '?from=2026-11-20T00:00', '?limit=0', `?from=${t0 + hour}&to=${t0}`, '?other=1']) {
      const res = await get(`/api/parks/park-a/submissions${q}`, 'vic');
      assert.equal(res.statusCode, 400, q);
    }
    assert.match((await get('/api/parks/park-a/submissions?from=2026-11-20T00:00', 'vic')).json<{ message: string }>().message, /query\.from/);
  });

  it('keeps each park to its callers', async () => {
    assert.equal((await get('/api/parks/park-b/submissions', 'ana')).statusCode, 403);
    assert.equal((await get('/api/parks/nowhere/submissions', 'olu')).statusCode, 404);
    const b = (await get('/api/parks/park-b/submissions', 'olu')).json<SubmissionList>();
    assert.deepEqual(b.submissions.map((s) => s.station), ['uid-b']);
  });

  it('counts failed and refused submissions on the park overview', async () => {
    const park = (await get('/api/parks/park-a', 'vic')).json<ParkSummary>();
    assert.deepEqual(park.submissionsFailing, { failed: 1, refused: 1 });
    const parks = (await get('/api/parks', 'ana')).json<{ parks: ParkSummary[] }>();
    assert.deepEqual(parks.parks.map((p) => [p.id, p.submissionsFailing]), [['park-a', { failed: 1, refused: 1 }]]);
  });
});

describe('submission log bound', () => {
  const period = (station: string, i: number, over: Partial<SubmissionRecord> = {}) => record({ station, periodStart: t0 + i * hour, periodEnd: t0 + (i + 1) * hour, ...over });
  const held = (log: SubmissionLog, station: string) => log.list({ park: 'park-a', station }).submissions.map((s) => (s.periodStart - t0) / hour);

  it('keeps the newest periods per station, pruning in bulk, and refuses one older than all it kept', () => {
    const log = new SubmissionLog(4);
    for (let i = 0; i < 5; i++) log.apply(period('uid-a', i));
    assert.deepEqual(held(log, 'uid-a'), [4, 3, 2, 1, 0], 'up to a quarter more before a prune');
    log.apply(period('uid-a', 5));
    assert.deepEqual(held(log, 'uid-a'), [5, 4, 3, 2]);
    log.apply(period('uid-z', 0));
    assert.deepEqual(held(log, 'uid-z'), [0], 'another station has its own bound');
    log.apply(period('uid-a', 1));
    assert.deepEqual(held(log, 'uid-a'), [5, 4, 3, 2], 'older than every period kept');
    assert.equal(log.dropped, 1);
    // A held period updated is taken and evicts nothing.
    log.apply(period('uid-a', 2, { state: 'refused' }));
    assert.deepEqual(log.list({ park: 'park-a', station: 'uid-a', states: ['refused'] }).submissions.map((s) => (s.periodStart - t0) / hour), [2]);
    assert.equal(log.size, 5);
    // Late periods between the floor and the newest are taken, then pruned with the rest.
    log.apply(period('uid-a', 3, { kind: 'sispek' }));
    assert.equal(log.size, 6);
  });

  it('holds at most maxStations stations, dropping and counting records of more', () => {
    const log = new SubmissionLog(10, 2);
    for (const st of ['s1', 's2', 's3', 's4']) log.apply(period(st, 0));
    assert.equal(log.size, 2);
    assert.equal(log.dropped, 2);
    log.apply(period('s1', 1));
    assert.deepEqual(held(log, 's1'), [1, 0], 'a known station still grows');
  });
});
