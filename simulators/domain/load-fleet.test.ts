import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
import { readingEnvelopeSchema, type ReadingEnvelope } from '../../shared/contracts/payloads.ts';
import { parseMeterTopic } from '../../shared/contracts/mqtt-topics.ts';
import { LoadFleet } from './load-fleet.ts';

const entries = [...loadParkRegistry(demoParkPath).allMeters()];
const now = Date.parse('2026-11-24T03:00:00Z');

test('meters take turns; each sends valid simulated envelopes with seq 1, 2, 3 ...', () => {
  const fleet = new LoadFleet(entries, 1);
  const rounds = 4;
  const msgs = Array.from({ length: entries.length * rounds }, (_, i) => fleet.next(now + i * 1000));
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    const entry = entries[i % entries.length]!;
    assert.equal(m.meter, entry.meter.id);
    assert.equal(m.tenant, entry.tenant.id);
    assert.deepEqual(parseMeterTopic(m.topic), { kind: 'telemetry', park: entry.park.id, tenant: entry.tenant.id, meter: entry.meter.id });
    const env = readingEnvelopeSchema.parse(JSON.parse(m.payload));
    assert.equal(env.simulated, true);
    assert.equal(env.seq, Math.floor(i / entries.length) + 1);
    assert.equal(env.readings.length, entry.meter.metrics.length);
    assert.equal(m.readings, env.readings.length);
    assert.equal(Date.parse(env.ts as string), now + i * 1000);
  }
  assert.equal(fleet.maxLeadMs, 0);
});

test('peekReadings is the size of the next message', () => {
  const fleet = new LoadFleet(entries, 1);
  for (let i = 0; i < entries.length * 2; i++) {
    const expected = fleet.peekReadings();
    assert.equal(fleet.next(now).readings, expected);
  }
});

test('one meter asked faster than once a millisecond gets strictly later timestamps, and the lead is reported', () => {
  const fleet = new LoadFleet(entries.slice(0, 1), 1);
  const ts = Array.from({ length: 5 }, () => Date.parse((JSON.parse(fleet.next(now).payload) as ReadingEnvelope).ts as string));
  assert.deepEqual(ts, [now, now + 1, now + 2, now + 3, now + 4]);
  assert.equal(fleet.maxLeadMs, 4);
});

test('the same seed gives the same messages', () => {
  const run = (seed: number): string[] => {
    const fleet = new LoadFleet(entries, seed);
    return Array.from({ length: 100 }, (_, i) => fleet.next(now + i * 250).payload);
  };
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
});
