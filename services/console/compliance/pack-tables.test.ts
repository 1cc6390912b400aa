import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { unzipSync, strFromU8 } from 'fflate';
import type { SubmissionRecord } from '../../../shared/contracts/submissions.ts';
import { buildAlerts } from './alerts-table.ts';
import { buildCompleteness } from './completeness-table.ts';
import { buildExceedances } from './exceedance-table.ts';
import { fixturePark, hourWindow, transition } from './pack-fixtures.ts';
import { csvCell, toCsv, zipTables } from './pack-csv.ts';
import { HOUR, type PackInput } from './pack-input.ts';
import { monthPeriod, monthOf } from './pack-period.ts';
import { buildSubmissions } from './submissions-table.ts';
import { isoInZone, packTables } from './pack-tables.ts';
import { buildCompliancePack } from './compliance-pack.ts';

const period = monthPeriod('2026-11', 'Asia/Makassar');
const h = (n: number): number => period.from + n * HOUR;

function input(over: Partial<PackInput> = {}): PackInput {
  return { park: fixturePark, period, now: period.to + HOUR, hours: [], alerts: [], submissions: [], minCompleteness: 0.75, ...over };
}

describe('pack period', () => {
  it('is the local calendar month, with its local days', () => {
    assert.equal(period.from, Date.parse('2026-11-01T00:00:00+08:00'));
    assert.equal(period.to, Date.parse('2026-12-01T00:00:00+08:00'));
    assert.equal(period.days.length, 30);
    assert.deepEqual(period.days[1], { date: '2026-11-02', from: Date.parse('2026-11-02T00:00:00+08:00'), to: Date.parse('2026-11-03T00:00:00+08:00') });
    assert.equal(monthOf(Date.parse('2026-11-30T17:00:00Z'), 'Asia/Makassar'), '2026-12');
    assert.equal(monthPeriod('2026-03', 'Europe/Berlin').days.find((d) => d.date === '2026-03-29')!.to - monthPeriod('2026-03', 'Europe/Berlin').days.find((d) => d.date === '2026-03-29')!.from, 23 * HOUR);
    assert.throws(() => monthPeriod('2026-13', 'UTC'), RangeError);
    assert.equal(isoInZone(period.from, 'Asia/Makassar'), '2026-11-01T00:00:00+08:00');
  });
});

describe('exceedance table', () => {
  it('judges O2-corrected hourly means against the limit, incomplete and missing hours apart', () => {
    const hours = [
      // 500 at 12 % O2 is 500 * 14 / 9 = 777.8 at 7 %: over 550.
      hourWindow('stack-1', 'so2', h(0), 500, 12, 12), hourWindow('stack-1', 'o2', h(0), 12, 12, 12),
      // 500 at 5 % O2 is 437.5: under.
      hourWindow('stack-1', 'so2', h(1), 500, 12, 12), hourWindow('stack-1', 'o2', h(1), 5, 12, 12),
      // Over, but 8 of 12: incomplete, reported apart.
      hourWindow('stack-1', 'so2', h(2), 900, 8, 12), hourWindow('stack-1', 'o2', h(2), 7, 8, 12),
      // No O2 that hour: not judged.
      hourWindow('stack-1', 'so2', h(3), 900, 12, 12),
      // pH below the minimum.
      hourWindow('outlet-1', 'ph', h(0), 5.5, 30, 30), hourWindow('outlet-1', 'ph', h(1), 7, 30, 30),
    ];
    const t = buildExceedances(input({ hours }));
    const so2 = t.summary.find((r) => r.metric === 'so2')!;
    const allHours = 30 * 24;
    assert.deepEqual({ ...so2, maxMean: Number(so2.maxMean!.toFixed(3)) }, {
      tenant: 'smelter', meter: 'stack-1', metric: 'so2', unit: 'mg/Nm3', limitMin: undefined, limitMax: 550, limitSource: 'permit S-1', o2Reference: 7,
      hours: allHours, valid: 2, exceeded: 1, incomplete: 1, exceededIncomplete: 1, missing: allHours - 4, noO2: 1, maxMean: 900,
    });
    const ph = t.summary.find((r) => r.metric === 'ph')!;
    assert.equal(ph.exceeded, 1);
    assert.equal(ph.o2Reference, undefined);
    assert.equal(t.summary.some((r) => r.metric === 'o2' || r.meter === 'mill-elec'), false, 'only limited parameters');
    assert.deepEqual(t.hours.map((r) => [r.metric, r.hour, r.incomplete]), [['so2', h(0), false], ['so2', h(2), true], ['ph', h(0), false]]);
    assert.ok(Math.abs(t.hours[0]!.judged - (500 * 14) / 9) < 1e-9);
  });

  it('steps clock hours from local midnight in a zone offset by 45 minutes, where the stored hours start', () => {
    const kathmandu = { ...fixturePark, timezone: 'Asia/Kathmandu' };
    const p = monthPeriod('2026-11', 'Asia/Kathmandu');
    assert.equal(p.from, Date.parse('2026-11-01T00:00:00+05:45'));
    const start = p.from + 5 * HOUR;
    const t = buildExceedances({ ...input(), park: kathmandu, period: p, now: p.to, hours: [hourWindow('stack-1', 'so2', start, 900, 12, 12), hourWindow('stack-1', 'o2', start, 7, 12, 12)] });
    assert.deepEqual(t.hours.map((r) => r.hour), [start]);
    assert.equal(t.summary.find((r) => r.metric === 'so2')!.exceeded, 1);
  });

  it('judges only hours that have ended', () => {
    const t = buildExceedances(input({ now: h(5) + 1_000 }));
    assert.equal(t.summary.find((r) => r.metric === 'so2')!.hours, 5);
  });
});

