/**
 * The console's view of regulatory submissions: the latest record per
 * (kind, station, period start), folded from the compacted topic
 * eip.report-submissions.v1, where the reporting service writes each state
 * change (pending, sent, failed, refused) and each revision of a period.
 * The last record of a key wins, as compaction keeps it.
 *
 * Bounded: per (kind, station) it keeps the `perStation` newest periods
 * (5000 by default: about a week of SPARING 2-minute slots, or seven months
 * of hourly batches). It prunes in bulk, when a station holds a quarter more
 * than that, so a replay of a long topic costs a sort now and then rather than
 * a scan per record; after a prune a period older than every one kept is not
 * taken. At most `maxStations` (kind, station) pairs are held (1000 by
 * default; the registry names far fewer): a record of one more is dropped and
 * counted, so a flood of made-up station names cannot grow it without bound.
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
export const defaultSubmissionStations = 1_000;

interface Station {
  keys: Set<string>;
  /** Periods starting before this were pruned (or would be): not taken again. */
  floor: number;
}

export class SubmissionLog {
  private readonly byKey = new Map<string, SubmissionRecord>();
  private readonly stations = new Map<string, Station>();
  /** Records on the topic that are not the contract's (counted, skipped). */
  unreadable = 0;
  /** Records not taken: older than a full station keeps, or of a station beyond maxStations. */
  dropped = 0;

  readonly perStation: number;
  readonly maxStations: number;
  constructor(perStation = defaultSubmissionsPerStation, maxStations = defaultSubmissionStations) {
    this.perStation = perStation;
    this.maxStations = maxStations;
  }

  get size(): number {
    return this.byKey.size;
  }

  apply(r: SubmissionRecord): void {
    const key = submissionKey(r);
    const stationKey = `${r.kind}:${r.station}`;
    let station = this.stations.get(stationKey);
    if (!station) {
      if (this.stations.size >= this.maxStations) { this.dropped++; return; }
      station = { keys: new Set(), floor: Number.NEGATIVE_INFINITY };
      this.stations.set(stationKey, station);
    }
    if (!station.keys.has(key) && r.periodStart < station.floor) { this.dropped++; return; }
    station.keys.add(key);
    this.byKey.set(key, r);
    if (station.keys.size > this.perStation + Math.ceil(this.perStation / 4)) this.prune(station);
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

  private prune(station: Station): void {
    const held = [...station.keys].map((k) => this.byKey.get(k)!).sort((a, b) => b.periodStart - a.periodStart);
    for (const r of held.slice(this.perStation)) {
      const k = submissionKey(r);
      station.keys.delete(k);
      this.byKey.delete(k);
    }
    station.floor = held[this.perStation - 1]!.periodStart;
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
