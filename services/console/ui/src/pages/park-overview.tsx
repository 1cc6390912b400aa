/**
 * Parks: the list, and one park's overview (tenants, meter health, open
 * alerts, month-to-date energy, water and emissions against budget). The
 * overview re-reads when an alert changes and every 30 s for the totals.
 */
import { useEffect } from 'preact/hooks';
import type { ParkSummary, ParkTotals, TenantView } from '../../../api/schemas.ts';
import { api } from '../api.ts';
import { AlertCounts } from '../components/badges.tsx';
import { ErrorNote, Loading } from '../components/status.tsx';
import { formatDateTime, formatNumber, formatPercent } from '../format.ts';
import { useAlertStore, useResource, useThrottled } from '../hooks.ts';
import { links } from '../router.ts';
import { useSession } from '../session.ts';
import { CompliancePackLink } from '../components/compliance-pack-link.tsx';

export function ParkList() {
  const parks = useResource(() => api.parks(), 'parks', 30_000);
  return (
    <section class="page" aria-labelledby="parks-title" data-testid="park-list">
      <header class="page-head"><h1 id="parks-title">Parks</h1></header>
      {parks.error ? <ErrorNote error={parks.error} retry={parks.reload} /> : null}
      {!parks.data ? <Loading what="parks" /> : (
        <div class="cards">
          {parks.data.parks.map((p) => (
            <a key={p.id} class="card link-card" href={links.park(p.id)}>
              <h2>{p.name}</h2>
              <p>{p.tenants} tenants · {p.metersOnline}/{p.meters} meters online</p>
              <p>Open alerts: <AlertCounts counts={p.openAlerts} /></p>
              <SubmissionsFailing counts={p.submissionsFailing} />
            </a>
          ))}
        </div>
      )}
    </section>
  );
}

function TotalCard({ title, line }: { title: string; line: ParkTotals['energyKwh'] }) {
  const over = line.value !== null && line.budgetToDate !== null && line.value > line.budgetToDate;
  const share = line.value !== null && line.budget ? Math.min(1, line.value / line.budget) : 0;
  const pace = line.budgetToDate !== null && line.budget ? Math.min(1, line.budgetToDate / line.budget) : undefined;
  return (
    <div class={`card total${over ? ' over' : ''}`} data-testid={`total-${line.metric}`}>
      <h2>{title}</h2>
      <p class="total-value">{formatNumber(line.value)} <span class="unit">{line.unit}</span></p>
      {line.budget !== null ? (
        <>
          <div class="meter-bar" role="meter" aria-valuemin={0} aria-valuemax={line.budget} aria-valuenow={line.value ?? 0} aria-label={`${title} against the monthly budget`}>
            <div class="meter-fill" style={{ width: `${share * 100}%` }} />
            {pace !== undefined && <div class="meter-pace" style={{ left: `${pace * 100}%` }} title="budget to date" />}
          </div>
          <p class="muted">{formatPercent(line.value, line.budget)} of {formatNumber(line.budget)} {line.unit} budget{over ? ' · ahead of the budget to date' : ''}</p>
        </>
      ) : <p class="muted">no budget set</p>}
    </div>
  );
}

type FactorUse = ParkTotals['tenants'][number]['factors'][number];
const factorText = (f: FactorUse): string =>
  `${formatNumber(f.kgCo2ePerKwh)} kg CO2e/kWh (${f.reference}${f.validFrom !== undefined ? `, in force from ${f.validFrom}${f.validTo !== undefined ? ` to ${f.validTo}` : ''}` : ''}) from ${formatDateTime(f.from)}`;

/** Which emission factor versions the month's CO2e used (a revised factor: each part of the month by its own). */
function FactorsUsed({ totals }: { totals: ParkTotals }) {
  const seen = new Map<string, FactorUse>();
  for (const t of totals.tenants) for (const f of t.factors) {
    const key = `${f.reference}|${f.kgCo2ePerKwh}|${f.validFrom ?? ''}`;
    const prev = seen.get(key);
    if (!prev || f.from < prev.from) seen.set(key, f);
  }
  if (seen.size === 0) return null;
  return (
    <p class="muted" data-testid="factor-versions">
      Emission factors used: {[...seen.values()].sort((a, b) => a.from - b.from).map(factorText).join('; ')}
    </p>
  );
}