describe('completeness table', () => {
  it('counts records over expected per stream and local day, capping duplicates', () => {
    const hours = [hourWindow('stack-1', 'so2', h(0), 1, 12, 12), hourWindow('stack-1', 'so2', h(1), 1, 6, 12), hourWindow('stack-1', 'so2', h(2), 1, 15, 12)];
    const rows = buildCompleteness(input({ hours, now: h(24) }));
    const day1 = rows.find((r) => r.date === '2026-11-01' && r.meter === 'stack-1' && r.metric === 'so2')!;
    assert.deepEqual(day1, { date: '2026-11-01', tenant: 'smelter', meter: 'stack-1', metric: 'so2', hours: 24, records: 12 + 6 + 12, expected: 24 * 12, completeness: 30 / 288, incompleteHours: 1, missingHours: 21 });
    const elec = rows.find((r) => r.meter === 'mill-elec')!;
    assert.equal(elec.expected, 24 * 60);
    assert.equal(elec.completeness, 0);
    assert.equal(rows.filter((r) => r.date === '2026-11-02').length, 0, 'a day with no ended hour has no row');
  });
});

describe('alerts table', () => {
  it('gives each alert who acknowledged and who resolved it, and every transition with its provenance', () => {
    const t = buildAlerts({ alerts: [
      transition('fp-1', 3, 'resolved', h(3), { by: 'rina' }),
      transition('fp-1', 1, 'firing', h(1), { provenance: { values: [600, 640], threshold: 550, window: { start: h(0), end: h(1) }, detail: 'hourly mean' } }),
      transition('fp-1', 2, 'acknowledged', h(2), { by: 'olu' }),
      transition('fp-2', 1, 'firing', h(4)),
      transition('fp-2', 2, 'resolved', h(5)),
    ] });
    assert.deepEqual(t.alerts.map((a) => [a.fingerprint, a.state, a.acknowledgedBy, a.acknowledgedAt, a.resolvedBy, a.peak, a.transitions]), [
      ['fp-1', 'resolved', 'olu', h(2), 'rina', 640, 3],
      ['fp-2', 'resolved', undefined, undefined, 'rules (condition cleared)', 600, 2],
    ]);
    assert.deepEqual(t.transitions[0], {
      fingerprint: 'fp-1', transition: 1, at: h(1), state: 'firing', previousState: null, severity: 'critical', ruleId: 'stack-so2', ruleVersion: 1,
      tenant: 'smelter', meter: 'stack-1', metric: 'so2', values: '600 640', threshold: 550, windowStart: h(0), windowEnd: h(1), detail: 'hourly mean', summary: 'SO2 above 550', by: undefined,
    });
  });
});

describe('submissions table', () => {
  const record = (over: Partial<SubmissionRecord>): SubmissionRecord => ({
    v: 1, kind: 'sparing', station: 'ST-1', park: 'park-x', tenant: 'smelter', periodStart: h(1), periodEnd: h(2), records: 30, expected: 30,
    state: 'sent', attempts: 1, revision: 0, receipt: 'ok-1', sentAt: h(2) + 5_000, updatedAt: h(2) + 5_000, ...over,
  });
  it('keeps the scope\'s submissions of the period, in period order', () => {
    const submissions = [
      record({ station: 'ST-2', periodStart: h(3) }), record({}), record({ park: 'other' }), record({ periodStart: period.to }),
      record({ tenant: 'mill', station: 'ST-3', state: 'refused', lastError: '401 bad signature' }),
    ];
    assert.deepEqual(buildSubmissions({ submissions, park: fixturePark, tenant: undefined, period }).map((s) => s.station), ['ST-1', 'ST-3', 'ST-2']);
    assert.deepEqual(buildSubmissions({ submissions, park: fixturePark, tenant: fixturePark.tenants[0], period }).map((s) => s.station), ['ST-1', 'ST-2']);
  });
});

describe('CSV and zip', () => {
  it('quotes what needs quoting and defuses formulas', () => {
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"\nthere'), '"say ""hi""\nthere"');
    assert.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
    assert.equal(csvCell('-1+2'), "'-1+2");
    assert.equal(csvCell(-1.5), '-1.5');
    assert.equal(csvCell(undefined), '');
    assert.equal(csvCell(Number.NaN), '');
    assert.equal(toCsv({ name: 't', title: 't', columns: ['a', 'b'], rows: [[1, 'x'], [undefined, true]] }), 'a,b\r\n1,x\r\n,true\r\n');
  });

  it('zips one CSV per table, the same bytes for the same pack', () => {
    const pack = buildCompliancePack(input({ hours: [hourWindow('stack-1', 'so2', h(0), 900, 12, 12), hourWindow('stack-1', 'o2', h(0), 7, 12, 12)] }));
    const tables = packTables(pack);
    const zip = zipTables(tables, pack.generatedAt);
    assert.deepEqual(zipTables(tables, pack.generatedAt), zip);
    const files = unzipSync(zip);
    assert.deepEqual(Object.keys(files).sort(), ['alert-transitions.csv', 'alerts.csv', 'completeness.csv', 'exceedance-hours.csv', 'exceedances.csv', 'pack.csv', 'submissions.csv']);
    const hours = strFromU8(files['exceedance-hours.csv']!).trim().split('\r\n');
    assert.equal(hours.length, 2);
    assert.match(hours[1]!, /^2026-11-01T00:00:00\+08:00,smelter,stack-1,so2,mg\/Nm3,900,900,7,,550,12,12,1,false$/);
  });
});
