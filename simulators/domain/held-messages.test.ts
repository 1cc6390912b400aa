import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
import type { ReadingEnvelope } from '../../shared/contracts/payloads.ts';
import { ParkSimulation, type OutboundMessage } from './simulation.ts';
import { parseScenario } from './scenario.ts';
import { shuffleAll } from './held-messages.ts';
import { mulberry32 } from './prng.ts';
import { parseDuration } from './duration.ts';

const registry = loadParkRegistry(demoParkPath);
const start = Date.parse('2026-11-24T00:00:00Z');
const min = 60_000;
const end = start + 4 * 60 * min;

/** One meter's messages up to `end`, advanced in steps of stepMs as the CLI does (0: one call). */
function run(scenario: unknown[], meter: string, stepMs = 0): OutboundMessage[] {
  const sim = new ParkSimulation([registry.meter(meter)!], { seed: 1, startMs: start, scenario: parseScenario(scenario, start, registry) });
  if (stepMs === 0) return sim.advanceTo(end);
  const out: OutboundMessage[] = [];
  for (let t = start + stepMs; t <= end; t += stepMs) out.push(...sim.advanceTo(t));
  return out;
}
const envelope = (m: OutboundMessage): ReadingEnvelope => JSON.parse(m.payload) as ReadingEnvelope;
const seqs = (msgs: readonly OutboundMessage[]): number[] => msgs.map((m) => envelope(m).seq);

test('shuffleAll moves every item, keeps the set, and repeats for a seed', () => {
  for (const n of [2, 3, 5, 30]) {
    const items = Array.from({ length: n }, (_, i) => i);
    const shuffled = shuffleAll(items, mulberry32(n));
    assert.deepEqual([...shuffled].sort((a, b) => a - b), items);
    assert.ok(shuffled.every((v, i) => v !== i), `n=${n}: ${shuffled.join(',')}`);
    assert.deepEqual(shuffleAll(items, mulberry32(n)), shuffled);
  }
  assert.deepEqual(shuffleAll([7], mulberry32(1)), [7]);
});

// Spans on and off the meters' cadence grids: 2-min SPARING, 5-min CEMS, a span ending between ticks.
const spans = [
  { meter: 'wwtp-sparing-outlet', at: '+10m', for: '20m', held: 10 },
  { meter: 'snk-stack-rkef1', at: '+1h', for: '30m', held: 6 },
  { meter: 'btx-gas', at: '+7m', for: '11m', held: 2 },
];

for (const fault of ['out-of-order', 'late-burst'] as const) {
  for (const s of spans) {
    test(`${fault} on ${s.meter} (${s.at} for ${s.for}): the same messages, held in the span and sent together when it ends`, () => {
      const from = start + parseDuration(s.at)!;
      const until = from + parseDuration(s.for)!;
      const plain = run([], s.meter);
      const faulted = run([{ at: s.at, meter: s.meter, fault, for: s.for }], s.meter);

      // Same set of messages: payloads (ts, seq, values) untouched.
      assert.equal(faulted.length, plain.length);
      assert.deepEqual(faulted.map((m) => m.payload).sort(), plain.map((m) => m.payload).sort());
      for (const m of faulted) assert.equal(Date.parse(envelope(m).ts as string), m.eventTimeMs);

      // Nothing goes out during the span; what it held goes out at its end, in one burst.
      assert.equal(faulted.filter((m) => m.sendAtMs >= from && m.sendAtMs < until).length, 0);
      const burst = faulted.filter((m) => m.eventTimeMs >= from && m.eventTimeMs < until);
      assert.equal(burst.length, s.held);
      assert.ok(burst.every((m) => m.sendAtMs === until));
      const firstAfter = faulted.findIndex((m) => m.eventTimeMs >= from);
      assert.deepEqual(faulted.slice(firstAfter, firstAfter + s.held), burst, 'the burst is contiguous and comes before later ticks');
      // Send order never goes backwards in time.
      assert.ok(faulted.every((m, i) => i === 0 || m.sendAtMs >= faulted[i - 1]!.sendAtMs));

      const heldSeqs = seqs(burst);
      const inOrder = [...heldSeqs].sort((a, b) => a - b);
      if (fault === 'late-burst') assert.deepEqual(heldSeqs, inOrder);
      else {
        assert.notDeepEqual(heldSeqs, inOrder);
        assert.ok(heldSeqs.every((q, i) => q !== inOrder[i]), `every held message moves: ${heldSeqs.join(',')}`);
      }
      // The CLI advances in small steps: the result must not depend on them.
      assert.deepEqual(run([{ at: s.at, meter: s.meter, fault, for: s.for }], s.meter, min), faulted);
    });
  }
}

test('late-burst keeps counting through the outage: seq and registers have no gap', () => {
  const msgs = run([{ at: '+1h', meter: 'cbr-elec-main', fault: 'late-burst', for: '30m' }], 'cbr-elec-main');
  assert.deepEqual([...seqs(msgs)].sort((a, b) => a - b), Array.from({ length: 240 }, (_, i) => i + 1));
  const burst = msgs.filter((m) => m.sendAtMs === start + 90 * min);
  // 30 held readings, then the live one of +90m.
  assert.equal(burst.length, 31);
  assert.deepEqual(seqs(burst), Array.from({ length: 31 }, (_, i) => 61 + i));
});

test('a run that ends inside a span hands over what is held with drain()', () => {
  const sim = new ParkSimulation([registry.meter('wwtp-sparing-outlet')!], {
    seed: 1, startMs: start, scenario: parseScenario([{ at: '+30m', meter: 'wwtp-sparing-outlet', fault: 'late-burst', for: '2h' }], start, registry),
  });
  const sent = sim.advanceTo(start + 60 * min);
  assert.equal(sent.length, 15);
  assert.equal(sim.nextDueMs(), start + 60 * min);
  const drained = sim.drain(start + 60 * min);
  assert.equal(drained.length, 15);
  assert.deepEqual(seqs(drained), Array.from({ length: 15 }, (_, i) => 16 + i));
  assert.ok(drained.every((m) => m.sendAtMs === start + 60 * min));
  assert.deepEqual(sim.drain(start + 60 * min), []);
});

test('a duplicate inside a late-burst is held and released with its original', () => {
  const msgs = run([
    { at: '+20m', meter: 'btx-elec-main', fault: 'late-burst', for: '30m' },
    { at: '+25m', meter: 'btx-elec-main', fault: 'duplicate' },
  ], 'btx-elec-main');
  const burst = msgs.filter((m) => m.sendAtMs === start + 50 * min);
  assert.deepEqual(seqs(burst), [5, 6, 6, 7, 8, 9, 10, 11]);
});
