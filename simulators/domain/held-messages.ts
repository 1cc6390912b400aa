/**
 * Messages a meter holds back, grouped by the scenario entry that holds them
 * and released together when its span ends: a logger buffering through an
 * outage (late-burst, in order) or a gateway that reorders (out-of-order).
 * A held message keeps its payload, so its ts and seq stay those of the reading.
 */
import type { OutboundMessage } from './simulation.ts';
import type { HoldSpan } from './scenario.ts';
import { hashSeed, mulberry32, type Rng } from './prng.ts';

interface Group {
  entry: number;
  releaseAtMs: number;
  shuffle: boolean;
  messages: OutboundMessage[];
}

/**
 * Sattolo's shuffle: a random cyclic permutation, so with two or more messages
 * none stays in its place and the order always differs from the original.
 */
export function shuffleAll<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export class HeldMessages {
  private readonly groups: Group[] = [];

  private readonly seed: number;
  private readonly meterId: string;
  constructor(seed: number, meterId: string) {
    this.seed = seed;
    this.meterId = meterId;
  }

  /** Keeps a message until its span's release; releaseAtMs is absolute. */
  hold(span: HoldSpan, releaseAtMs: number, message: OutboundMessage): void {
    let group = this.groups.find((g) => g.entry === span.entry);
    if (!group) {
      group = { entry: span.entry, releaseAtMs, shuffle: span.shuffle, messages: [] };
      this.groups.push(group);
    }
    group.messages.push(message);
  }

  /** The messages of every group whose release time isDue, sent at that time. */
  release(isDue: (releaseAtMs: number) => boolean): OutboundMessage[] {
    const out: OutboundMessage[] = [];
    for (const g of [...this.groups]) {
      if (!isDue(g.releaseAtMs)) continue;
      this.groups.splice(this.groups.indexOf(g), 1);
      out.push(...this.ordered(g).map((m) => ({ ...m, sendAtMs: g.releaseAtMs })));
    }
    return out;
  }

  /** Everything still held, sent at atMs (a run that ends inside a span). */
  drain(atMs: number): OutboundMessage[] {
    return this.release(() => true).map((m) => ({ ...m, sendAtMs: atMs }));
  }

  /** The earliest release, Infinity when nothing is held. */
  nextReleaseMs(): number {
    return Math.min(Infinity, ...this.groups.map((g) => g.releaseAtMs));
  }

  get size(): number {
    return this.groups.reduce((n, g) => n + g.messages.length, 0);
  }

  private ordered(g: Group): OutboundMessage[] {
    // Seeded per meter and entry, so a run repeats and other meters are unaffected.
    return g.shuffle ? shuffleAll(g.messages, mulberry32(hashSeed(this.seed, `${this.meterId}#${g.entry}`))) : g.messages;
  }
}
