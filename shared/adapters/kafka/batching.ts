import type { OutgoingMessage } from '../../ports/event-bus.ts';

/** Record framing (length, attributes, deltas, varints) is well under this per record. */
const recordOverheadBytes = 64;

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** An upper estimate of a message's bytes inside a Kafka record batch (uncompressed). */
export function estimateRecordBytes(message: OutgoingMessage): number {
  let size = recordOverheadBytes + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) size += 8 + Buffer.byteLength(name) + Buffer.byteLength(value);
  return size;
}

/**
 * Splits messages, in order, into chunks of at most maxCount messages and
 * maxBytes estimated bytes. Kafka refuses a record batch over message.max.bytes
 * (about 1 MB) as MESSAGE_TOO_LARGE, which retrying never fixes, so a send is
 * capped by bytes and not only by count. A single message over maxBytes gets a
 * chunk of its own: the broker decides whether it fits its topic's limit.
 */
export function splitByBytes<T>(messages: readonly T[], sizeOf: (message: T) => number, maxBytes: number, maxCount: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
