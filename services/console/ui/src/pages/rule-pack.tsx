/** The rule pack in force: what raises which alert, and each rule as written. */
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../components/status.tsx';
import { useResource } from '../hooks.ts';

export function RulePack() {
  const pack = useResource(() => api.rulePack(), 'rule-pack', 300_000);
  if (pack.error && !pack.data) return <ErrorNote error={pack.error} retry={pack.reload} />;
  if (!pack.data) return <Loading what="the rule pack" />;
  const p = pack.data;
  return (
    <section class="page" aria-labelledby="rules-title" data-testid="rule-pack">
      <header class="page-head">
        <div>
          <h1 id="rules-title">Rule pack: {p.name}</h1>
          {p.description && <p>{p.description}</p>}
          <p class="muted">{p.rules.length} rules, from <code>{p.path}</code></p>
        </div>
      </header>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Rule</th><th scope="col">Kind</th><th scope="col">Metric</th><th scope="col">Severities</th><th scope="col" class="wide">What it checks</th></tr></thead>
          <tbody>
            {p.rules.map((r) => (
              <tr key={r.id} id={`rule-${r.id}`} data-testid="rule-row">
                <th scope="row"><code>{r.id}</code> <span class="muted">v{r.version}</span></th>
                <td>{r.kind}</td>
                <td>{r.metric ?? <span class="muted">–</span>}</td>
                <td>{r.severities.map((s) => <span key={s} class={`badge sev-${s}`}>{s}</span>)}</td>
                <td class="wide">
                  {r.description}
                  {r.source && <div class="muted">Source: {r.source}</div>}
                  <details><summary>As written</summary><pre>{JSON.stringify(r.spec, null, 2)}</pre></details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
