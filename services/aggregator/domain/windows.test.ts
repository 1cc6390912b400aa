import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseParkRegistry, RegistryIndex } from '../../../shared/contracts/park-registry.ts';
import type { WindowSize } from '../../../shared/contracts/events.ts';
import { windowBounds } from './windows.ts';
import { WindowAggregator } from './window-aggregator.ts';

const MIN = 60_000;
const H = 60 * MIN;
const utc = (iso: string): number => Date.parse(iso);
const iso = (t: number): string => new Date(t).toISOString().replace('.000', '');

/** One park in a time zone, with one stack (a 5-minute cadence). */
const parkIn = (timezone: string): RegistryIndex => new RegistryIndex(parseParkRegistry({
  version: 1,
  parks: [{
    id: 'p1', name: 'Test park', country: 'ID', timezone, usedAreaHa: 1,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.4, source: 'test' } },
    tenants: [{ id: 't1', name: 'T', sector: 'test', supplySource: 'grid', meters: [{ id: 'm1', kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2'] }] }],
  }],
}));

describe('windowBounds: local clock hours and days', () => {
  const table: Array<[string, string, WindowSize, string, string, string]> = [
    // name, zone, size, instant, expected start, expected end (UTC)
    ['Jakarta (+07): the hour', 'Asia/Jakarta', '1h', '2026-12-01T10:59:59.999Z', '2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z'],
    ['Jakarta: the day starts at 17:00 UTC', 'Asia/Jakarta', '1d', '2026-12-01T16:59:59.999Z', '2026-11-30T17:00:00Z', '2026-12-01T17:00:00Z'],
    ['Jakarta: at local midnight a new day', 'Asia/Jakarta', '1d', '2026-12-01T17:00:00Z', '2026-12-01T17:00:00Z', '2026-12-02T17:00:00Z'],
    ['Kolkata (+05:30): the clock hour starts at :30 UTC', 'Asia/Kolkata', '1h', '2026-12-01T10:29:00Z', '2026-12-01T09:30:00Z', '2026-12-01T10:30:00Z'],
    ['Kolkata: the day starts at 18:30 UTC', 'Asia/Kolkata', '1d', '2026-12-01T20:00:00Z', '2026-12-01T18:30:00Z', '2026-12-02T18:30:00Z'],
    ['Kathmandu (+05:45): the clock hour starts at :15 UTC', 'Asia/Kathmandu', '1h', '2026-12-01T10:15:00Z', '2026-12-01T10:15:00Z', '2026-12-01T11:15:00Z'],
    ['Kathmandu: the day starts at 18:15 UTC', 'Asia/Kathmandu', '1d', '2026-12-01T18:14:59Z', '2026-11-30T18:15:00Z', '2026-12-01T18:15:00Z'],
    ['Berlin, spring forward: a 23-hour day', 'Europe/Berlin', '1d', '2026-03-29T12:00:00Z', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z'],
    ['Berlin, spring forward: the hour before the gap', 'Europe/Berlin', '1h', '2026-03-29T00:30:00Z', '2026-03-29T00:00:00Z', '2026-03-29T01:00:00Z'],
    ['Berlin, spring forward: 03:00 local follows 02:00', 'Europe/Berlin', '1h', '2026-03-29T01:00:00Z', '2026-03-29T01:00:00Z', '2026-03-29T02:00:00Z'],
    ['Berlin, fall back: a 25-hour day', 'Europe/Berlin', '1d', '2026-10-25T12:00:00Z', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z'],
    ['Berlin, fall back: the day seen before the change', 'Europe/Berlin', '1d', '2026-10-24T23:00:00Z', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z'],
    ['Berlin, fall back: 02:00-03:00 summer time', 'Europe/Berlin', '1h', '2026-10-25T00:59:59Z', '2026-10-25T00:00:00Z', '2026-10-25T01:00:00Z'],
    ['Berlin, fall back: 02:00-03:00 again, winter time, its own window', 'Europe/Berlin', '1h', '2026-10-25T01:00:00Z', '2026-10-25T01:00:00Z', '2026-10-25T02:00:00Z'],
    ['New York, spring forward at 02:00: a 23-hour day', 'America/New_York', '1d', '2026-03-08T20:00:00Z', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z'],
    ['Lord Howe (30-minute DST), fall back: 01:30-02:00 standard is a half hour', 'Australia/Lord_Howe', '1h', '2026-04-04T15:10:00Z', '2026-04-04T15:00:00Z', '2026-04-04T15:30:00Z'],
    ['Lord Howe, fall back: a 24.5-hour day', 'Australia/Lord_Howe', '1d', '2026-04-04T20:00:00Z', '2026-04-04T13:00:00Z', '2026-04-05T13:30:00Z'],
    ['UTC: epoch-aligned', 'UTC', '1d', '2026-12-01T23:59:59Z', '2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z'],
    ['15 minutes stay epoch-aligned whatever the zone', 'Asia/Kathmandu', '15m', '2026-12-01T10:29:00Z', '2026-12-01T10:15:00Z', '2026-12-01T10:30:00Z'],
    ['the first local day east of UTC is cut at the epoch', 'Asia/Jakarta', '1d', '1970-01-01T01:00:00Z', '1970-01-01T00:00:00Z', '1970-01-01T17:00:00Z'],
  ];
  for (const [name, zone, size, at, start, end] of table) {
    it(name, () => {
      const b = windowBounds(utc(at), size, zone);
      assert.deepEqual([iso(b.start), iso(b.end)], [start, end]);
    });
  }

  it('every instant of a window gives its bounds, windows tile time, and quarter hours nest (a DST year, minute by minute around the changes)', () => {
    for (const [zone, from] of [['Europe/Berlin', '2026-03-28T20:00:00Z'], ['Europe/Berlin', '2026-10-24T20:00:00Z'], ['Australia/Lord_Howe', '2026-04-04T10:00:00Z'], ['Asia/Kathmandu', '2026-12-01T00:00:00Z']] as const) {
      for (const size of ['1h', '1d'] as const) {
        let prev = windowBounds(utc(from), size, zone);
        for (let t = utc(from); t < utc(from) + 36 * H; t += MIN) {
          const b = windowBounds(t, size, zone);
          assert.ok(b.start <= t && t < b.end, `${zone} ${size} ${iso(t)} in [${iso(b.start)}, ${iso(b.end)})`);
          if (b.start !== prev.start) assert.equal(b.start, prev.end, `${zone} ${size}: windows tile at ${iso(t)}`);
          assert.equal(b.start % (15 * MIN), 0);
          assert.equal(b.end % (15 * MIN), 0);
          prev = b;
        }
      }
    }
  });

  it('a 23-hour local day expects 23 hours of records', () => {
    const agg = new WindowAggregator({ registry: parkIn('Europe/Berlin'), windows: ['1m', '1h', '1d'], allowedLatenessMs: 0 });
    const dayStart = utc('2026-03-28T23:00:00Z');
    const readings = [];
    for (let t = dayStart; t < dayStart + 23 * H; t += 5 * MIN) readings.push({ metric: 'so2', unit: 'mg/Nm3', value: 100, ts: t });
    agg.record({ v: 1, park: 'p1', tenant: 't1', meter: 'm1', seq: 0, receivedAt: dayStart, simulated: false, readings });
    const day = agg.flush(dayStart + 48 * H).events.find((e) => e.window === '1d');
    assert.deepEqual([day?.start, day?.end, day?.count, day?.expected, day?.completeness], [dayStart, dayStart + 23 * H, 276, 276, 1]);
  });

  it('restores a checkpoint of UTC-aligned days into local days: the UTC day is dropped, the local one rebuilt from the open minutes', () => {
    const readings = [{ metric: 'so2', unit: 'mg/Nm3', value: 100, ts: utc('2026-12-01T23:50:00Z') }];
    const old = new WindowAggregator({ registry: parkIn('UTC'), windows: ['1m', '1d'], allowedLatenessMs: 3 * H });
    old.record({ v: 1, park: 'p1', tenant: 't1', meter: 'm1', seq: 0, receivedAt: 0, simulated: false, readings });
    const snap = old.snapshot();
    assert.deepEqual(snap.series[0]?.coarse.map((c) => iso(c.s)), ['2026-12-01T00:00:00Z']);
    const local = WindowAggregator.restore(snap, { registry: parkIn('Asia/Jakarta'), windows: ['1m', '1d'], allowedLatenessMs: 3 * H });
    const day = local.flush(utc('2026-12-03T00:00:00Z')).events.find((e) => e.window === '1d');
    assert.deepEqual([day && iso(day.start), day && iso(day.end), day?.count], ['2026-12-01T17:00:00Z', '2026-12-02T17:00:00Z', 1]);
  });

  it('refuses a park whose time zone the runtime does not know (the registry does, before any aggregator starts)', () => {
    assert.throws(() => new WindowAggregator({ registry: parkIn('Mars/Olympus'), allowedLatenessMs: 0 }), /parks\.0\.timezone: "Mars\/Olympus" is not an IANA time zone/);
  });
});
