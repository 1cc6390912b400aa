/**
 * One tenant: its open alerts, its meters' health, its data quality
 * (incomplete hours, register events), and a chart per metric (one line per
 * meter, permit limits dashed, incomplete windows shaded, register events
 * marked) over a chosen range. Charts poll while visible; registers are drawn
 * as consumption per window, since a register's raw value only ever climbs.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { IncompleteHour, MeterView, Series, TenantView } from '../../../api/schemas.ts';
import { isMetricName, metricCatalogue } from '../../../../../shared/contracts/metric-catalogue.ts';
import { api, type SeriesParams } from '../api.ts';
import { openStates } from '../alert-store.ts';
import { HealthBadge, SeverityBadge, StateBadge } from '../components/badges.tsx';
import { Chart, type ChartMarks, type LimitLine } from '../components/chart.tsx';
import { DataQuality } from '../components/data-quality.tsx';
import { CompliancePackLink } from '../components/compliance-pack-link.tsx';
import { ErrorNote, Loading } from '../components/status.tsx';
import { formatAge, formatDateTime } from '../format.ts';
import { useAlertStore, useNow, useResource } from '../hooks.ts';
import { links, replaceQuery } from '../router.ts';
import { useSession } from '../session.ts';

const ranges = {
  '1h': { ms: 3_600_000, refreshMs: 15_000, registerWindow: '1m', valueWindow: undefined },
  '6h': { ms: 6 * 3_600_000, refreshMs: 30_000, registerWindow: '15m', valueWindow: undefined },
  '24h': { ms: 86_400_000, refreshMs: 60_000, registerWindow: '1h', valueWindow: '15m' },
  '7d': { ms: 7 * 86_400_000, refreshMs: 300_000, registerWindow: '1d', valueWindow: '1h' },
} as const;
type RangeKey = keyof typeof ranges;
const isRange = (s: string | null): s is RangeKey => s !== null && Object.hasOwn(ranges, s);

const groups: Array<{ title: string; metrics: readonly string[] }> = [
  { title: 'Stack emissions', metrics: ['so2', 'nox', 'pm', 'co', 'opacity', 'o2', 'stack_flow', 'stack_temperature', 'co2e'] },
  { title: 'Effluent quality', metrics: ['ph', 'cod', 'bod', 'tss', 'nh3n'] },
  { title: 'Energy', metrics: ['active_power', 'active_energy_import', 'active_energy_export', 'reactive_energy', 'power_factor'] },
  { title: 'Water', metrics: ['water_intake', 'water_discharge', 'water_flow'] },
  { title: 'Fuel and steam', metrics: ['gas_volume', 'gas_energy', 'steam_mass', 'steam_energy', 'production'] },
];

const isRegister = (metric: string): boolean => isMetricName(metric) && metricCatalogue[metric].kind === 'cumulative';

const windowSeconds = { '1m': 60, '15m': 900, '1h': 3_600, '1d': 86_400 } as const;
/** The data-quality tables look back at least a day, whatever the chart range: hours need time to be judged. */
const qualityMinMs = 86_400_000;
type WindowKey = keyof typeof windowSeconds;

/** The range's window, or a longer one when the meters report more rarely (a 5-minute register in 1-minute windows reads 0, 0, 0, 0, 5). */
function registerWindow(range: RangeKey, cadenceSeconds: number): WindowKey {
  const order: WindowKey[] = ['1m', '15m', '1h', '1d'];
  const from = order.indexOf(ranges[range].registerWindow);
  return order.slice(from).find((w) => windowSeconds[w] >= cadenceSeconds) ?? '1d';
}

function plan(metric: string, range: RangeKey, cadenceSeconds: number): { params: Pick<SeriesParams, 'source' | 'window' | 'field'>; caption: string } {
  const r = ranges[range];
  const def = isMetricName(metric) ? metricCatalogue[metric].description : metric;
  if (isRegister(metric)) {
    const window = registerWindow(range, cadenceSeconds);
    return { params: { source: 'window', window, field: 'consumption' }, caption: `${def}, consumption per ${window}` };
  }
  if (r.valueWindow) return { params: { source: 'window', window: r.valueWindow, field: 'mean' }, caption: `${def}, mean per ${r.valueWindow}` };
  return { params: { source: 'raw' }, caption: def };
}

/** The tenant's metrics, grouped, each with the meters that measure it. */
function chartsOf(t: TenantView): Array<{ title: string; charts: Array<{ metric: string; meters: MeterView[] }> }> {
  const byMetric = new Map<string, MeterView[]>();
  for (const m of t.meters) for (const metric of m.metrics) byMetric.set(metric, [...(byMetric.get(metric) ?? []), m]);
  const placed = new Set<string>();
  const out = groups.map((g) => ({
    title: g.title,
    charts: g.metrics.filter((metric) => byMetric.has(metric)).map((metric) => { placed.add(metric); return { metric, meters: byMetric.get(metric) ?? [] }; }),
  }));
  const rest = [...byMetric.keys()].filter((m) => !placed.has(m)).sort();
  out.push({ title: 'Other', charts: rest.map((metric) => ({ metric, meters: byMetric.get(metric) ?? [] })) });
  return out.filter((g) => g.charts.length > 0);
}

