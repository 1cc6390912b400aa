import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSignInLimits, SignInLimiter, type Attempt } from './sign-in-limiter.ts';

const second = 1_000;
const minute = 60 * second;

function limiter(): { l: SignInLimiter; advance: (ms: number) => void } {
  let now = Date.parse('2026-12-01T08:00:00Z');
  return { l: new SignInLimiter(() => now), advance: (ms) => { now += ms; } };
}

const fails = (l: SignInLimiter, address: string, name: string, n: number): Attempt[] => Array.from({ length: n }, () => l.begin(address, name));

describe('sign-in limiter', () => {
  it('backs off one address and name exponentially after five failures, and forgets after a quiet window', () => {
    const { l, advance } = limiter();
    assert.ok(fails(l, 'a1', 'rina', 5).every((a) => a.ok));
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const refused = l.begin('a1', 'rina');
      assert.ok(!refused.ok && refused.scope === 'address-name');
      waits.push(refused.retryAfterMs);
      advance(refused.retryAfterMs);
      assert.ok(l.begin('a1', 'rina').ok, 'allowed once the wait is over');
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 16].map((s) => s * second), 'each failure doubles the wait');
    advance(defaultSignInLimits.addressName.forgetMs);
    assert.ok(fails(l, 'a1', 'rina', 5).every((a) => a.ok), 'forgotten after a quiet window');
  });

  it('caps the wait', () => {
    const { l, advance } = limiter();
    for (let i = 0; i < 40; i++) {
      const a = l.begin('a1', 'rina');
      if (!a.ok) {
        assert.ok(a.retryAfterMs <= defaultSignInLimits.addressName.maxMs);
        advance(a.retryAfterMs);
      }
    }
  });

  it('backs off one address trying many names', () => {
    const { l } = limiter();
    for (let i = 0; i < 20; i++) assert.ok(l.begin('a1', `name-${i}`).ok);
    const refused = l.begin('a1', 'someone-else');
    assert.ok(!refused.ok && refused.scope === 'address');
    assert.ok(l.begin('a2', 'someone-else').ok, 'other addresses are not affected');
  });

  it('does not let an outsider lock a user out of the address they sign in from', () => {
    const { l, advance } = limiter();
    assert.ok(l.begin('office', 'rina').ok);
    l.succeeded('office', 'rina');
    // Many addresses guessing rina's password: past the per-name bar.
    for (let i = 0; i < 200; i++) l.begin(`bot-${i}`, 'rina');
    const fresh = l.begin('bot-new', 'rina');
    assert.ok(!fresh.ok && fresh.scope === 'name', 'a new address is refused for this name');
    advance(minute);
    assert.ok(l.begin('office', 'rina').ok, 'rina from her own address still gets in');
    l.succeeded('office', 'rina');
  });

  it('counts an attempt before it is checked, so concurrent guesses cannot slip through together', () => {
    const { l } = limiter();
    const burst = fails(l, 'a1', 'rina', 8);
    assert.deepEqual(burst.map((a) => a.ok), [true, true, true, true, true, false, false, false]);
  });

  it('a success clears the name and pair but not the address\'s other failures', () => {
    const { l } = limiter();
    for (let i = 0; i < 19; i++) l.begin('a1', `name-${i}`);
    assert.ok(l.begin('a1', 'rina').ok);
    l.succeeded('a1', 'rina');
    assert.ok(l.begin('a1', 'x').ok, '19 failures and one success: the twentieth failure is still free');
    assert.ok(!l.begin('a1', 'y').ok);
  });
});
