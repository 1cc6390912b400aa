import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EipError } from '../../shared/errors.ts';
import { createInfluxStore, type InfluxStoreOptions } from '../../shared/adapters/influxdb/index.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import type { ReadingPoint, TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { newId, timeSeriesContract } from '../../shared/ports/time-series.contract.ts';
import { closedPort, fakeInflux, influxEnv, type FakeAnswer, type FakeInflux } from '../helpers/time-series.ts';

/**
 * Against the real InfluxDB named by INFLUX_URL / INFLUX_TOKEN / INFLUX_ORG /
 * INFLUX_BUCKET (defaults: infra/influxdb). Unreachable means failed, not
 * skipped: start it with `bash infra/stack.sh up influxdb`.
 */
const env = influxEnv();

function options(over: Partial<InfluxStoreOptions> = {}): InfluxStoreOptions {
  return { ...env, logger: quietLogger(), ...over };
}

function reading(over: Partial<ReadingPoint> = {}): ReadingPoint {
  return { park: newId('park'), tenant: 'tenant-a', meter: 'meter-1', metric: 'power', unit: 'kW', value: 1.5, ts: Date.now() - 60_000, ...over };
}

async function rejection(promise: Promise<unknown>): Promise<EipError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof EipError, `expected an EipError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection, but the promise resolved');
}

timeSeriesContract('influxdb', async () => {
  const store = createInfluxStore(options());
  if (!(await store.ping())) {
    await store.close();
    throw new Error(`InfluxDB at ${env.url} does not answer /health with "pass"; start it with: bash infra/stack.sh up influxdb`);
  }
  return { store, cleanup: () => store.close() };
});

describe('influxdb store: failures are the caller\'s to see', () => {
  const opened: TimeSeriesStore[] = [];
  const open = (over: Partial<InfluxStoreOptions>): TimeSeriesStore => {
    const s = createInfluxStore(options(over));
    opened.push(s);
    return s;
  };
  after(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });

  it('rejects a write to an unreachable server as retriable UNAVAILABLE, and ping is false', async () => {
    const store = open({ url: `http://127.0.0.1:${await closedPort()}` });
    const err = await rejection(store.writeReadings([reading()]));
    assert.equal(err.code, 'UNAVAILABLE');
    assert.equal(err.retriable, true);
    assert.equal(await store.ping(), false);
    const q = await rejection(store.queryReadings({ scope: { park: 'p' }, from: 0, to: 1 }));
    assert.equal(q.code, 'UNAVAILABLE');
  });

  it('rejects a bad token as UNAUTHORIZED, not retriable, for writes and queries', async () => {
    const store = open({ token: 'not-the-token' });
    const err = await rejection(store.writeReadings([reading()]));
    assert.equal(err.code, 'UNAUTHORIZED');
    assert.equal(err.retriable, false);
    const q = await rejection(store.queryReadings({ scope: { park: 'p' }, from: 0, to: 1 }));
    assert.equal(q.code, 'UNAUTHORIZED');
    assert.equal(q.retriable, false);
  });

  it('rejects a write to a bucket that does not exist as NOT_FOUND', async () => {
    const store = open({ bucket: newId('no-such-bucket') });
    const err = await rejection(store.writeReadings([reading()]));
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.retriable, false);
  });

  it('rejects points beyond the retention period with InfluxDB\'s message', async () => {
    const store = open({});
    // The dev bucket keeps 30 days; a point from 1971 is refused (422).
    const err = await rejection(store.writeReadings([reading({ ts: 31_536_000_000 })]));
    assert.equal(err.code, 'REJECTED');
    assert.equal(err.retriable, false);
    assert.match(err.message, /retention|dropped/i);
  });
});

