import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, decodeOrRefuse, type DecodeOptions } from './decode.ts';
import { DedupWindow } from './dedup.ts';
import { resolveSenml } from './senml.ts';
import { loadParkRegistry, demoParkPath } from '../../../shared/contracts/park-registry.ts';

const registry = loadParkRegistry(demoParkPath);
const options: DecodeOptions = { registry, maxFutureMs: 300_000, maxPastMs: 29 * 86_400_000, maxPayloadBytes: 65_536 };
const now = Date.UTC(2026, 10, 27, 10, 0, 0);
const stackTopic = 'eip/nusantara-eip/sulawesi-nickel/snk-stack-rkef1/telemetry';
const buf = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('decode: the reading envelope v1', () => {
  it('validates, normalises and enriches a message', () => {
    const d = decode(stackTopic, buf({ v: 1, ts: '2026-11-27T09:59:00Z', seq: 7, readings: [{ metric: 'so2', value: 100, unit: 'ppm' }, { metric: 'o2', value: 8.1, unit: '%' }] }), now, options);
    assert.equal(d.kind, 'readings');
    if (d.kind !== 'readings') return;
    assert.equal(d.park, 'nusantara-eip');
    assert.equal(d.tenant, 'sulawesi-nickel');
    assert.equal(d.seq, 7);
    assert.equal(d.simulated, false);
    assert.equal(d.readings.length, 2);
    assert.equal(d.readings[0]!.unit, 'mg/Nm3');
    assert.ok(Math.abs(d.readings[0]!.value - 285.83) < 0.01);
    assert.equal(d.readings[0]!.ts, now - 60_000);
  });
  it('accepts epoch seconds and milliseconds and per-reading times (a logger resending its buffer)', () => {
    const d = decode('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', buf({ v: 1, ts: now / 1000, seq: 1, simulated: true, readings: [{ metric: 'ph', value: 7.2, unit: 'pH', ts: now - 240_000 }, { metric: 'ph', value: 7.3, unit: 'pH', ts: now - 120_000 }] }), now, options);
    assert.ok(d.kind === 'readings');
    assert.deepEqual(d.readings.map((r) => r.ts), [now - 240_000, now - 120_000]);
    assert.equal(d.simulated, true);
  });
  const refused: Array<[string, string, Buffer, string, RegExp]> = [
    ['not JSON', stackTopic, buf('{"v":1,'), 'not-json', /not JSON/],
    ['schema: no readings', stackTopic, buf({ v: 1, ts: now, seq: 1, readings: [] }), 'schema', /readings/],
    ['schema: value a string', stackTopic, buf({ v: 1, ts: now, seq: 1, readings: [{ metric: 'so2', value: 'high', unit: 'mg/Nm3' }] }), 'schema', /readings\.0\.value/],
    ['unknown metric', stackTopic, buf({ v: 1, ts: now, seq: 1, readings: [{ metric: 'warp', value: 1, unit: 'c' }] }), 'unknown-metric', /unknown metric "warp"/],
    ['metric the meter does not declare', stackTopic, buf({ v: 1, ts: now, seq: 1, readings: [{ metric: 'ph', value: 7, unit: 'pH' }] }), 'unknown-metric', /does not declare metric "ph"/],
    ['unit not accepted', stackTopic, buf({ v: 1, ts: now, seq: 1, readings: [{ metric: 'so2', value: 1, unit: 'furlongs' }] }), 'unknown-unit', /accepted: mg\/Nm3/],
    ['future timestamp', stackTopic, buf({ v: 1, ts: now + 600_000, seq: 1, readings: [{ metric: 'so2', value: 1, unit: 'mg/Nm3' }] }), 'future-timestamp', /ahead of the receive time/],
    ['timestamp without zone', stackTopic, buf({ v: 1, ts: '2026-11-27T10:00:00', seq: 1, readings: [{ metric: 'so2', value: 1, unit: 'mg/Nm3' }] }), 'bad-timestamp', /unreadable timestamp/],
    ['unknown meter', 'eip/nusantara-eip/sulawesi-nickel/ghost-meter/telemetry', buf({}), 'unknown-meter', /ghost-meter/],
    ['foreign tenant', 'eip/nusantara-eip/celebes-battery/snk-stack-rkef1/telemetry', buf({}), 'foreign-tenant', /belongs to tenant "sulawesi-nickel"/],
    ['topic outside the scheme', 'factory/42/data', buf({}), 'unknown-topic', /outside/],
    ['oversized', stackTopic, Buffer.alloc(70_000, 32), 'oversized', /70000 bytes exceeds the limit of 65536/],
  ];
  for (const [name, topic, payload, reason, detail] of refused) {
    it(`refuses ${name} as "${reason}"`, () => {
      const d = decode(topic, payload, now, options);
      assert.equal(d.kind, 'dead');
      if (d.kind !== 'dead') return;
      assert.equal(d.reason, reason);
      assert.match(d.detail, detail);
    });
  }
  it('accepts a timestamp exactly at the future limit and refuses one millisecond more', () => {
    const at = (ts: number) => decode(stackTopic, buf({ v: 1, ts, seq: 1, readings: [{ metric: 'so2', value: 1, unit: 'mg/Nm3' }] }), now, options).kind;
    assert.equal(at(now + 300_000), 'readings');
    assert.equal(at(now + 300_001), 'dead');
  });
});