function limitLines(series: Series[], meters: MeterView[]): LimitLine[] {
  const seen = new Map<string, LimitLine>();
  series.forEach((s, i) => {
    const meter = meters[i]?.id ?? '';
    for (const bound of ['min', 'max'] as const) {
      const value = s.limits[bound];
      if (value === undefined) continue;
      const k = `${bound}:${value}`;
      // Meters under the same permit value share one line.
      if (!seen.has(k)) seen.set(k, { label: `${bound} limit ${value}${series.length > 1 ? ` (${meter})` : ''}`, value });
    }
  });
  return [...seen.values()];
}

/**
 * What to mark on a chart: window series carry their own windows (incomplete
 * ones shaded, register events); raw series take the tenant's incomplete hours
 * of that metric, since raw readings have no window.
 */
function marksOf(series: Series[], meters: MeterView[], hours: IncompleteHour[], from: number, to: number): ChartMarks {
  const marks: ChartMarks = { incomplete: [], events: [] };
  series.forEach((s, i) => {
    const meter = meters[i]?.id ?? s.meter ?? '';
    if (s.source === 'raw') {
      for (const h of hours) if (h.meter === meter && h.metric === s.metric && h.start + 3_600_000 > from && h.start < to) {
        marks.incomplete.push({ from: h.start, to: h.start + 3_600_000, label: `${meter} hour ${formatDateTime(h.start)}: ${h.count} records, ${Math.round(h.completeness * 100)} %` });
      }
      return;
    }
    const width = windowSeconds[s.window ?? '1m'] * 1000;
    for (const w of s.windows ?? []) {
      if (w.incomplete) marks.incomplete.push({ from: w.start, to: w.start + width, label: `${meter} ${formatDateTime(w.start)}: ${w.count}${w.expected !== undefined ? ` of ${w.expected}` : ''} records` });
      for (const event of w.registerEvents) marks.events.push({ at: w.start, event, label: `${event} on ${meter}` });
    }
  });
  return marks;
}

const causes: Record<MeterView['health']['cause'], string> = {
  birth: 'announced itself (birth)',
  will: 'connection lost (last will)',
  deadman: 'silent past its deadline',
  shutdown: 'shut down',
  silence: 'silent',
  none: 'no status message',
};

function healthCause(m: MeterView): string {
  if (m.health.cause === 'none') return m.health.lastSeen === null ? 'no word yet' : 'readings arriving';
  return causes[m.health.cause];
}

function MetricChart({ park, tenant, metric, meters, range, refreshKey, hours }: { park: string; tenant: string; metric: string; meters: MeterView[]; range: RangeKey; refreshKey: number; hours: IncompleteHour[] }) {
  const { params, caption } = plan(metric, range, Math.max(...meters.map((m) => m.cadenceSeconds)));
  const key = `${park}/${tenant}/${metric}/${range}/${meters.map((m) => m.id).join(',')}`;
  const data = useResource(async () => {
    const to = Date.now();
    const from = to - ranges[range].ms;
    const series = await Promise.all(meters.map((m) => api.series(park, { tenant, meter: m.id, metric, from, to, ...params })));
    return { from, to, series };
  }, key, ranges[range].refreshMs);
  useEffect(() => {
    if (refreshKey > 0) data.reload();
    // Reload is stable per key; refreshKey is the cue.
  }, [refreshKey]);
  const lines = useMemo(() => (data.data?.series ?? []).map((s, i) => ({ label: meters[i]?.id ?? s.meter ?? metric, points: s.points })), [data.data]);
  const limits = useMemo(() => limitLines(data.data?.series ?? [], meters), [data.data]);
  const marks = useMemo(() => (data.data ? marksOf(data.data.series, meters, hours, data.data.from, data.data.to) : { incomplete: [], events: [] }), [data.data, hours]);
  if (data.error && !data.data) return <div class="chart"><p class="chart-title">{caption}</p><ErrorNote error={data.error} retry={data.reload} /></div>;
  if (!data.data) return <div class="chart chart-loading"><p class="chart-title">{caption}</p><Loading what={metric} /></div>;
  const unit = data.data.series[0]?.unit ?? (isMetricName(metric) ? metricCatalogue[metric].unit : '');
  return <Chart title={`${metric} – ${caption}`} unit={unit} metric={metric} lines={lines} limits={limits} marks={marks} from={data.data.from} to={data.data.to} />;
}

