/**
 * Query arguments every time-series adapter refuses the same way, so a caller
 * gets the same PAYLOAD_INVALID whichever store is behind the port.
 */
import { EipError } from '../errors.ts';

export function checkRange(q: { from: number; to: number; limit?: number | undefined; everyMs?: number | undefined }): void {
  if (!Number.isFinite(q.from) || !Number.isFinite(q.to)) throw new EipError('PAYLOAD_INVALID', `from and to must be epoch ms, got ${q.from} and ${q.to}`);
  if (q.limit !== undefined && (!Number.isSafeInteger(q.limit) || q.limit < 0)) throw new EipError('PAYLOAD_INVALID', `limit must be a non-negative integer, got ${q.limit}`);
  if (q.everyMs !== undefined && (!Number.isSafeInteger(q.everyMs) || q.everyMs <= 0)) {
    throw new EipError('PAYLOAD_INVALID', `query aggregate: everyMs must be a positive integer, got ${q.everyMs}`);
  }
}