describe('decode: SenML and status', () => {
  it('resolves a SenML pack with base name, time and unit', () => {
    const pack = [{ bn: 'urn:dev:sparing:wwtp-sparing-outlet:', bt: now / 1000, bu: 'mg/L', n: 'cod', v: 42 }, { n: 'tss', v: 80, t: 120 }, { n: 'ph', u: 'pH', v: 7.4 }];
    const d = decode('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', buf(pack), now, options);
    assert.ok(d.kind === 'readings');
    assert.deepEqual(d.readings, [
      { metric: 'cod', unit: 'mg/L', value: 42, ts: now },
      { metric: 'tss', unit: 'mg/L', value: 80, ts: now + 120_000 },
      { metric: 'ph', unit: 'pH', value: 7.4, ts: now },
    ]);
    assert.equal(d.seq, now);
  });
  it('reads small SenML times as relative to now', () => {
    const r = resolveSenml([{ n: 'ph', u: 'pH', v: 7, t: -60 }], now);
    assert.ok(r.ok);
    assert.equal(r.readings[0]!.ts, now - 60_000);
  });
  it('refuses SenML must-understand fields and records without unit', () => {
    assert.equal(resolveSenml([{ n: 'ph', u: 'pH', v: 7, foo_: 1 }], now).ok, false);
    assert.equal(resolveSenml([{ n: 'ph', v: 7 }], now).ok, false);
  });
  it('turns birth and last will into status', () => {
    const d = decode('eip/nusantara-eip/sulawesi-nickel/snk-elec-main/status', buf({ status: 'offline' }), now, options);
    assert.deepEqual(d, { kind: 'status', park: 'nusantara-eip', tenant: 'sulawesi-nickel', meter: 'snk-elec-main', status: 'offline', at: now, simulated: false });
    const bad = decode('eip/nusantara-eip/sulawesi-nickel/snk-elec-main/status', buf({ status: 'sleepy' }), now, options);
    assert.equal(bad.kind, 'dead');
  });
});

