/**
 * The pack as a PDF report with charts, drawn with pdfkit's vector API (no
 * browser at run time): a summary page with the exceedance hours per parameter
 * and the daily completeness, a completeness grid per stream and day, then the
 * tables (the CSV files hold every row; long tables are cut here and say so).
 */
import PDFDocument from 'pdfkit';
import type { CompliancePack } from './compliance-pack.ts';
import { isoInZone, packTables, type Cell, type PackTable } from './pack-tables.ts';

const A4: [number, number] = [595.28, 841.89];
const M = 42;
const W = A4[0] - 2 * M;
const colours = { exceeded: '#c0392b', incomplete: '#e67e22', ok: '#2e7d32', missing: '#bdbdbd', grid: '#9e9e9e', text: '#212121', muted: '#616161' };
/** The columns an auditor reads first, per table printed; the CSV has them all. */
const pdfColumns: Record<string, readonly string[]> = {
  exceedances: ['meter', 'metric', 'limit_min', 'limit_max', 'o2_reference_percent', 'valid_hours', 'exceeded_hours', 'incomplete_hours', 'exceeded_incomplete_hours', 'missing_hours', 'no_o2_hours', 'max_hourly_mean'],
  'exceedance-hours': ['hour_start', 'meter', 'metric', 'hourly_mean', 'judged_mean', 'o2_percent', 'limit_min', 'limit_max', 'count', 'expected', 'incomplete'],
  alerts: ['first_at', 'rule', 'severity', 'meter', 'state', 'summary', 'peak_value', 'acknowledged_by', 'acknowledged_at', 'resolved_by', 'resolved_at'],
  submissions: ['kind', 'station', 'period_start', 'records', 'expected', 'state', 'attempts', 'sent_at', 'receipt', 'last_error'],
};
/** Table rows printed per table; the CSV has the rest. */
export const pdfRowsPerTable = 60;

export interface PdfOptions {
  /** false writes plain content streams (tests read the text back). */
  compress?: boolean;
}