describe('influxdb store: HTTP answers map to errors (scripted server)', () => {
  let fake: FakeInflux | undefined;
  let script: (index: number) => FakeAnswer | 'hang' = () => ({ status: 204 });
  const stores: TimeSeriesStore[] = [];
  const open = (over: Partial<InfluxStoreOptions> = {}): TimeSeriesStore => {
    const s = createInfluxStore(options({ url: fake?.url ?? '', ...over }));
    stores.push(s);
    return s;
  };

  before(async () => {
    fake = await fakeInflux((_req, i) => script(i));
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await fake?.close();
  });

  const cases: Array<{ answer: FakeAnswer; code: string; retriable: boolean; retryAfterMs?: number; message?: RegExp }> = [
    { answer: { status: 429, headers: { 'retry-after': '7' } }, code: 'THROTTLED', retriable: true, retryAfterMs: 7_000 },
    { answer: { status: 503, headers: { 'retry-after': '2' } }, code: 'THROTTLED', retriable: true, retryAfterMs: 2_000 },
    { answer: { status: 500, body: 'boom' }, code: 'UNAVAILABLE', retriable: true },
    { answer: { status: 502 }, code: 'UNAVAILABLE', retriable: true },
    { answer: { status: 401, headers: { 'content-type': 'application/json' }, body: '{"code":"unauthorized","message":"unauthorized access"}' }, code: 'UNAUTHORIZED', retriable: false },
    { answer: { status: 403 }, code: 'UNAUTHORIZED', retriable: false },
    {
      answer: { status: 400, headers: { 'content-type': 'application/json' }, body: '{"code":"invalid","message":"unable to parse \'reading x\': missing fields"}' },
      code: 'REJECTED', retriable: false, message: /unable to parse 'reading x': missing fields/,
    },
    { answer: { status: 413, headers: { 'content-type': 'application/json' }, body: '{"code":"request too large","message":"too large"}' }, code: 'TOO_LARGE', retriable: false },
  ];
  for (const c of cases) {
    it(`maps ${c.answer.status} to ${c.code}${c.retryAfterMs === undefined ? '' : ' with Retry-After'}`, async () => {
      script = () => c.answer;
      const err = await rejection(open().writeReadings([reading()]));
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.retriable, c.retriable);
      assert.equal(err.retryAfterMs, c.retryAfterMs);
      if (c.message !== undefined) assert.match(err.message, c.message);
    });
  }

  it('times out a write that gets no answer as retriable TIMEOUT', async () => {
    script = () => 'hang';
    const err = await rejection(open({ timeoutMs: 300 }).writeReadings([reading()]));
    assert.equal(err.code, 'TIMEOUT');
    assert.equal(err.retriable, true);
  });

  it('resolves only once InfluxDB has answered, and POSTs escaped line protocol with ms precision', async () => {
    script = () => ({ status: 204, delayMs: 150 });
    const before = fake!.requests.length;
    const started = Date.now();
    await open().writeReadings([reading({ park: 'park-1', metric: 'co2 emitted', unit: 'kg CO2e, a=b', value: 2.5, ts: 1_700_000_000_123, simulated: true })]);
    assert.ok(Date.now() - started >= 140, 'resolved before the answer');
    const req = fake!.requests[before]!;
    assert.equal(req.method, 'POST');
    assert.match(req.url, /^\/api\/v2\/write\?/);
    const params = new URL(req.url, 'http://x').searchParams;
    assert.deepEqual([params.get('org'), params.get('bucket'), params.get('precision')], [env.org, env.bucket, 'ms']);
    assert.equal(req.headers.authorization, `Token ${env.token}`);
    assert.equal(req.body, 'reading,meter=meter-1,metric=co2\\ emitted,park=park-1,simulated=true,tenant=tenant-a,unit=kg\\ CO2e\\,\\ a\\=b value=2.5 1700000000123');
  });

  it('splits a large batch into requests of 5,000 lines and reports how far a failed one got', async () => {
    let start = fake!.requests.length;
    script = (i) => (i === start + 1 ? { status: 503 } : { status: 204 });
    const points = Array.from({ length: 12_000 }, (_, i) => reading({ park: 'park-1', ts: 1_700_000_000_000 + i }));
    const store = open();
    const err = await rejection(store.writeReadings(points));
    assert.equal(err.code, 'THROTTLED');
    assert.equal(err.details?.storedLines, 5_000);
    assert.equal(fake!.requests.length - start, 2);

    start = fake!.requests.length;
    script = () => ({ status: 204 });
    await store.writeReadings(points);
    const sizes = fake!.requests.slice(start).map((r) => r.body.split('\n').length);
    assert.deepEqual(sizes, [5_000, 5_000, 2_000]);
  });

  it('sends nothing for a batch with an invalid point', async () => {
    script = () => ({ status: 204 });
    const before = fake!.requests.length;
    const err = await rejection(open().writeReadings([reading(), reading({ value: Number.POSITIVE_INFINITY })]));
    assert.equal(err.code, 'REJECTED');
    assert.equal(fake!.requests.length, before);
  });
});
