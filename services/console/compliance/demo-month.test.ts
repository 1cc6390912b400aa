/**
 * The pack of the demo park's month, rendered (CSV zip and PDF) from readings
 * aggregated by the aggregator's own window code into a store, and checked
 * against exceedance hours and completeness computed here from the published
 * readings by plain arithmetic.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { createSqliteBus } from '../../../shared/adapters/sqlite-bus/sqlite-bus.ts';
import { createSqliteStore } from '../../../shared/adapters/sqlite-timeseries/index.ts';
import { topics } from '../../../shared/contracts/kafka-topics.ts';
import { demoParkPath, loadParkRegistry } from '../../../shared/contracts/park-registry.ts';
import { submissionKey, type SubmissionRecord } from '../../../shared/contracts/submissions.ts';
import { createLogger } from '../../../shared/observability/logger.ts';
import type { EventBus } from '../../../shared/ports/event-bus.ts';
import type { ReadingPoint, TimeSeriesStore } from '../../../shared/ports/time-series.ts';
import { WindowAggregator } from '../../aggregator/domain/window-aggregator.ts';
import { toAggregatePoint } from '../../aggregator/output.ts';
import { zipTables } from './pack-csv.ts';
import { renderPackPdf } from './pack-pdf.ts';
import { loadPack } from './pack-sources.ts';
import { packTables } from './pack-tables.ts';

const HOUR = 3_600_000;
const registry = loadParkRegistry(demoParkPath);
const park = registry.park('nusantara-eip')!;
const monthTo = Date.parse('2026-12-01T00:00:00+08:00');
const now = monthTo + 2 * HOUR;

/** Seeded, so the month is the same every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}

/** The furnace stack (SO2 and O2 every 5 min) on 3 to 4 November with gaps, the park's outlet pH (every 2 min) on 5 November. */
function publishedReadings(): ReadingPoint[] {
  const rnd = random(42);
  const out: ReadingPoint[] = [];
  const stack = { park: park.id, tenant: 'celebes-battery', meter: 'cbr-stack-furnace' };
  const day3 = Date.parse('2026-11-03T00:00:00+08:00');
  for (let hour = 0; hour < 48; hour++) {
    const start = day3 + hour * HOUR;
    if (hour >= 10 && hour < 13) continue; // three hours missing
    const slots = hour === 20 ? 8 : hour === 30 ? 9 : 12; // 8 of 12 is incomplete, 9 of 12 is not
    const o2 = 8 + rnd() * 6;
    const so2Base = 300 + rnd() * 300;
    for (let i = 0; i < slots; i++) {
      const ts = start + i * 300_000;
      out.push({ ...stack, metric: 'o2', unit: '%', value: Number((o2 + (rnd() - 0.5)).toFixed(2)), ts });
      out.push({ ...stack, metric: 'so2', unit: 'mg/Nm3', value: Number((so2Base + (rnd() - 0.5) * 40).toFixed(1)), ts });
    }
  }
  const outlet = { park: park.id, tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet' };
  const day5 = Date.parse('2026-11-05T00:00:00+08:00');
  for (let i = 0; i < 24 * 30; i++) {
    if (i >= 100 && i < 105) continue; // a 10-minute outage
    const hourOf = Math.floor(i / 30);
    const ph = hourOf % 6 === 0 ? 5.2 + rnd() * 0.4 : 6.8 + rnd() * 1.2;
    out.push({ ...outlet, metric: 'ph', unit: 'pH', value: Number(ph.toFixed(2)), ts: day5 + i * 120_000 });
  }
  return out;
}

interface Expected { exceeded: number; exceededIncomplete: number; incomplete: number; valid: number }

/** Plain arithmetic over the readings: hourly means, the O2 correction formula, 75 % of the cadence's records. */
function expectedExceedances(readings: readonly ReadingPoint[], meter: string, metric: string, perHour: number, judge: (mean: number, hour: number) => boolean): Expected {
  const byHour = new Map<number, number[]>();
  for (const r of readings) {
    if (r.meter !== meter || r.metric !== metric) continue;
    const h = Math.floor(r.ts / HOUR) * HOUR;
    byHour.set(h, [...(byHour.get(h) ?? []), r.value]);
  }
  const e: Expected = { exceeded: 0, exceededIncomplete: 0, incomplete: 0, valid: 0 };
  for (const [hour, values] of byHour) {
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const over = judge(mean, hour);
    if (values.length / perHour < 0.75) {
      e.incomplete++;
      if (over) e.exceededIncomplete++;
    } else {
      e.valid++;
      if (over) e.exceeded++;
    }
  }
  return e;
}

function hourlyMean(readings: readonly ReadingPoint[], meter: string, metric: string, hour: number): number {
  const v = readings.filter((r) => r.meter === meter && r.metric === metric && r.ts >= hour && r.ts < hour + HOUR).map((r) => r.value);
  return v.reduce((a, x) => a + x, 0) / v.length;
}

/** RFC 4180 rows (quoted cells with commas, doubled quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; } else cell += c;
  }
  return rows;
}

/** Text of an uncompressed pdfkit PDF: its hex strings in TJ arrays, decoded. */
function pdfText(pdf: Buffer): string {
  const s = pdf.toString('latin1');
  return [...s.matchAll(/\[([^\]]*)\] TJ/g)].map((m) => [...m[1]!.matchAll(/<([0-9a-f]*)>/g)].map((x) => Buffer.from(x[1]!, 'hex').toString('latin1')).join('')).join('\n');
}

