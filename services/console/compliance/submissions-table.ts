/** Submissions sent for the scope in the period (SPARING, SISPEK) with their state and receipts, from the reporting service's records. */
import type { SubmissionRecord } from '../../../shared/contracts/submissions.ts';
import type { PackInput } from './pack-input.ts';

export type SubmissionRow = Pick<SubmissionRecord,
  'kind' | 'station' | 'tenant' | 'meter' | 'periodStart' | 'periodEnd' | 'records' | 'expected' | 'state' | 'attempts' | 'revision' | 'lastError' | 'receipt' | 'sentAt' | 'updatedAt'>;

export function buildSubmissions(input: Pick<PackInput, 'submissions' | 'park' | 'tenant' | 'period'>): SubmissionRow[] {
  return input.submissions
    .filter((s) => s.park === input.park.id && (input.tenant === undefined || s.tenant === input.tenant.id)
      && s.periodStart >= input.period.from && s.periodStart < input.period.to)
    .map((s): SubmissionRow => ({
      kind: s.kind, station: s.station, tenant: s.tenant, meter: s.meter, periodStart: s.periodStart, periodEnd: s.periodEnd,
      records: s.records, expected: s.expected, state: s.state, attempts: s.attempts, revision: s.revision,
      lastError: s.lastError, receipt: s.receipt, sentAt: s.sentAt, updatedAt: s.updatedAt,
    }))
    .sort((a, b) => a.periodStart - b.periodStart || a.kind.localeCompare(b.kind) || a.station.localeCompare(b.station));
}
