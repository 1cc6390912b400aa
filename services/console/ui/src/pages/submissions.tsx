/** A park's regulatory submissions (SPARING, SISPEK), newest period first: what the receiver accepted, and what failed or was refused and why. */
import type { SubmissionView } from '../../../api/schemas.ts';
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../components/status.tsx';
import { formatDateTime, formatPercent } from '../format.ts';
import { useResource } from '../hooks.ts';
import { links } from '../router.ts';

const kindName: Record<SubmissionView['kind'], string> = { sparing: 'SPARING', sispek: 'SISPEK' };

export function SubmissionsPage({ park }: { park: string }) {
  const list = useResource(() => api.submissions(park, { limit: 500 }), `submissions/${park}`, 15_000);
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
      {submissions.length === 0 ? <p class="empty">No submissions yet.</p> : (
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
