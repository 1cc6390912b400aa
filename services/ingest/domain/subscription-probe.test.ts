import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SubscriptionProbe, probeIdOf, probePayload } from './subscription-probe.ts';

function probeAt(start = 1_000_000): { probe: SubscriptionProbe; advance: (ms: number) => void } {
  let now = start;
  const probe = new SubscriptionProbe({ intervalMs: 5000, timeoutMs: 3000, now: () => now, nonce: 'n' });
  return { probe, advance: (ms) => { now += ms; } };
}

describe('subscription probe', () => {
  it('sends at once, then once an interval after each probe that came back', () => {
    const { probe, advance } = probeAt();
    const first = probe.tick(false);
    assert.deepEqual(first, { kind: 'send', id: 'n-1' });
    assert.deepEqual(probe.tick(false), { kind: 'none' }, 'one outstanding at a time');
    advance(40);
    assert.equal(probe.returned('n-1'), 40);
    advance(4000);
    assert.deepEqual(probe.tick(false), { kind: 'none' });
    advance(960);
    assert.deepEqual(probe.tick(false), { kind: 'send', id: 'n-2' });
    assert.ok(probe.healthy);
  });

  it('declares the subscription lost after the timeout of silence, and healthy again once a probe returns', () => {
    const { probe, advance } = probeAt();
    probe.tick(false);
    advance(2999);
    assert.deepEqual(probe.tick(false), { kind: 'none' });
    advance(1);
    assert.deepEqual(probe.tick(false), { kind: 'lost', waitedMs: 3000 });
    assert.equal(probe.healthy, false);
    probe.connected();
    const again = probe.tick(false);
    assert.equal(again.kind, 'send');
    assert.equal(probe.healthy, false, 'not healthy until a probe came back');
    advance(10);
    assert.equal(probe.returned(again.kind === 'send' ? again.id : ''), 10);
    assert.equal(probe.healthy, true);
  });

  it('waits while the session queue is still delivering: the probe is queued behind it', () => {
    const { probe, advance } = probeAt();
    probe.tick(false);
    for (let i = 0; i < 10; i++) {
      advance(2000);
      probe.delivered();
      assert.deepEqual(probe.tick(false), { kind: 'none' }, `still delivering after ${(i + 1) * 2} s`);
    }
    advance(3000);
    assert.equal(probe.tick(false).kind, 'lost', 'the queue ran dry and the probe never came');
  });

  it('never declares a loss while acknowledgements are held, and counts the timeout from their release', () => {
    const { probe, advance } = probeAt();
    probe.tick(false);
    for (let i = 0; i < 5; i++) {
      advance(10_000);
      assert.deepEqual(probe.tick(true), { kind: 'none' });
    }
    advance(2999);
    assert.deepEqual(probe.tick(false), { kind: 'none' });
    advance(1);
    assert.equal(probe.tick(false).kind, 'lost');
  });

  it('ignores a probe of an earlier connection or incarnation, and a reconnect probes at once', () => {
    const { probe, advance } = probeAt();
    probe.tick(false);
    advance(100);
    assert.equal(probe.returned('old-7'), undefined);
    probe.connected();
    assert.deepEqual(probe.tick(false), { kind: 'send', id: 'n-2' });
    assert.equal(probe.returned('n-1'), undefined, 'the one sent before the reconnect');
  });

  it('is not healthy while the broker refuses the probe, without calling that a lost subscription', () => {
    const { probe, advance } = probeAt();
    const first = probe.tick(false);
    assert.equal(probe.refused('other'), false, 'only the outstanding one');
    assert.equal(probe.refused(first.kind === 'send' ? first.id : ''), true);
    assert.equal(probe.healthy, false);
    advance(10_000);
    const next = probe.tick(false);
    assert.equal(next.kind, 'send', 'tries again after an interval, never declares it lost');
    advance(1);
    probe.returned(next.kind === 'send' ? next.id : '');
    assert.equal(probe.healthy, true, 'the ACL was fixed');
  });

  it('reads its own payload and nothing else', () => {
    assert.equal(probeIdOf(Buffer.from(probePayload('abc-1'))), 'abc-1');
    for (const bad of ['', 'x', '{"probe":1}', 'null', '[]', '{"v":1}']) assert.equal(probeIdOf(Buffer.from(bad)), undefined, bad);
  });
});
