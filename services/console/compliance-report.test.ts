import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { createLogger } from '../../shared/observability/logger.ts';
import { main } from './compliance-report.ts';


async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, env, (s) => { out += s; }, (s) => { err += s; }, () => Date.parse('2026-12-01T10:00:00+08:00'));
  return { code, out, err };
}

describe('npm run report', () => {
  it('explains itself and refuses bad arguments with exit 2', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /usage: npm run report -- --park ID/);
    assert.equal((await run([])).code, 2);
    assert.match((await run([])).err, /--park is required/);
    assert.equal((await run(['--park', 'nowhere'])).code, 2);
    assert.equal((await run(['--park', 'nusantara-eip', '--month', '2026-13'])).code, 2);
    assert.equal((await run(['--park', 'nusantara-eip', '--format', 'docx'])).code, 2);
    assert.equal((await run(['--park', 'nusantara-eip', '--tenant', 'nobody'])).code, 2);
    assert.equal((await run(['--bogus'])).code, 2);
  });

  it('writes the PDF and the zip from the configured store, progress on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eip-report-'));
    try {
      const store = createSqliteStore({ path: join(dir, 'timeseries.sqlite'), logger: createLogger('report-test', 'silent') });
      const start = Date.parse('2026-11-10T09:00:00+08:00');
      const w = (metric: string, mean: number) => ({
        scope: 'meter' as const, park: 'nusantara-eip', tenant: 'celebes-battery', meter: 'cbr-stack-furnace', metric, unit: metric === 'o2' ? '%' : 'mg/Nm3',
        window: '1h' as const, start, count: 12, sum: mean * 12, min: mean, max: mean, mean, last: mean, completeness: 1, expected: 12,
      });
      await store.writeAggregates([w('so2', 500), w('o2', 12)]);
      await store.close();
      const out = join(dir, 'out');
      const r = await run(['--park', 'nusantara-eip', '--tenant', 'celebes-battery', '--month', '2026-11', '--out', out], { DATA_DIR: dir });
      assert.equal(r.code, 0, r.err);
      const name = join(out, 'compliance-pack-nusantara-eip-celebes-battery-2026-11');
      assert.equal(r.out, `${name}.zip\n${name}.pdf\n`);
      assert.match(r.err, /report: hourly windows: so2/);
      assert.match(r.err, /report: done: 1 exceedance hours/);
      assert.equal(readFileSync(`${name}.pdf`).subarray(0, 5).toString(), '%PDF-');
      const hours = strFromU8(unzipSync(readFileSync(`${name}.zip`))['exceedance-hours.csv']!).trim().split('\r\n');
      // 500 mg/Nm3 at 12 % O2 is 500 * 14 / 9 at the permit's 7 %.
      assert.match(hours[1]!, /^2026-11-10T09:00:00\+08:00,celebes-battery,cbr-stack-furnace,so2,mg\/Nm3,500,777\.7778,12,/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
