/** A park's regulatory submissions (SPARING, SISPEK), newest period first: what the receiver accepted, and what failed or was refused and why. */
import type { SubmissionView } from '../../../api/schemas.ts';
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../components/status.tsx';
import { formatDateTime, formatPercent } from '../format.ts';
import { useResource } from '../hooks.ts';
import { links, replaceQuery } from '../router.ts';

const kindName: Record<SubmissionView['kind'], string> = { sparing: 'SPARING', sispek: 'SISPEK' };

const kindFilters = [{ value: '', label: 'SPARING and SISPEK' }, { value: 'sparing', label: 'SPARING' }, { value: 'sispek', label: 'SISPEK' }];
const stateFilters = [{ value: '', label: 'All' }, { value: 'failed,refused', label: 'Failed or refused' }, { value: 'refused', label: 'Refused' }, { value: 'failed', label: 'Failed' }, { value: 'pending', label: 'Pending' }, { value: 'sent', label: 'Sent' }];
const pick = (value: string | null, allowed: ReadonlyArray<{ value: string }>): string => (allowed.some((f) => f.value === value) ? value ?? '' : '');

/** Filters live in the hash's query (`#/parks/p/submissions?kind=sparing&state=failed,refused`), so a view can be bookmarked. */
export function SubmissionsPage({ park, query }: { park: string; query: URLSearchParams }) {
  const [kind, setKind] = useState(() => pick(query.get('kind'), kindFilters));
  const [state, setState] = useState(() => pick(query.get('state'), stateFilters));
  const choose = (next: { kind?: string; state?: string }): void => {
    const k = next.kind ?? kind;
    const st = next.state ?? state;
    setKind(k);
    setState(st);
    replaceQuery({ kind: k, state: st });
  };
  const list = useResource(() => api.submissions(park, { kind: kind || undefined, state: state || undefined, limit: 500 }), `submissions/${park}/${kind}/${state}`, 15_000);
  const filters = (
    <div class="filters" role="group" aria-label="Filters" data-testid="submission-filters">
      <label>Kind{' '}
        <select value={kind} onChange={(e) => choose({ kind: e.currentTarget.value })} data-testid="filter-kind">
          {kindFilters.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
        </select>
      </label>
      <label>State{' '}
        <select value={state} onChange={(e) => choose({ state: e.currentTarget.value })} data-testid="filter-submission-state">
          {stateFilters.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
        </select>
      </label>
    </div>
  );
  if (list.error && !list.data) return <ErrorNote error={list.error} retry={list.reload} />;
  if (!list.data) return <Loading what="submissions" />;
  const { submissions, total, byState, unreadable, dropped, keptPerStation } = list.data;
  return (
    <section class="page" aria-labelledby="sub-title" data-testid="submissions">
      <header class="page-head">
        <h1 id="sub-title">Submissions</h1>
        <p class="muted"><a href={links.park(park)}>{park}</a> · SPARING and SISPEK, newest first · the latest {keptPerStation} periods per station are kept</p>
        <button type="button" class="btn" onClick={list.reload} disabled={list.loading}>Refresh</button>
      </header>
      <p class="counts" data-testid="submission-counts">
        <span class="badge sub-sent">sent: {byState.sent ?? 0}</span>
        <span class="badge sub-pending">pending: {byState.pending ?? 0}</span>
        <span class="badge sub-failed">failed: {byState.failed ?? 0}</span>
        <span class="badge sub-refused">refused: {byState.refused ?? 0}</span>
        {unreadable > 0 && <span class="muted"> · {unreadable} unreadable records skipped</span>}
        {dropped > 0 && <span class="muted"> · {dropped} records beyond what the console keeps</span>}
      </p>
      {filters}
      {submissions.length === 0 ? <p class="empty">{kind || state ? 'No submissions match these filters.' : 'No submissions yet.'}</p> : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Period</th><th scope="col">Kind</th><th scope="col">Station</th><th scope="col">State</th>
                <th scope="col" class="num">Attempts</th><th scope="col" class="num">Records</th><th scope="col" class="num">Completeness</th>
                <th scope="col">Revision</th><th scope="col" class="wide">Last error or receipt</th><th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {submissions.map((s) => (
                <tr key={`${s.kind}:${s.station}:${s.periodStart}`} class={`sub-row-${s.state}`} data-testid="submission-row" data-state={s.state}>
                  <td>{formatDateTime(s.periodStart)}</td>
                  <td>{kindName[s.kind]}</td>
                  <td><code>{s.station}</code>{s.meter && s.meter !== s.station ? <span class="muted"> ({s.meter})</span> : null}</td>
                  <td><span class={`badge sub-${s.state}`}>{s.state}</span></td>
                  <td class="num">{s.attempts}</td>
                  <td class="num">{s.records}/{s.expected}</td>
                  <td class="num">{formatPercent(s.records, s.expected)}</td>
                  <td>{s.revision}</td>
                  <td class="wide">
                    {s.lastError && <span class="error-inline" data-testid="submission-error">{s.lastError}</span>}
                    {s.receipt && <span class="muted" title="receipt">{s.lastError ? ' · ' : ''}receipt <code>{s.receipt}</code></span>}
                  </td>
                  <td>{formatDateTime(s.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > submissions.length && <p class="muted">Showing the newest {submissions.length} of {total}.</p>}
    </section>
  );
}
