/** What the pipeline refused, newest first, with why: for operators finding a misconfigured meter. */
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../components/status.tsx';
import { formatDateTime } from '../format.ts';
import { useResource } from '../hooks.ts';
import { canAct, useSession } from '../session.ts';

export function DeadLetters() {
  const { me } = useSession();
  if (!canAct(me)) {
    return <section class="page"><h1>Dead letters</h1><p>Dead letters are shown to operators and admins; you are signed in as a {me.role}.</p></section>;
  }
  return <DeadLetterList />;
}

function DeadLetterList() {
  const list = useResource(() => api.deadLetters(undefined, 200), 'dead-letters', 15_000);
  if (list.error && !list.data) return <ErrorNote error={list.error} retry={list.reload} />;
  if (!list.data) return <Loading what="dead letters" />;
  const { deadLetters, byReason } = list.data;
  const reasons = Object.entries(byReason).sort((a, b) => b[1] - a[1]);
  return (
    <section class="page" aria-labelledby="dl-title" data-testid="dead-letters">
      <header class="page-head">
        <h1 id="dl-title">Dead letters</h1>
        <button type="button" class="btn" onClick={list.reload} disabled={list.loading}>Refresh</button>
      </header>
      <p class="muted">Since the console started, by reason:{' '}
        {reasons.length === 0 ? 'none' : reasons.map(([r, n]) => <span key={r} class="badge reason">{r}: {n}</span>)}
      </p>
      {deadLetters.length === 0 ? <p class="empty">Nothing was refused.</p> : (
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">Received</th><th scope="col">Reason</th><th scope="col">Stage</th><th scope="col">Source</th><th scope="col" class="wide">Detail and payload</th></tr></thead>
            <tbody>
              {deadLetters.map((d, i) => (
                <tr key={`${d.receivedAt}-${i}`} data-testid="dead-letter-row">
                  <td>{formatDateTime(d.receivedAt)}</td>
                  <td><span class="badge reason">{d.reason}</span></td>
                  <td>{d.stage}</td>
                  <td><code>{d.source}</code></td>
                  <td class="wide">
                    {d.detail}
                    <details>
                      <summary>Payload ({d.payloadBytes} bytes)</summary>
                      {d.payloadText === null ? <p class="muted">not UTF-8 text</p> : <pre>{d.payloadText}</pre>}
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
