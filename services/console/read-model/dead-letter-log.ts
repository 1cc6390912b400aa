/**
 * The latest dead letters, newest first, in a bounded ring: operators need to see
 * what was refused and why, not the whole topic (which Kafka keeps).
 */
import type { DeadLetter } from '../../../shared/contracts/events.ts';
import type { DeadLetterView } from '../api/schemas.ts';

const previewBytes = 2048;

export class DeadLetterLog {
  private readonly ring: DeadLetterView[] = [];
  /** Per park (null: none known), per reason: counts are scoped like the letters themselves. */
  private readonly counts = new Map<string | null, Map<string, number>>();

  private readonly capacity: number;
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  add(letter: DeadLetter): DeadLetterView {
    const payload = Buffer.from(letter.payloadBase64, 'base64');
    const view: DeadLetterView = {
      reason: letter.reason, detail: letter.detail, stage: letter.stage, source: letter.source, receivedAt: letter.receivedAt,
      payloadText: textPreview(payload), payloadBytes: payload.length, park: parkOf(letter.source),
    };
    this.ring.push(view);
    if (this.ring.length > this.capacity) this.ring.shift();
    const ofPark = this.counts.get(view.park) ?? new Map<string, number>();
    ofPark.set(letter.reason, (ofPark.get(letter.reason) ?? 0) + 1);
    this.counts.set(view.park, ofPark);
    return view;
  }

  /** Newest first; a letter whose source names no park is visible to every park's readers only when `includeUnknown`. */
  list(limit: number, parks?: ReadonlySet<string>, includeUnknown = true): DeadLetterView[] {
    const out: DeadLetterView[] = [];
    for (let i = this.ring.length - 1; i >= 0 && out.length < limit; i--) {
      const v = this.ring[i]!;
      if (parks && (v.park === null ? !includeUnknown : !parks.has(v.park))) continue;
      out.push(v);
    }
    return out;
  }

  /** Letters seen since start by reason, over the same parks `list` would show. */
  byReason(parks?: ReadonlySet<string>, includeUnknown = true): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [park, reasons] of this.counts) {
      if (parks && (park === null ? !includeUnknown : !parks.has(park))) continue;
      for (const [reason, n] of reasons) out[reason] = (out[reason] ?? 0) + n;
    }
    return out;
  }
}

/** MQTT sources look like eip/{park}/...; Kafka sources name no park. */
export function parkOf(source: string): string | null {
  const m = /^eip\/([^/]+)\//.exec(source);
  return m ? m[1]! : null;
}

function textPreview(payload: Buffer): string | null {
  const cut = payload.length > previewBytes;
  const text = payload.subarray(0, previewBytes).toString('utf8');
  // Replacement characters mean it was not UTF-8, except at the end of a cut preview (a character split in two).
  return (cut ? text.slice(0, -3) : text).includes('\uFFFD') ? null : text;
}
