/**
 * A time-series chart drawn by uPlot (canvas: thousands of points stay cheap
 * on a wall screen that refreshes all day). One line per meter, permit limits
 * as dashed lines, the x axis pinned to the chosen range so gaps show as gaps.
 */
import { useEffect, useMemo, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { rootFontPx, useWallMode } from '../display.ts';
import { formatDateTime, formatNumber } from '../format.ts';

export interface ChartLine {
  label: string;
  /** [epoch ms, value], oldest first. */
  points: ReadonlyArray<readonly [number, number]>;
}
export interface LimitLine {
  label: string;
  value: number;
}

interface Props {
  title: string;
  unit: string;
  lines: ChartLine[];
  limits: LimitLine[];
  /** Epoch ms. */
  from: number;
  to: number;
  metric: string;
}

const palette = ['#58a6ff', '#3fb950', '#d2a8ff', '#ffa657', '#79c0ff', '#f778ba', '#e3b341'];
const limitColour = '#ff7b72';
const axisColour = '#c9d1d9';
const gridColour = 'rgba(240, 246, 252, 0.14)';

// 24-hour clock on the x axis (uPlot's default is 12-hour); dates once the range spans days.
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const day = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
function timeTicks(u: uPlot, splits: number[]): string[] {
  const min = u.scales.x?.min ?? 0;
  const max = u.scales.x?.max ?? 0;
  const days = max - min > 2 * 86_400;
  return splits.map((s) => (days ? day.format(s * 1000) : clock.format(s * 1000)));
}

/** uPlot wants one shared x array (seconds) and a y array per series, null where a series has no sample. */
function align(lines: ChartLine[], limits: LimitLine[], from: number, to: number): uPlot.AlignedData {
  const xs = new Set<number>();
  for (const l of lines) for (const [t] of l.points) xs.add(t);
  // Limit lines span the range even where no meter reported.
  if (limits.length) { xs.add(from); xs.add(to); }
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((t, i) => [t, i]));
  const ys = lines.map((l) => {
    const y: Array<number | null> = new Array<number | null>(x.length).fill(null);
    for (const [t, v] of l.points) y[index.get(t) ?? 0] = v;
    return y;
  });
  const limitYs = limits.map((l) => x.map(() => l.value));
  return [x.map((t) => t / 1000), ...ys, ...limitYs];
}

export function Chart({ title, unit, lines, limits, from, to, metric }: Props) {
  const wall = useWallMode();
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const range = useRef({ from, to });
  range.current = { from, to };
  const data = useMemo(() => align(lines, limits, from, to), [lines, limits, from, to]);
  const points = lines.reduce((n, l) => n + l.points.length, 0);
  // A new chart only when what is drawn changes shape; new points go through setData.
  const shape = JSON.stringify([lines.map((l) => l.label), limits, unit, wall]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const font = rootFontPx();
    const axisFont = `${Math.round(font * 0.8)}px system-ui, sans-serif`;
    const height = Math.round(font * 15);
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      scales: { x: { time: true, range: () => [range.current.from / 1000, range.current.to / 1000] } },
      axes: [
        { stroke: axisColour, font: axisFont, grid: { stroke: gridColour }, ticks: { stroke: gridColour }, values: timeTicks },
        { stroke: axisColour, font: axisFont, grid: { stroke: gridColour }, ticks: { stroke: gridColour }, size: Math.round(font * 4), values: (_u, vals) => vals.map((v) => formatNumber(v)) },
      ],
      series: [
        { value: (_u, v) => (v === null ? '–' : formatDateTime(v * 1000)) },
        ...lines.map((l, i) => ({ label: l.label, stroke: palette[i % palette.length], width: 2, spanGaps: false, points: { show: l.points.length < 60 } })),
        ...limits.map((l) => ({ label: l.label, stroke: limitColour, width: 2, dash: [8, 6], points: { show: false } })),
      ],
      legend: { live: true },
      cursor: { points: { size: Math.round(font * 0.5) } },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = undefined;
    };
    // Only `shape` recreates: data goes through the effect below, so a refresh keeps the cursor.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  const latest = lines.map((l) => l.points.at(-1)).filter((p) => p !== undefined).sort((a, b) => b[0] - a[0])[0];
  const described = `${title}: ${points} points` + (latest ? `, latest ${formatNumber(latest[1])} ${unit}` : '') + limits.map((l) => `, ${l.label}`).join('');
  return (
    <figure class="chart" data-testid="metric-chart" data-metric={metric} data-points={points}>
      <figcaption>{title} <span class="muted">({unit})</span></figcaption>
      <div ref={box} class="chart-canvas" role="img" aria-label={described} />
      {points === 0 && <p class="chart-empty muted">No data in this range</p>}
    </figure>
  );
}
