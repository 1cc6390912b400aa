/**
 * The live alert board: every alert the stream delivers, most urgent first,
 * with one-click acknowledge / resolve / silence for operators. Commands are
 * applied by the rules service, so a button shows "sent" until the alert's
 * next transition arrives on the stream.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { AlertView } from '../../../api/schemas.ts';
import { byUrgency, openStates, type CommandKind } from '../alert-store.ts';
import { api, errorText } from '../api.ts';
import { AlertCounts, SeverityBadge, StateBadge, severities, severityName } from '../components/badges.tsx';
import { SilenceDialog } from '../components/silence-dialog.tsx';
import { ActiveSilences } from '../components/active-silences.tsx';
import { AlertHistory, LimitVersion } from '../components/alert-history.tsx';
import { formatAge, formatDateTime } from '../format.ts';
import { useAlertStore, useNow } from '../hooks.ts';
import { links, replaceQuery } from '../router.ts';
import { canAct, useSession } from '../session.ts';

type Severity = AlertView['severity'];

const stateFilters = [
  { value: 'open', label: 'Open (firing, pending, acknowledged)' },
  { value: 'firing', label: 'Firing' },
  { value: 'pending', label: 'Pending' },
  { value: 'acknowledged', label: 'Acknowledged' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'all', label: 'All' },
] as const;
type StateFilter = (typeof stateFilters)[number]['value'];

function matchesState(alert: AlertView, filter: StateFilter): boolean {
  if (filter === 'all') return true;
  if (filter === 'open') return openStates.has(alert.state);
  return alert.state === filter;
}

/** A newly arrived alert is highlighted this long, so a wall screen draws the eye to it. */
const highlightMs = 15_000;
/** A command not confirmed by a transition after this long is flagged, not retried. */
const unconfirmedMs = 30_000;

export function AlertBoard({ query }: { query: URLSearchParams }) {
  const { me, alerts: store, directory, refreshAlerts } = useSession();
  useAlertStore(store);
  const now = useNow(5_000);
  const [picked, setPicked] = useState<ReadonlySet<Severity>>(() => new Set((query.get('severity') ?? '').split(',').filter((s): s is Severity => (severities as readonly string[]).includes(s))));
  const [stateFilter, setStateFilter] = useState<StateFilter>(() => stateFilters.find((f) => f.value === query.get('state'))?.value ?? 'open');
  const [tenant, setTenant] = useState(query.get('tenant') ?? '');
  const [silencing, setSilencing] = useState<AlertView | undefined>(undefined);
  const [notice, setNotice] = useState('');

  useEffect(() => {
    replaceQuery({ severity: [...picked].join(','), state: stateFilter === 'open' ? undefined : stateFilter, tenant });
  }, [picked, stateFilter, tenant]);
  // The stream carries open alerts only: resolved ones come from the list.
  useEffect(() => {
    if (stateFilter === 'resolved' || stateFilter === 'all') refreshAlerts();
  }, [stateFilter, refreshAlerts]);

  const all = store.all();
  const open = all.filter((a) => openStates.has(a.state));
  const openCounts: Partial<Record<Severity, number>> = {};
  for (const a of open) openCounts[a.severity] = (openCounts[a.severity] ?? 0) + 1;
  const rows = all
    .filter((a) => matchesState(a, stateFilter) && (picked.size === 0 || picked.has(a.severity)) && (!tenant || a.tenant === tenant))
    .sort(byUrgency);
  const tenants = useMemo(() => {
    const ids = new Map<string, string>();
    for (const p of directory.parks) for (const t of p.tenantViews) ids.set(t.id, t.name);
    for (const a of all) if (a.tenant && !ids.has(a.tenant)) ids.set(a.tenant, a.tenant);
    return [...ids].sort((a, b) => a[1].localeCompare(b[1]));
    // A tenant new to the list comes with a new alert, so the count is enough to notice it.
  }, [directory, all.length]);
  const showPark = directory.parks.length !== 1;

  const toggleSeverity = (s: Severity): void => {
    const next = new Set(picked);
    if (next.has(s)) next.delete(s);
    else next.add(s);
    setPicked(next);
  };
  const closeSilence = useCallback(() => setSilencing(undefined), []);

  return (
    <section class="page" data-testid="alert-board" aria-labelledby="board-title">
      <header class="page-head">
        <h1 id="board-title">Alerts</h1>
        <div class="open-counts" aria-label="Open alerts by severity">
          <span class="big-count" data-testid="open-count">{open.length}</span> open <AlertCounts counts={openCounts} />
        </div>
      </header>

      <div class="filters" role="group" aria-label="Filters">
        <div class="severity-filter" role="group" aria-label="Severity">
          {severities.map((s) => (
            <button key={s} type="button" class={`btn toggle sev-${s}`} aria-pressed={picked.has(s)} onClick={() => toggleSeverity(s)} data-testid={`filter-severity-${s}`}>{severityName(s)}</button>
          ))}
        </div>
        <label>State{' '}
          <select value={stateFilter} onChange={(e) => setStateFilter(e.currentTarget.value as StateFilter)} data-testid="filter-state">
            {stateFilters.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
          </select>
        </label>
        <label>Tenant{' '}
          <select value={tenant} onChange={(e) => setTenant(e.currentTarget.value)} data-testid="filter-tenant">
            <option value="">All tenants</option>
            {tenants.map(([id, name]) => <option key={id} value={id}>{name}</option>)}
          </select>
        </label>
      </div>

      <p class="sr-only" aria-live="polite">{notice}</p>
      {notice && <p class="notice" data-testid="board-notice">{notice}</p>}

      <div class="table-wrap">
        <table class="alerts">
          <thead>
            <tr>
              <th scope="col">Severity</th>
              <th scope="col">State</th>
              <th scope="col">Age</th>
              {showPark && <th scope="col">Park</th>}
              <th scope="col">Tenant and meter</th>
              <th scope="col" class="wide">Alert (rule)</th>
              <th scope="col">Handled by</th>
              {canAct(me) && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => {
              const arrived = store.arrivedAt(a.fingerprint);
              return (
                <tr key={a.fingerprint} class={`sev-row-${a.severity}${arrived !== undefined && now - arrived < highlightMs ? ' arrived' : ''}`}
                  data-testid="alert-row" data-fingerprint={a.fingerprint} data-state={a.state} data-rule={a.ruleId} data-meter={a.meter ?? ''} data-tenant={a.tenant ?? ''}>
                  <td><SeverityBadge severity={a.severity} /></td>
                  <td><StateBadge alert={a} /></td>
                  <td class="num" title={`since ${formatDateTime(a.since)}`} data-testid="alert-age">{formatAge(now - a.since)}</td>
                  {showPark && <td>{a.park}</td>}
                  <td class="where">
                    {a.tenant ? <a href={links.tenant(a.park, a.tenant)}>{directory.tenantName(a.park, a.tenant)}</a> : <span class="muted">whole park</span>}
                    {a.meter && <div class="sub" data-testid="alert-meter">{a.meter}</div>}
                  </td>
                  <td class="wide">
                    <span data-testid="alert-summary">{a.summary}</span>
                    <div class="sub"><code data-testid="alert-rule">{a.ruleId}</code>{a.provenance.limit && <> · <LimitVersion limit={a.provenance.limit} /></>}</div>
                    <AlertHistory fingerprint={a.fingerprint} transition={a.transition} />
                  </td>
                  <td data-testid="alert-handled-by"><HandledBy alert={a} /></td>
                  {canAct(me) && <td><AlertActions alert={a} now={now} onSilence={setSilencing} /></td>}
                </tr>
              );
            })}
          </tbody>
        </table>
        {rows.length === 0 && <p class="empty" data-testid="board-empty">{all.length === 0 && stateFilter === 'open' ? 'All clear: no open alerts.' : 'No alerts match these filters.'}</p>}
      </div>

      {silencing && <SilenceDialog alert={silencing} onClose={closeSilence} onSent={setNotice} />}
      <ActiveSilences key={notice} />
    </section>
  );
}

