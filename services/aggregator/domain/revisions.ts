/**
 * How windows are numbered. A revision is emitted when a window's content
 * fingerprint changes; and after a restore, a window changed by the replay is
 * numbered after the store. The records
 * since the checkpoint are replayed in batches cut differently from the run
 * that died, so a window may come out fewer times than it did; the store holds
 * every revision emitted (it is written before the bus), and numbering after it
 * keeps a revision number from ever naming two contents.
 */
import type { AggregateEvent } from '../../../shared/contracts/events.ts';
import { fingerprint } from './fingerprint.ts';

/**
 * What tells a real revision from a recomputation that changed nothing: the
 * same content fingerprint as the aggregator's own emissions.
 */
export function contentHash(e: Pick<AggregateEvent, 'count' | 'sum' | 'min' | 'max' | 'last' | 'consumption' | 'completeness' | 'simulated'> & { registerEvents: readonly string[] }): number {
  return fingerprint(`${e.count}|${e.sum}|${e.min}|${e.max}|${e.last}|${e.consumption ?? ''}|${e.registerEvents.join(',')}|${e.completeness ?? ''}|${e.simulated}`);
}

/** What the store holds of a window, by windowId: its revision and content fingerprint (contentHash). */
export type StoredRevisions = ReadonlyMap<string, { revision: number; hash: number }>;

/** kept: the provisional number stands; repeat: the store holds this content; renumbered: the store holds a later revision. */
export type NumberingOutcome = 'kept' | 'repeat' | 'renumbered';

/**
 * The stored revision when the content is the same (it goes out again as a
 * repeat), else the stored revision + 1 when that is above the provisional one.
 */
export function numberAfterStore(event: AggregateEvent, stored: StoredRevisions): { revision: number; hash: number; outcome: NumberingOutcome } {
  const hash = contentHash(event);
  const s = stored.get(event.windowId);
  if (!s) return { revision: event.revision, hash, outcome: 'kept' };
  if (s.hash === hash) return { revision: s.revision, hash, outcome: s.revision === event.revision ? 'kept' : 'repeat' };
  const revision = Math.max(event.revision, s.revision + 1);
  return { revision, hash, outcome: revision === event.revision ? 'kept' : 'renumbered' };
}

/** Numbers each event after the store and hands its final number to `emitted` (the window's state); counts the outcomes. */
export function numberAllAfterStore(
  events: readonly AggregateEvent[],
  stored: StoredRevisions,
  emitted: (event: AggregateEvent, revision: number, hash: number) => void,
): Record<NumberingOutcome, number> {
  const n: Record<NumberingOutcome, number> = { kept: 0, repeat: 0, renumbered: 0 };
  for (const event of events) {
    const r = numberAfterStore(event, stored);
    n[r.outcome]++;
    if (r.revision === event.revision) continue;
    event.revision = r.revision;
    emitted(event, r.revision, r.hash);
  }
  return n;
}
