/**
 * How often sign-in may be tried, decided before any password is hashed, so a
 * flood of guesses costs the console a map look-up rather than a scrypt each.
 * Three buckets, each with exponential backoff once its free failures are used:
 *  - per client address, whatever the names tried (one address guessing many names);
 *  - per address and name (one address guessing one user's password);
 *  - per name across all addresses, with a much higher bar (guessing from many
 *    addresses). Over it, the name is refused only from addresses it has not
 *    signed in from lately, so an outsider cannot lock a user out of their own
 *    workstation by failing on purpose.
 * Every attempt counts as a failure until it succeeds, so concurrent guesses
 * cannot all slip through before the first failure is recorded. Pure: the clock
 * is handed in; memory is bounded.
 */

export interface BackoffPolicy {
  /** Failures allowed before any wait. */
  free: number;
  /** The first wait; each further failure doubles it. */
  baseMs: number;
  maxMs: number;
  /** A bucket quiet this long is forgotten. */
  forgetMs: number;
}

export interface SignInLimits {
  address: BackoffPolicy;
  addressName: BackoffPolicy;
  name: BackoffPolicy;
  /** How long a successful sign-in makes its address known for that name. */
  knownAddressMs: number;
  /** Bound on the entries of each map. */
  maxEntries: number;
}

const minute = 60_000;

export const defaultSignInLimits: SignInLimits = {
  address: { free: 20, baseMs: 1_000, maxMs: 15 * minute, forgetMs: 15 * minute },
  addressName: { free: 5, baseMs: 1_000, maxMs: 15 * minute, forgetMs: 15 * minute },
  name: { free: 100, baseMs: 1_000, maxMs: 15 * minute, forgetMs: 15 * minute },
  knownAddressMs: 30 * 24 * 60 * minute,
  maxEntries: 50_000,
};

export type LimitScope = 'address' | 'address-name' | 'name';
export type Attempt = { ok: true } | { ok: false; scope: LimitScope; retryAfterMs: number };

interface Bucket {
  failures: number;
  last: number;
}

/** Map with a size bound: the least recently touched entry goes first. */
class BoundedMap<V> {
  private readonly m = new Map<string, V>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  get(k: string): V | undefined {
    return this.m.get(k);
  }
  set(k: string, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value!);
  }
  delete(k: string): void {
    this.m.delete(k);
  }
}

export class SignInLimiter {
  private readonly addresses: BoundedMap<Bucket>;
  private readonly pairs: BoundedMap<Bucket>;
  private readonly names: BoundedMap<Bucket>;
  /** Per name: address -> when it last signed in as that name. */
  private readonly known: BoundedMap<Map<string, number>>;

  private readonly now: () => number;
  private readonly limits: SignInLimits;
  constructor(now: () => number, limits: SignInLimits = defaultSignInLimits) {
    this.now = now;
    this.limits = limits;
    this.addresses = new BoundedMap(limits.maxEntries);
    this.pairs = new BoundedMap(limits.maxEntries);
    this.names = new BoundedMap(limits.maxEntries);
    this.known = new BoundedMap(limits.maxEntries);
  }

  /** Whether this attempt may go ahead; if so it is counted as a failure until `succeeded`. */
  begin(address: string, name: string): Attempt {
    const now = this.now();
    const pair = pairKey(address, name);
    const checks: Array<[LimitScope, BoundedMap<Bucket>, string, BackoffPolicy]> = [
      ['address-name', this.pairs, pair, this.limits.addressName],
      ['address', this.addresses, address, this.limits.address],
    ];
    if (!this.isKnown(name, address, now)) checks.push(['name', this.names, name, this.limits.name]);
    for (const [scope, map, key, policy] of checks) {
      const wait = this.waitFor(map, key, policy, now);
      if (wait > 0) return { ok: false, scope, retryAfterMs: wait };
    }
    this.fail(this.pairs, pair, now);
    this.fail(this.addresses, address, now);
    this.fail(this.names, name, now);
    return { ok: true };
  }

  /** The attempt was right: its name and pair start afresh, and the address becomes known for the name. */
  succeeded(address: string, name: string): void {
    const now = this.now();
    this.pairs.delete(pairKey(address, name));
    this.names.delete(name);
    // The address bucket keeps its count: a right password for one name must not reset guessing at others.
    const a = this.addresses.get(address);
    if (a && a.failures > 0) this.addresses.set(address, { failures: a.failures - 1, last: a.last });
    const known = this.known.get(name) ?? new Map<string, number>();
    known.delete(address);
    known.set(address, now);
    // A handful of workstations per user is plenty; the oldest goes.
    if (known.size > 16) known.delete(known.keys().next().value!);
    this.known.set(name, known);
  }

  private isKnown(name: string, address: string, now: number): boolean {
    const at = this.known.get(name)?.get(address);
    return at !== undefined && now - at < this.limits.knownAddressMs;
  }

  private waitFor(map: BoundedMap<Bucket>, key: string, policy: BackoffPolicy, now: number): number {
    const b = map.get(key);
    if (!b) return 0;
    if (now - b.last >= policy.forgetMs) {
      map.delete(key);
      return 0;
    }
    if (b.failures < policy.free) return 0;
    const wait = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(30, b.failures - policy.free));
    return Math.max(0, b.last + wait - now);
  }

  private fail(map: BoundedMap<Bucket>, key: string, now: number): void {
    const b = map.get(key);
    map.set(key, { failures: (b?.failures ?? 0) + 1, last: now });
  }
}

const pairKey = (address: string, name: string): string => `${address}\u0000${name}`;