function metersOnline(t: TenantView): { online: number; offline: number; unknown: number } {
  const c = { online: 0, offline: 0, unknown: 0 };
  for (const m of t.meters) c[m.health.status]++;
  return c;
}

export function ParkOverview({ park }: { park: string }) {
  const { alerts } = useSession();
  const version = useAlertStore(alerts);
  const view = useResource(() => api.park(park), `park:${park}`, 30_000);
  const totals = useResource(() => api.totals(park), `totals:${park}`, 60_000);
  const reloadView = useThrottled(view.reload, 3_000);
  // Open-alert counts come from the server; an alert transition is the cue to re-read them.
  useEffect(() => {
    if (version > 0) reloadView();
  }, [version, reloadView]);

  if (view.error && !view.data) return <ErrorNote error={view.error} retry={view.reload} />;
  if (!view.data) return <Loading what="the park" />;
  const p = view.data;
  const byTenant = new Map((totals.data?.tenants ?? []).map((t) => [t.tenant, t]));
  return (
    <section class="page" aria-labelledby="park-title" data-testid="park-overview">
      <header class="page-head">
        <h1 id="park-title">{p.name}</h1>
        <p class="muted">{p.tenants} tenants · <span data-testid="park-meters-online">{p.metersOnline}</span>/{p.meters} meters online · time zone {p.timezone}</p>
        <CompliancePackLink park={p.id} timezone={p.timezone} />
        <p><a href={links.submissions(p.id)} data-testid="submissions-link">Submissions</a> <SubmissionsFailing counts={p.submissionsFailing} /></p>
      </header>
      <h2 class="section-title">Month to date{totals.data ? ` (${totals.data.month})` : ''}</h2>
      {totals.error ? <ErrorNote error={totals.error} retry={totals.reload} /> : null}
      {totals.data ? (
        <div class="cards">
          <TotalCard title="Energy" line={totals.data.energyKwh} />
          <TotalCard title="Water intake" line={totals.data.waterM3} />
          <TotalCard title="Emissions" line={totals.data.co2eKg} />
        </div>
      ) : !totals.error && <Loading what="totals" />}
      {totals.data && <FactorsUsed totals={totals.data} />}
      <h2 class="section-title">Tenants</h2>
      <div class="table-wrap">
        <table data-testid="tenant-table">
          <thead>
            <tr>
              <th scope="col">Tenant</th><th scope="col">Sector</th><th scope="col">Meters online</th><th scope="col">Open alerts</th>
              <th scope="col" class="num">Energy (kWh)</th><th scope="col" class="num">Water (m3)</th><th scope="col" class="num">CO2e (kg)</th><th scope="col" class="num">of CO2e budget</th>
            </tr>
          </thead>
          <tbody>
            {p.tenantViews.map((t) => {
              const m = metersOnline(t);
              const tt = byTenant.get(t.id);
              return (
                <tr key={t.id} data-testid="tenant-row" data-tenant={t.id}>
                  <th scope="row"><a href={links.tenant(p.id, t.id)}>{t.name}</a></th>
                  <td>{t.sector}</td>
                  <td>
                    <span class={m.offline ? 'warn-text' : ''}>{m.online}/{t.meters.length}</span>{' '}
                    {m.offline > 0 && <span class="badge health-offline">{m.offline} offline</span>}
                    {m.unknown > 0 && <span class="badge health-unknown">{m.unknown} unknown</span>}
                  </td>
                  <td><AlertCounts counts={t.openAlerts} /></td>
                  <td class="num">{formatNumber(tt?.energyKwh)}</td>
                  <td class="num">{formatNumber(tt?.waterM3)}</td>
                  <td class="num" title={tt ? tt.factors.map(factorText).join('; ') : undefined}>{formatNumber(tt?.co2eKg)}</td>
                  <td class="num">{formatPercent(tt?.co2eKg ?? null, tt?.co2eBudgetKg ?? null)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Failed (retried) and refused (needs a configuration change) submissions: nothing shown when there are none. */
function SubmissionsFailing({ counts }: { counts: ParkSummary['submissionsFailing'] }) {
  if (counts.failed === 0 && counts.refused === 0) return null;
  return (
    <span data-testid="submissions-failing">
      {counts.refused > 0 && <span class="badge sub-refused">{counts.refused} refused</span>}
      {counts.failed > 0 && <span class="badge sub-failed">{counts.failed} failed</span>}
    </span>
  );
}
