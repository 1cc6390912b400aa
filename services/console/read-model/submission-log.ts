/**
 * The console's view of regulatory submissions: the latest record per
 * (kind, station, period start), folded from the compacted topic
 * eip.report-submissions.v1, where the reporting service writes each state
 * change (pending, sent, failed, refused) and each revision of a period.
 * The last record of a key wins, as compaction keeps it.
 *
 * Bounded: per (kind, station) it keeps the `perStation` newest periods
 * (5000 by default: about a week of SPARING 2-minute slots, or seven months
 * of hourly batches); an older period is dropped, and a record for a period
 * older than all of those held on a full station is not taken.
 */
import { submissionKey, type SubmissionKind, type SubmissionRecord, type SubmissionState } from '../../../shared/contracts/submissions.ts';

export interface SubmissionFilter {
  park: string;
  kinds?: readonly SubmissionKind[] | undefined;
  states?: readonly SubmissionState[] | undefined;
  station?: string | undefined;
  /** Period start in [from, to). */
  from?: number | undefined;
  to?: number | undefined;
}

export const defaultSubmissionsPerStation = 5_000;

export class SubmissionLog {
  private readonly byKey = new Map<string, SubmissionRecord>();
  /** Keys held per (kind, station), for the bound. */
  private readonly byStation = new Map<string, Set<string>>();
  /** Records on the topic that are not the contract's (counted, skipped). */
  unreadable = 0;

  constructor(readonly perStation = defaultSubmissionsPerStation) {}

  get size(): number {
    return this.byKey.size;
  }

  apply(r: SubmissionRecord): void {
    const key = submissionKey(r);
    const stationKey = `${r.kind}:${r.station}`;
    let keys = this.byStation.get(stationKey);
    if (!keys) {
      keys = new Set();
      this.byStation.set(stationKey, keys);
    }
    if (!keys.has(key) && keys.size >= this.perStation) {
      const oldest = this.oldest(keys);
      if (oldest && oldest.periodStart >= r.periodStart) return;
      if (oldest) {
        const k = submissionKey(oldest);
        keys.delete(k);
        this.byKey.delete(k);
      }
    }
    keys.add(key);
    this.byKey.set(key, r);
  }

  countUnreadable(): void {
    this.unreadable++;
  }

  /** Matching records, newest period first; `total` counts all that match. */
  list(filter: SubmissionFilter, limit = Number.POSITIVE_INFINITY): { submissions: SubmissionRecord[]; total: number } {
    const out: SubmissionRecord[] = [];
    for (const r of this.byKey.values()) if (matches(r, filter)) out.push(r);
    out.sort((a, b) => b.periodStart - a.periodStart || a.kind.localeCompare(b.kind) || a.station.localeCompare(b.station));
    return { submissions: out.slice(0, limit), total: out.length };
  }

  /** Submissions of a park in each state (the park overview shows failed and refused). */
  stateCounts(park: string): Record<SubmissionState, number> {
    const counts: Record<SubmissionState, number> = { pending: 0, sent: 0, failed: 0, refused: 0 };
    for (const r of this.byKey.values()) if (r.park === park) counts[r.state] += 1;
    return counts;
  }

  private oldest(keys: ReadonlySet<string>): SubmissionRecord | undefined {
    let oldest: SubmissionRecord | undefined;
    for (const k of keys) {
      const r = this.byKey.get(k);
      if (r && (!oldest || r.periodStart < oldest.periodStart)) oldest = r;
    }
    return oldest;
  }
}

function matches(r: SubmissionRecord, f: SubmissionFilter): boolean {
  if (r.park !== f.park) return false;
  if (f.kinds && !f.kinds.includes(r.kind)) return false;
  if (f.states && !f.states.includes(r.state)) return false;
  if (f.station !== undefined && r.station !== f.station) return false;
  if (f.from !== undefined && r.periodStart < f.from) return false;
  if (f.to !== undefined && r.periodStart >= f.to) return false;
  return true;
}