describe('compliance pack of the demo park\'s month', () => {
  let dir: string;
  let store: TimeSeriesStore;
  let bus: EventBus;
  const readings = publishedReadings();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'eip-pack-'));
    const logger = createLogger('pack-test', 'silent');
    store = createSqliteStore({ path: join(dir, 'ts.sqlite'), logger });
    bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger, pollIntervalMs: 20 });
    await store.writeReadings(readings);
    // The aggregator's window code, as its runtime drives it: readings in, windows closed by the watermark, points stored.
    const agg = new WindowAggregator({ registry, windows: ['1h'], allowedLatenessMs: 0 });
    const byMeter = new Map<string, ReadingPoint[]>();
    for (const r of readings) byMeter.set(r.meter, [...(byMeter.get(r.meter) ?? []), r]);
    let seq = 0;
    for (const [meter, rs] of byMeter) {
      for (let i = 0; i < rs.length; i += 200) {
        const part = rs.slice(i, i + 200);
        agg.record({ v: 1, park: park.id, tenant: part[0]!.tenant, meter, seq: seq++, receivedAt: part[0]!.ts, simulated: false, readings: part.map((r) => ({ metric: r.metric, value: r.value, unit: r.unit, ts: r.ts })) });
      }
    }
    const { events } = agg.flush(monthTo + HOUR);
    await store.writeAggregates(events.filter((e) => e.scope === 'meter').map(toAggregatePoint));
    // Alert history in the store only (older than the topic keeps), and two submissions on the compacted topic.
    const fp = 'fp-outlet-ph';
    const day5 = Date.parse('2026-11-05T00:00:00+08:00');
    await store.writeAlertEvents([
      { fingerprint: fp, ruleId: 'outlet-ph', state: 'firing', severity: 'critical', park: park.id, tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet', metric: 'ph', summary: 'pH below 6', value: 5.3, threshold: 6, at: day5 + 600_000, transition: 1 },
      { fingerprint: fp, ruleId: 'outlet-ph', state: 'acknowledged', severity: 'critical', park: park.id, tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet', metric: 'ph', summary: 'pH below 6', at: day5 + 1_200_000, transition: 2, by: 'rina' },
      { fingerprint: fp, ruleId: 'outlet-ph', state: 'resolved', severity: 'critical', park: park.id, tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet', metric: 'ph', summary: 'pH back in range', at: day5 + HOUR + 60_000, transition: 3 },
    ]);
    const sub = (periodStart: number, state: SubmissionRecord['state']): SubmissionRecord => ({
      v: 1, kind: 'sparing', station: 'SPARING-WWTP-01', park: park.id, tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet', periodStart, periodEnd: periodStart + HOUR,
      records: 30, expected: 30, state, attempts: 1, revision: 0, updatedAt: periodStart + HOUR + 1_000, ...(state === 'sent' ? { receipt: 'rcpt-1', sentAt: periodStart + HOUR + 1_000 } : { lastError: '401 bad signature' }),
    });
    await bus.publish([sub(day5, 'sent'), sub(day5 + HOUR, 'refused')].map((r) => ({ topic: topics.submissions.name, key: submissionKey(r), value: JSON.stringify(r) })));
    await bus.publish([{ topic: topics.submissions.name, key: 'junk', value: '{"v":1}' }]);
  });
  after(async () => {
    await store.close();
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts the exceedance hours and completeness the readings give, in CSV and in the PDF', async () => {
    const { pack, unreadableSubmissions } = await loadPack({ store, bus, now: () => now }, { park, month: '2026-11' });
    assert.equal(unreadableSubmissions, 1);
    const files = unzipSync(zipTables(packTables(pack), pack.generatedAt));
    const csv = (name: string): Array<Record<string, string>> => {
      const [head, ...lines] = parseCsv(strFromU8(files[`${name}.csv`]!));
      return lines.map((l) => Object.fromEntries(l.map((v, i): [string, string] => [head![i]!, v])));
    };
    const exceedances = csv('exceedances');
    const row = (meter: string, metric: string) => exceedances.find((r) => r.meter === meter && r.metric === metric)!;

    const so2 = expectedExceedances(readings, 'cbr-stack-furnace', 'so2', 12, (mean, hour) => mean * (21 - 7) / (21 - hourlyMean(readings, 'cbr-stack-furnace', 'o2', hour)) > 550);
    const hoursInMonth = 30 * 24;
    assert.ok(so2.exceeded > 0 && so2.exceeded < so2.valid, `the fixture has some exceedances (${so2.exceeded} of ${so2.valid})`);
    assert.deepEqual(
      { exceeded: Number(row('cbr-stack-furnace', 'so2').exceeded_hours), exceededIncomplete: Number(row('cbr-stack-furnace', 'so2').exceeded_incomplete_hours), incomplete: Number(row('cbr-stack-furnace', 'so2').incomplete_hours), valid: Number(row('cbr-stack-furnace', 'so2').valid_hours) },
      so2,
    );
    assert.equal(so2.incomplete, 1, 'only the 8-of-12 hour');
    assert.equal(Number(row('cbr-stack-furnace', 'so2').missing_hours), hoursInMonth - 45);
    const ph = expectedExceedances(readings, 'wwtp-sparing-outlet', 'ph', 30, (mean) => mean < 6 || mean > 9);
    assert.equal(ph.exceeded, 4);
    assert.equal(Number(row('wwtp-sparing-outlet', 'ph').exceeded_hours), ph.exceeded);
    assert.equal(Number(row('wwtp-sparing-outlet', 'ph').valid_hours), 24);
    // RKEF-1's SO2 permit was revised on 2026-11-15 (800, then 550 mg/Nm3): one row per version, each with its own hours.
    const rkef1 = exceedances.filter((r) => r.meter === 'snk-stack-rkef1' && r.metric === 'so2');
    assert.deepEqual(rkef1.map((r) => [r.limit_max, Number(r.missing_hours)]), [['800', 14 * 24], ['550', 16 * 24]]);
    assert.equal(rkef1.reduce((n, r) => n + Number(r.missing_hours), 0), hoursInMonth, 'a stack that sent nothing: every hour missing');
    assert.equal(csv('exceedance-hours').length, so2.exceeded + so2.exceededIncomplete + ph.exceeded);

    // Completeness per stream per day: records over the cadence's 288 (5 min) and 720 (2 min) a day.
    const completeness = csv('completeness');
    const day = (date: string, meter: string, metric: string) => completeness.find((r) => r.date === date && r.meter === meter && r.metric === metric)!;
    const count = (meter: string, metric: string, from: number) => readings.filter((r) => r.meter === meter && r.metric === metric && r.ts >= from && r.ts < from + 24 * HOUR).length;
    const d3 = Date.parse('2026-11-03T00:00:00+08:00');
    const d4 = d3 + 24 * HOUR;
    assert.equal(Number(day('2026-11-03', 'cbr-stack-furnace', 'so2').records), count('cbr-stack-furnace', 'so2', d3));
    assert.equal(Number(day('2026-11-03', 'cbr-stack-furnace', 'so2').completeness), Number((count('cbr-stack-furnace', 'so2', d3) / 288).toFixed(4)));
    assert.equal(Number(day('2026-11-04', 'cbr-stack-furnace', 'o2').completeness), Number((count('cbr-stack-furnace', 'o2', d4) / 288).toFixed(4)));
    assert.equal(Number(day('2026-11-03', 'cbr-stack-furnace', 'so2').missing_hours), 3);
    assert.equal(Number(day('2026-11-05', 'wwtp-sparing-outlet', 'ph').completeness), Number(((720 - 5) / 720).toFixed(4)));
    assert.equal(Number(day('2026-11-05', 'cbr-stack-furnace', 'so2').completeness), 0);
    const streams = park.tenants.reduce((n, t) => n + t.meters.reduce((m, x) => m + x.metrics.length, 0), 0);
    assert.equal(completeness.length, 30 * streams, 'every stream, every day');

    // Alerts from the store, with who handled them; submissions with receipts.
    const alerts = csv('alerts');
    assert.deepEqual(alerts.map((a) => [a.fingerprint, a.state, a.acknowledged_by, a.resolved_by]), [['fp-outlet-ph', 'resolved', 'rina', 'rules (condition cleared)']]);
    assert.equal(csv('alert-transitions').length, 3);
    assert.deepEqual(csv('submissions').map((s) => [s.state, s.receipt]), [['sent', 'rcpt-1'], ['refused', '']]);

    const pdf = await renderPackPdf(pack, { compress: false });
    // PACK_PDF_OUT=file: keep this PDF (the README's picture of its first page is made from it).
    if (process.env.PACK_PDF_OUT) writeFileSync(process.env.PACK_PDF_OUT, await renderPackPdf(pack));
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const pages = pdf.toString('latin1').match(/\/Type \/Page\b/g)?.length ?? 0;
    assert.ok(pages >= 6, `summary, completeness grid and four tables (${pages} pages)`);
    const text = pdfText(pdf);
    for (const title of ['Compliance pack', 'Exceedance hours per parameter', 'Completeness per stream and day', 'Hours outside the limit', 'Alerts', 'Submissions and receipts']) {
      assert.ok(text.replace(/\n/g, '').includes(title.replace(/ /g, '')) || text.includes(title), `the PDF has "${title}"`);
    }
    assert.ok(text.includes(`${so2.exceeded}`), 'the exceedance count is printed');
    assert.ok(text.includes(`page ${pages} of ${pages}`), `pages are numbered: ${text.split("\n").filter((l) => l.includes("page ")).slice(-2).join(" / ")}`);
  });
});