export function renderPackPdf(pack: CompliancePack, options: PdfOptions = {}): Promise<Buffer> {
  const when = new Date(pack.generatedAt);
  const doc = new PDFDocument({
    size: A4, margin: M, compress: options.compress ?? true, bufferPages: true,
    info: { Title: `Compliance pack ${pack.park.id}${pack.tenant ? ` ${pack.tenant.id}` : ''} ${pack.month}`, Subject: 'exceedances, completeness, alerts, submissions', Creator: 'eip console', CreationDate: when, ModDate: when },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const tables = packTables(pack);
  summaryPage(doc, pack);
  doc.addPage();
  completenessGrid(doc, pack);
  for (const name of ['exceedances', 'exceedance-hours', 'alerts', 'submissions']) {
    const t = tables.find((x) => x.name === name)!;
    doc.addPage();
    tablePage(doc, t);
  }
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Below the bottom margin: without lifting it, pdfkit would start a new page for the footer.
    doc.page.margins.bottom = 0;
    doc.font('Helvetica').fontSize(7).fillColor(colours.muted)
      .text(`${pack.park.id}${pack.tenant ? ` / ${pack.tenant.id}` : ''} · ${pack.month} · page ${i + 1} of ${range.count}`, M, A4[1] - M + 12, { width: W, align: 'right', lineBreak: false });
  }
  doc.end();
  return done;
}

type Doc = PDFKit.PDFDocument;

function heading(doc: Doc, text: string, size = 14): void {
  doc.font('Helvetica-Bold').fontSize(size).fillColor(colours.text).text(text, M, doc.y, { width: W });
  doc.moveDown(0.4);
}

function summaryPage(doc: Doc, pack: CompliancePack): void {
  const tz = pack.park.timezone;
  heading(doc, 'Compliance pack', 20);
  doc.font('Helvetica').fontSize(10).fillColor(colours.text)
    .text(`${pack.park.name} (${pack.park.id})${pack.tenant ? ` · tenant ${pack.tenant.name} (${pack.tenant.id})` : ' · whole park'}`)
    .text(`Month ${pack.month}: ${isoInZone(pack.from, tz)} to ${isoInZone(pack.to, tz)} (${tz})`)
    .text(`Generated ${isoInZone(pack.generatedAt, tz)}; an hour is judged when at least ${Math.round(pack.minCompleteness * 100)} % of its expected records arrived.`);
  doc.moveDown(0.6);
  const s = pack.exceedances.summary;
  const sum = (f: (r: (typeof s)[number]) => number): number => s.reduce((a, r) => a + f(r), 0);
  const sent = pack.submissions.filter((x) => x.state === 'sent').length;
  const lines = [
    `Exceedance hours: ${sum((r) => r.exceeded)} judged, ${sum((r) => r.exceededIncomplete)} more in incomplete hours, over ${s.length} limited parameters`,
    `Hours not judged: ${sum((r) => r.incomplete)} incomplete, ${sum((r) => r.missing)} missing, ${sum((r) => r.noO2)} without an O2 mean`,
    `Alerts: ${pack.alerts.alerts.length} (${pack.alerts.transitions.length} transitions), ${pack.alerts.alerts.filter((a) => a.acknowledgedBy !== undefined).length} acknowledged`,
    `Submissions: ${pack.submissions.length} (${sent} sent with a receipt, ${pack.submissions.filter((x) => x.state === 'failed').length} failed, ${pack.submissions.filter((x) => x.state === 'refused').length} refused, ${pack.submissions.filter((x) => x.state === 'pending').length} pending)`,
  ];
  doc.font('Helvetica').fontSize(10);
  for (const l of lines) doc.text(`• ${l}`, { width: W });
  doc.moveDown(1);
  exceedanceChart(doc, pack);
  doc.moveDown(1);
  dailyCompletenessChart(doc, pack);
}

function exceedanceChart(doc: Doc, pack: CompliancePack): void {
  heading(doc, 'Exceedance hours per parameter', 12);
  const rows = pack.exceedances.summary;
  if (rows.length === 0) {
    doc.font('Helvetica').fontSize(9).text('No parameter in scope has an hourly limit.');
    return;
  }
  const shown = rows.slice(0, 16);
  const label = 150;
  const barW = W - label - 40;
  const max = Math.max(1, ...shown.map((r) => r.exceeded + r.exceededIncomplete));
  let y = doc.y;
  for (const r of shown) {
    const a = (r.exceeded / max) * barW;
    const b = (r.exceededIncomplete / max) * barW;
    doc.font('Helvetica').fontSize(7).fillColor(colours.text).text(`${r.meter} ${r.metric}`, M, y + 2, { width: label - 6, align: 'right', lineBreak: false });
    if (a > 0) doc.rect(M + label, y, a, 10).fill(colours.exceeded);
    if (b > 0) doc.rect(M + label + a, y, b, 10).fill(colours.incomplete);
    doc.fillColor(colours.text).text(`${r.exceeded}${r.exceededIncomplete ? ` + ${r.exceededIncomplete}` : ''} h`, M + label + a + b + 4, y + 2, { lineBreak: false });
    y += 14;
  }
  legend(doc, M + label, y + 4, [[colours.exceeded, 'judged hours over the limit'], [colours.incomplete, 'incomplete hours over the limit (not judged)']]);
  if (rows.length > shown.length) doc.font('Helvetica').fontSize(7).fillColor(colours.muted).text(`${rows.length - shown.length} more parameters in exceedances.csv`, M, y + 18);
  doc.x = M;
  doc.y = y + 30;
}

function legend(doc: Doc, x: number, y: number, items: Array<[string, string]>): void {
  let at = x;
  for (const [colour, text] of items) {
    doc.rect(at, y, 8, 8).fill(colour);
    doc.font('Helvetica').fontSize(7).fillColor(colours.text).text(text, at + 11, y + 1, { lineBreak: false });
    at += 11 + doc.widthOfString(text) + 14;
  }
}

/** Per day: records over expected across the scope's streams, with the threshold drawn. */
function dailyCompletenessChart(doc: Doc, pack: CompliancePack): void {
  heading(doc, 'Completeness per day (all streams in scope)', 12);
  const days = pack.completeness.length === 0 ? [] : [...new Set(pack.completeness.map((r) => r.date))];
  if (days.length === 0) {
    doc.font('Helvetica').fontSize(9).text('No hour of the month has ended yet.');
    return;
  }
  const top = doc.y + 4;
  const h = 120;
  const left = M + 28;
  const width = W - 28;
  const step = width / days.length;
  doc.lineWidth(0.5).strokeColor(colours.grid);
  for (const f of [0, 0.5, 1]) {
    const y = top + h - f * h;
    doc.moveTo(left, y).lineTo(left + width, y).stroke();
    doc.font('Helvetica').fontSize(7).fillColor(colours.muted).text(`${f * 100} %`, M, y - 3, { width: 24, align: 'right', lineBreak: false });
  }
  days.forEach((date, i) => {
    const rows = pack.completeness.filter((r) => r.date === date);
    const expected = rows.reduce((a, r) => a + r.expected, 0);
    const share = expected > 0 ? rows.reduce((a, r) => a + r.records, 0) / expected : 0;
    const bar = Math.max(0, Math.min(1, share)) * h;
    doc.rect(left + i * step + 1, top + h - bar, Math.max(1, step - 2), bar).fill(share < pack.minCompleteness ? colours.incomplete : colours.ok);
    if (i % 5 === 0 || i === days.length - 1) doc.font('Helvetica').fontSize(6).fillColor(colours.muted).text(date.slice(8), left + i * step, top + h + 3, { width: step, align: 'center', lineBreak: false });
  });
  const ty = top + h - pack.minCompleteness * h;
  doc.lineWidth(1).strokeColor(colours.exceeded).dash(3, { space: 2 }).moveTo(left, ty).lineTo(left + width, ty).stroke().undash();
  doc.x = M;
  doc.y = top + h + 14;
  legend(doc, left, doc.y, [[colours.ok, 'day at or above the threshold'], [colours.incomplete, 'below it'], [colours.exceeded, `threshold ${Math.round(pack.minCompleteness * 100)} %`]]);
  doc.x = M;
  doc.y += 16;
}

/** Streams down, days across: each cell the day's completeness. */
function completenessGrid(doc: Doc, pack: CompliancePack): void {
  heading(doc, 'Completeness per stream and day');
  const days = [...new Set(pack.completeness.map((r) => r.date))];
  const streams = [...new Set(pack.completeness.map((r) => `${r.meter} ${r.metric}`))];
  if (days.length === 0) {
    doc.font('Helvetica').fontSize(9).text('No hour of the month has ended yet.');
    return;
  }
  const byKey = new Map(pack.completeness.map((r) => [`${r.meter} ${r.metric}|${r.date}`, r]));
  const label = 130;
  const cell = Math.min(12, (W - label) / days.length);
  const rowH = Math.min(11, Math.max(5, (A4[1] - doc.y - M - 40) / Math.max(1, streams.length)));
  let y = doc.y + 10;
  days.forEach((d, i) => {
    if (i % 5 === 0) doc.font('Helvetica').fontSize(5).fillColor(colours.muted).text(d.slice(8), M + label + i * cell, y - 8, { width: cell, align: 'center', lineBreak: false });
  });
  for (const s of streams) {
    if (y + rowH > A4[1] - M - 24) {
      doc.font('Helvetica').fontSize(7).fillColor(colours.muted).text(`${streams.length - streams.indexOf(s)} more streams in completeness.csv`, M, y + 2, { lineBreak: false });
      break;
    }
    doc.font('Helvetica').fontSize(Math.min(6, rowH - 1)).fillColor(colours.text).text(s, M, y + 1, { width: label - 4, align: 'right', lineBreak: false });
    days.forEach((d, i) => {
      const c = byKey.get(`${s}|${d}`)?.completeness;
      doc.rect(M + label + i * cell + 0.5, y + 0.5, cell - 1, rowH - 1).fill(gridColour(c, pack.minCompleteness));
    });
    y += rowH;
  }
  doc.x = M;
  doc.y = y + 8;
  legend(doc, M + label, doc.y, [[colours.ok, 'complete day'], [colours.incomplete, 'below the threshold'], [colours.missing, 'no record']]);
}

function gridColour(c: number | undefined, min: number): string {
  if (c === undefined || c === 0) return colours.missing;
  return c < min ? colours.incomplete : colours.ok;
}

function cellText(c: Cell): string {
  if (c === undefined || c === null) return '';
  return String(c);
}

function tablePage(doc: Doc, t: PackTable): void {
  heading(doc, t.title);
  if (t.rows.length === 0) {
    doc.font('Helvetica').fontSize(9).fillColor(colours.text).text('None in this period.');
    return;
  }
  const picked = (pdfColumns[t.name] ?? t.columns.slice(0, 10)).map((c) => t.columns.indexOf(c)).filter((i) => i >= 0);
  const cols = picked.map((i) => t.columns[i]!.replaceAll('_', ' '));
  const colW = W / cols.length;
  const line = (cells: string[], bold: boolean): void => {
    const y = doc.y;
    const font = bold ? 'Helvetica-Bold' : 'Helvetica';
    let h = 0;
    cells.forEach((c, i) => {
      doc.font(font).fontSize(6.5).fillColor(colours.text);
      const text = c.length > 60 ? `${c.slice(0, 57)}...` : c;
      h = Math.max(h, doc.heightOfString(text, { width: colW - 3 }));
      doc.text(text, M + i * colW, y, { width: colW - 3 });
    });
    doc.y = y + h + 2;
    doc.x = M;
  };
  line(cols, true);
  const rows = t.rows.slice(0, pdfRowsPerTable);
  for (const r of rows) {
    if (doc.y > A4[1] - M - 30) {
      doc.addPage();
      line(cols, true);
    }
    line(picked.map((i) => cellText(r[i])), false);
  }
  if (t.rows.length > rows.length || t.columns.length > cols.length) {
    doc.moveDown(0.5).font('Helvetica').fontSize(7).fillColor(colours.muted)
      .text(`${t.rows.length} rows, ${t.columns.length} columns in ${t.name}.csv${t.rows.length > rows.length ? `; the first ${rows.length} shown` : ''}.`, M, doc.y, { width: W });
  }
}