function HandledBy({ alert }: { alert: AlertView }) {
  if (alert.state === 'resolved' && alert.resolvedBy) return <span>resolved by <strong>{alert.resolvedBy}</strong></span>;
  if (alert.acknowledgedBy) {
    return <span title={alert.acknowledgedAt ? formatDateTime(alert.acknowledgedAt) : undefined}>ack by <strong data-testid="acknowledged-by">{alert.acknowledgedBy}</strong></span>;
  }
  return <span class="muted">–</span>;
}

function AlertActions({ alert, now, onSilence }: { alert: AlertView; now: number; onSilence: (a: AlertView) => void }) {
  const { alerts: store } = useSession();
  const sent = store.sentFor(alert.fingerprint);
  const act = async (kind: CommandKind): Promise<void> => {
    store.markSent(alert.fingerprint, kind);
    try {
      await (kind === 'acknowledge' ? api.acknowledge(alert.fingerprint) : api.resolve(alert.fingerprint));
    } catch (err) {
      store.markFailed(alert.fingerprint, kind, errorText(err));
    }
  };
  const what = `${alert.ruleId}${alert.meter ? ` on ${alert.meter}` : ''}`;
  if (sent && !sent.error) {
    return (
      <span class="sent" data-testid="command-sent" role="status">
        {sent.kind === 'acknowledge' ? 'Acknowledge' : 'Resolve'} sent{now - sent.at > unconfirmedMs ? ', not confirmed yet' : '…'}
      </span>
    );
  }
  return (
    <span class="actions">
      {(alert.state === 'firing' || alert.state === 'pending') && (
        <button type="button" class="btn primary" onClick={() => void act('acknowledge')} aria-label={`Acknowledge ${what}`} data-testid="ack-button">Acknowledge</button>
      )}
      {alert.state !== 'resolved' && (
        <button type="button" class="btn" onClick={() => void act('resolve')} aria-label={`Resolve ${what}`} data-testid="resolve-button">Resolve</button>
      )}
      <button type="button" class="btn" onClick={() => onSilence(alert)} aria-label={`Silence ${what}`} data-testid="silence-button">Silence</button>
      {sent?.error && <span class="error-inline" role="alert">{sent.kind} failed: {sent.error} <button type="button" class="btn link" onClick={() => store.clearSent(alert.fingerprint)}>dismiss</button></span>}
    </span>
  );
}
