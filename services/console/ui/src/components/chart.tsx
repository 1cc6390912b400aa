/**
 * A time-series chart drawn by uPlot (canvas: thousands of points stay cheap
 * on a wall screen that refreshes all day). One line per meter, permit limits
 * as dashed lines, the x axis pinned to the chosen range so gaps show as gaps.
 * Incomplete windows are shaded bands and register events dotted vertical
 * lines with a letter (R rollover, Z reset, S swap); both are also listed in
 * words under the chart and in its text summary.
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

/** A stretch of time whose window held too few records to be judged. */
export interface IncompleteMark {
  from: number;
  to: number;
  label: string;
}
/** A register event (rollover, reset, swap) at a time. */
export interface EventMark {
  at: number;
  event: string;
  label: string;
}
export interface ChartMarks {
  incomplete: IncompleteMark[];
  events: EventMark[];
}
const noMarks: ChartMarks = { incomplete: [], events: [] };

interface Props {
  title: string;
  unit: string;
  lines: ChartLine[];
  limits: LimitLine[];
  marks?: ChartMarks | undefined;
  /** Epoch ms. */
  from: number;
  to: number;
  metric: string;
}

const palette = ['#58a6ff', '#3fb950', '#d2a8ff', '#ffa657', '#79c0ff', '#f778ba', '#e3b341'];
const limitColour = '#ff7b72';
const incompleteColour = 'rgba(210, 168, 255, 0.16)';
const incompleteEdge = 'rgba(210, 168, 255, 0.55)';
const eventColour = '#f2cc60';
export const eventLetters: Record<string, string> = { rollover: 'R', reset: 'Z', swap: 'S', 'declared-swap': 'D', 'declared-reset': 'D' };

/** Bands and event lines drawn on the plot area, under the cursor, from the marks of the last render. */
function drawMarks(u: uPlot, marks: ChartMarks, font: number): void {
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const x = (ms: number): number => u.valToPos(ms / 1000, 'x', true);
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const m of marks.incomplete) {
    const x0 = Math.max(left, x(m.from));
    const x1 = Math.min(left + width, x(m.to));
    if (x1 <= x0) continue;
    ctx.fillStyle = incompleteColour;
    ctx.fillRect(x0, top, x1 - x0, height);
    ctx.strokeStyle = incompleteEdge;
    ctx.lineWidth = 1;
    ctx.strokeRect(x0 + 0.5, top + 0.5, Math.max(1, x1 - x0 - 1), height - 1);
  }
  ctx.font = `700 ${Math.round(font * 0.75 * devicePixelRatio)}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const e of marks.events) {
    const px = x(e.at);
    if (px < left || px > left + width) continue;
    ctx.strokeStyle = eventColour;
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px, top + height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = eventColour;
    ctx.fillText(eventLetters[e.event] ?? '?', px, top + 2);
  }
  ctx.restore();
}
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

export function Chart({ title, unit, lines, limits, marks = noMarks, from, to, metric }: Props) {
  const wall = useWallMode();
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const range = useRef({ from, to });
  range.current = { from, to };
  // Read by the draw hook, so new marks need no new chart.
  const marksRef = useRef(marks);
  marksRef.current = marks;
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
      hooks: { draw: [(u) => drawMarks(u, marksRef.current, font)] },
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
  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [marks]);

  const latest = lines.map((l) => l.points.at(-1)).filter((p) => p !== undefined).sort((a, b) => b[0] - a[0])[0];
  const marked = marksSummary(marks);
  const described = `${title}: ${points} points` + (latest ? `, latest ${formatNumber(latest[1])} ${unit}` : '') + limits.map((l) => `, ${l.label}`).join('') + (marked ? `; ${marked}` : '');
  return (
    <figure class="chart" data-testid="metric-chart" data-metric={metric} data-points={points} data-incomplete={marks.incomplete.length} data-events={marks.events.length}>
      <figcaption>{title} <span class="muted">({unit})</span></figcaption>
      <div ref={box} class="chart-canvas" role="img" aria-label={described} />
      {points === 0 && <p class="chart-empty muted">No data in this range</p>}
      {marked && (
        <p class="chart-marks" data-testid="chart-marks">
          {marks.incomplete.length > 0 && <span class="mark-incomplete" title={marks.incomplete.map((m) => m.label).join('\n')}>{incompleteText(marks.incomplete.length)}</span>}
          {marks.events.slice(0, shownEvents).map((e) => <span key={`${e.at}:${e.label}`} class="mark-event"><b>{eventLetters[e.event] ?? '?'}</b> {e.label}, {formatDateTime(e.at)}</span>)}
          {marks.events.length > shownEvents && <span class="muted">and {marks.events.length - shownEvents} more</span>}
        </p>
      )}
    </figure>
  );
}

const shownEvents = 6;
const incompleteText = (n: number): string => `${n} incomplete window${n === 1 ? '' : 's'} (shaded)`;

/** The marks in words, for the caption and the canvas's text alternative. */
export function marksSummary(marks: ChartMarks): string {
  const parts: string[] = [];
  if (marks.incomplete.length > 0) parts.push(incompleteText(marks.incomplete.length));
  if (marks.events.length > 0) parts.push(`${marks.events.length} register event${marks.events.length === 1 ? '' : 's'}: ${marks.events.map((e) => `${e.label} at ${formatDateTime(e.at)}`).join(', ')}`);
  return parts.join('; ');
}
