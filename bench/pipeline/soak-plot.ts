/**
 * The soak's PNG: the project's uPlot (the console's charting library) drawn in
 * headless Chromium through playwright-core, the pair the browser tests use,
 * so no charting dependency is added. Three panels: RSS, heap used and
 * event-loop lag p99, a line per service, minutes on the x axis.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { repoRoot } from '../lib.ts';

export interface SoakSample { atS: number; service: string; rssMiB: number; heapUsedMiB: number; loopLagP99Ms: number }

const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

export async function renderSoakPlot(samples: readonly SoakSample[], title: string, pngPath: string, chromiumPath = process.env.EIP_CHROMIUM ?? '/usr/bin/chromium'): Promise<void> {
  const services = [...new Set(samples.map((s) => s.service))];
  const times = [...new Set(samples.map((s) => s.atS))].sort((a, b) => a - b);
  const column = (service: string, key: 'rssMiB' | 'heapUsedMiB' | 'loopLagP99Ms'): Array<number | null> => {
    const by = new Map(samples.filter((s) => s.service === service).map((s) => [s.atS, s[key]]));
    return times.map((t) => { const v = by.get(t); return v === undefined || !Number.isFinite(v) ? null : v; });
  };
  const panels = (['rssMiB', 'heapUsedMiB', 'loopLagP99Ms'] as const).map((key) => ({
    label: { rssMiB: 'RSS (MiB)', heapUsedMiB: 'heap used (MiB)', loopLagP99Ms: 'event-loop lag p99 (ms)' }[key],
    data: [times.map((t) => t / 60), ...services.map((s) => column(s, key))],
  }));
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>${readFileSync(join(repoRoot, 'node_modules/uplot/dist/uPlot.min.css'), 'utf8')}
body{font:13px sans-serif;margin:0;background:#fff} #wrap{padding:12px} h1{font-size:15px;margin:0 0 6px}</style></head>
<body><div id="wrap"><h1 id="t"></h1><div id="plots"></div></div><script>${readFileSync(join(repoRoot, 'node_modules/uplot/dist/uPlot.iife.min.js'), 'utf8')}</script>
<script>
const services = ${JSON.stringify(services)}, colours = ${JSON.stringify(colours)}, panels = ${JSON.stringify(panels)};
document.getElementById('t').textContent = ${JSON.stringify(title)};
for (const p of panels) {
  new uPlot({ width: 900, height: 220, title: p.label, scales: { x: { time: false } },
    axes: [{ label: 'minutes' }, { size: 60 }],
    series: [{ label: 'min' }, ...services.map((s, i) => ({ label: s, stroke: colours[i % colours.length], width: 1.5, spanGaps: true }))] }, p.data, document.getElementById('plots'));
}
</script></body></html>`;
  const browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 930, height: 800 } });
    await page.setContent(html, { waitUntil: 'load' });
    await page.locator('#wrap').screenshot({ path: pngPath });
  } finally {
    await browser.close();
  }
}