export function TenantPage({ park, tenant, query }: { park: string; tenant: string; query: URLSearchParams }) {
  const { alerts } = useSession();
  useAlertStore(alerts);
  const now = useNow(5_000);
  const [range, setRange] = useState<RangeKey>(() => { const r = query.get('range'); return isRange(r) ? r : '6h'; });
  useEffect(() => replaceQuery({ range: range === '6h' ? undefined : range }), [range]);
  const view = useResource(() => api.park(park), `park:${park}`, 30_000);
  const tenantAlerts = alerts.all().filter((a) => a.park === park && a.tenant === tenant && openStates.has(a.state));
  // A new transition for this tenant re-reads its charts: the breach that raised it is worth seeing at once.
  const latestTransition = tenantAlerts.reduce((n, a) => Math.max(n, a.at), 0);
  const [refreshKey, setRefreshKey] = useState(0);
  useEffect(() => {
    if (latestTransition > 0) setRefreshKey((k) => k + 1);
  }, [latestTransition]);
  const quality = useResource(() => {
    const to = Date.now();
    return api.quality(park, tenant, { from: to - Math.max(ranges[range].ms, qualityMinMs), to });
  }, `quality:${park}/${tenant}/${range}`, Math.max(ranges[range].refreshMs, 60_000));
  const noHours = useMemo<IncompleteHour[]>(() => [], []);
  const hoursByMetric = useMemo(() => {
    const m = new Map<string, IncompleteHour[]>();
    for (const h of quality.data?.incompleteHours ?? []) m.set(h.metric, [...(m.get(h.metric) ?? []), h]);
    return m;
  }, [quality.data]);
  const t = view.data?.tenantViews.find((x) => x.id === tenant);
  // Memoised on the park view, so the charts' meter lists keep their identity between renders.
  const chartGroups = useMemo(() => (t ? chartsOf(t) : []), [view.data, tenant]);

  if (view.error && !view.data) return <ErrorNote error={view.error} retry={view.reload} />;
  if (!view.data) return <Loading what="the tenant" />;
  if (!t) return <section class="page"><h1>Tenant not found</h1><p>{tenant} is not a tenant of {view.data.name}. <a href={links.park(park)}>Back to the park</a></p></section>;

  return (
    <section class="page" aria-labelledby="tenant-title" data-testid="tenant-page">
      <header class="page-head">
        <div>
          <p class="crumbs"><a href={links.park(park)}>{view.data.name}</a> /</p>
          <h1 id="tenant-title">{t.name}</h1>
          <p class="muted">{t.sector} · {t.meters.length} meters</p>
          <CompliancePackLink park={park} tenant={tenant} timezone={view.data.timezone} />
        </div>
        <div class="range-picker" role="group" aria-label="Chart range">
          {(Object.keys(ranges) as RangeKey[]).map((r) => (
            <button key={r} type="button" class="btn toggle" aria-pressed={range === r} onClick={() => setRange(r)} data-testid={`range-${r}`}>{r}</button>
          ))}
        </div>
      </header>

      <h2 class="section-title">Open alerts</h2>
      {tenantAlerts.length === 0 ? <p class="muted" data-testid="tenant-no-alerts">No open alerts.</p> : (
        <ul class="alert-list" data-testid="tenant-alerts">
          {tenantAlerts.map((a) => (
            <li key={a.fingerprint}><SeverityBadge severity={a.severity} /> <StateBadge alert={a} /> {a.summary} <span class="muted">({formatAge(now - a.since)})</span></li>
          ))}
          <li><a href={links.alerts({ tenant })}>Open on the alert board</a></li>
        </ul>
      )}

      <h2 class="section-title">Meter health</h2>
      <div class="table-wrap">
        <table data-testid="meter-health">
          <thead><tr><th scope="col">Meter</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Why</th><th scope="col">Last reading</th><th scope="col" class="num">Cadence</th></tr></thead>
          <tbody>
            {t.meters.map((m) => (
              <tr key={m.id} data-testid="meter-row" data-meter={m.id}>
                <th scope="row">{m.id}</th>
                <td>{m.kind}</td>
                <td><HealthBadge health={m.health} /></td>
                <td>{healthCause(m)}{m.health.statusAt !== null && <span class="muted"> · {formatAge(now - m.health.statusAt)} ago</span>}</td>
                <td title={m.health.lastSeen ? formatDateTime(m.health.lastSeen) : undefined}>{m.health.lastSeen ? `${formatAge(now - m.health.lastSeen)} ago` : <span class="muted">never</span>}</td>
                <td class="num">{m.cadenceSeconds} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2 class="section-title">Data quality <span class="muted">(last {range === '7d' ? '7 d' : '24 h'})</span></h2>
      {quality.error && !quality.data ? <ErrorNote error={quality.error} retry={quality.reload} />
        : quality.data ? <DataQuality quality={quality.data} /> : <Loading what="data quality" />}

      {chartGroups.map((g) => (
        <section key={g.title} aria-label={g.title}>
          <h2 class="section-title">{g.title}</h2>
          <div class="charts">
            {g.charts.map((c) => <MetricChart key={c.metric} park={park} tenant={tenant} metric={c.metric} meters={c.meters} range={range} refreshKey={refreshKey} hours={hoursByMetric.get(c.metric) ?? noHours} />)}
          </div>
        </section>
      ))}
    </section>
  );
}