describe('decode: what no sink can hold', () => {
  const wwtp = 'eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry';
  const energyTopic = 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry';
  const reasonOf = (topic: string, payload: unknown): string => {
    const d = decode(topic, buf(payload), now, options);
    return d.kind === 'dead' ? d.reason : d.kind;
  };
  const env = (ts: unknown, extra: Record<string, unknown> = {}) => ({ v: 1, ts, seq: 1, readings: [{ metric: 'ph', value: 7, unit: 'pH', ...extra }] });
  it('refuses a value that overflows on unit conversion as "non-finite-value"', () => {
    const d = decode(energyTopic, buf({ v: 1, ts: now, seq: 1, readings: [{ metric: 'active_energy_import', value: 1e306, unit: 'MWh' }] }), now, options);
    assert.ok(d.kind === 'dead' && d.reason === 'non-finite-value' && /not a finite number in kWh/.test(d.detail), JSON.stringify(d));
    assert.equal(reasonOf(energyTopic, { v: 1, ts: now, seq: 1, readings: [{ metric: 'active_energy_import', value: 1e305, unit: 'MWh' }] }), 'readings');
  });
  it('refuses a SenML value whose base value overflows it', () => {
    assert.equal(reasonOf(wwtp, [{ bn: 'x:', bv: 1e308, bt: now / 1000, n: 'ph', u: 'pH', v: 1e308 }]), 'non-finite-value');
  });
  it('refuses times before MAX_PAST_MS or 1970 as "past-timestamp"', () => {
    assert.equal(reasonOf(wwtp, env(0)), 'past-timestamp');
    assert.equal(reasonOf(wwtp, env('0001-01-01T00:00:00Z')), 'past-timestamp');
    assert.equal(reasonOf(wwtp, env(now - options.maxPastMs)), 'readings');
    assert.equal(reasonOf(wwtp, env(now - options.maxPastMs - 1)), 'past-timestamp');
    assert.equal(reasonOf(wwtp, env(now, { ts: now - options.maxPastMs - 1 })), 'past-timestamp', 'a reading\'s own time is judged too');
    assert.equal(reasonOf(wwtp, [{ n: 'ph', u: 'pH', v: 7, t: -5e9 }]), 'past-timestamp', 'a relative SenML time before 1970');
  });
  it('reads epoch microseconds and nanoseconds, and refuses far-future numbers without throwing', () => {
    const at = (ts: number | string) => {
      const d = decode(wwtp, buf(env(ts)), now, options);
      return d.kind === 'readings' ? d.readings[0]!.ts : d.kind === 'dead' ? d.reason : d.kind;
    };
    assert.equal(at(now * 1000 + 123), now);
    assert.equal(at(now * 1e6), now);
    assert.equal(at(1e17), 'past-timestamp', '1e17 ns is 1973');
    assert.equal(at(`${now}123456`), now, 'nanoseconds as a digit string');
    for (const ts of [1e16, 1e19, 1e300, Number.MAX_VALUE, '9'.repeat(64), '9999-12-31T23:59:59Z']) assert.equal(at(ts), 'future-timestamp', String(ts));
  });
  it('refuses SenML base times and times at the extremes without throwing', () => {
    for (const pack of [
      [{ bt: -1e308, n: 'ph', u: 'pH', v: 7 }],
      [{ bt: 1e308, n: 'ph', u: 'pH', v: 7, t: 1e308 }],
      [{ bt: -1e308, n: 'ph', u: 'pH', v: 7, t: -1e308 }],
      [{ bt: 1e300, n: 'ph', u: 'pH', v: 7 }],
    ]) {
      const r = reasonOf(wwtp, pack);
      assert.ok(['bad-timestamp', 'past-timestamp', 'future-timestamp'].includes(r), `${JSON.stringify(pack)}: ${r}`);
    }
    assert.equal(reasonOf(wwtp, [{ bt: -1e308, n: 'ph', u: 'pH', v: 7 }]), 'bad-timestamp', '-1e308 s is no epoch ms at all');
  });
  it('bounds status times too, but not by MAX_PAST_MS (a retained birth may be old)', () => {
    const status = 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/status';
    assert.equal(reasonOf(status, { status: 'online', ts: 1e300 }), 'future-timestamp');
    assert.equal(reasonOf(status, { status: 'online', ts: now - 2 * options.maxPastMs }), 'status');
  });
  it('turns an exception inside decode into that message\'s dead letter', () => {
    const throwing: DecodeOptions = { ...options, registry: Object.assign(Object.create(registry) as typeof registry, { meter: () => { throw new Error('registry exploded'); } }) };
    const d = decodeOrRefuse(wwtp, buf(env(now)), now, throwing);
    assert.deepEqual(d, { kind: 'dead', reason: 'decode-error', detail: 'decode failed: Error: registry exploded' });
  });
});

describe('dedup window', () => {
  it('drops a repeated (meter, seq) and keeps other meters apart', () => {
    const w = new DedupWindow(4);
    assert.equal(w.firstSeen('m1', 1), true);
    assert.equal(w.firstSeen('m1', 1), false);
    assert.equal(w.firstSeen('m2', 1), true);
  });
  it('forgets beyond its window, so memory stays bounded', () => {
    const w = new DedupWindow(3, 2);
    for (const s of [1, 2, 3, 4]) assert.equal(w.firstSeen('m', s), true);
    assert.equal(w.firstSeen('m', 1), true, 'seq 1 left the window of 3');
    assert.equal(w.firstSeen('m', 4), false);
    w.firstSeen('a', 1);
    w.firstSeen('b', 1);
    assert.equal(w.size, 2);
  });
});
