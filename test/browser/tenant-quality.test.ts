/**
 * The tenant page's data quality in Chromium, against one console on the
 * embedded adapters with stored windows (no pipeline: what is drawn is exactly
 * what was stored): the incomplete and missing hours and the register event
 * are listed, the pH chart shades the incomplete hours, the energy chart
 * marks the rollover, and both say so in words. Screenshot:
 * test-results/screenshots/tenant-quality.png.
 *
 *   node scripts/test.mjs --no-lint test/browser/tenant-quality.test.ts
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { AggregatePoint } from '../../shared/ports/time-series.ts';
import { startTestConsole, password, type TestConsole } from '../../services/console/testing.ts';
import { buildUi } from '../../services/console/ui/build.ts';
import { repoRoot } from '../helpers/servers.ts';
import { launchChromium, pageErrorsOf } from './helpers/chromium.ts';
import { countPixels } from './helpers/pixels.ts';

const screenshots = join(repoRoot, 'test-results', 'screenshots');
const minute = 60_000;
const hour = 60 * minute;

describe('tenant data quality in Chromium', { timeout: 120_000 }, () => {
  let c: TestConsole;
  let browser: Browser;
  let url = '';
  const now = Date.now();
  const thisHour = Math.floor(now / hour) * hour;

  before(async () => {
    mkdirSync(screenshots, { recursive: true });
    browser = await launchChromium();
    c = await startTestConsole({ ui: await buildUi() });
    await c.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(c.app.server.address() as AddressInfo).port}`;
    const base = { scope: 'meter', park: 'park-a', tenant: 'park-a-smelter', sum: 0, min: 0, max: 0, mean: 0, last: 0, revision: 0 } as const;
    const ph = (start: number, count: number): AggregatePoint => ({ ...base, meter: 'park-a-outlet', metric: 'ph', unit: 'pH', window: '1h', start, count, expected: 30, completeness: count / 30, mean: 7, min: 7, max: 7, last: 7, sum: 7 * count });
    const energy = (window: '1h' | '15m' | '1m', start: number, registerEvents: string[] = []): AggregatePoint => {
      const expected = { '1h': 60, '15m': 15, '1m': 1 }[window];
      return { ...base, meter: 'park-a-elec', metric: 'active_energy_import', unit: 'kWh', window, start, count: expected, expected, completeness: 1, consumption: 2, registerEvents };
    };
    const hoursBack = Array.from({ length: 23 }, (_, i) => thisHour - (i + 1) * hour);
    const rolloverHour = thisHour - 2 * hour;
    await c.store.writeAggregates([
      // pH: an hour with a third of its records three hours ago, none at all five hours ago.
      ...hoursBack.filter((h) => h !== thisHour - 5 * hour).map((h) => ph(h, h === thisHour - 3 * hour ? 10 : 30)),
      ...hoursBack.map((h) => energy('1h', h, h === rolloverHour ? ['rollover'] : [])),
      ...Array.from({ length: 24 }, (_, i) => energy('15m', thisHour - (i + 1) * 15 * minute, thisHour - (i + 1) * 15 * minute === rolloverHour + 15 * minute ? ['rollover'] : [])),
      energy('1m', rolloverHour + 17 * minute, ['rollover']),
    ]);
    // Raw pH readings for the 6-hour chart.
    await c.store.writeReadings(Array.from({ length: 60 }, (_, i) => ({ park: 'park-a', tenant: 'park-a-smelter', meter: 'park-a-outlet', metric: 'ph', unit: 'pH', value: 7 + 0.2 * Math.sin(i / 5), ts: now - 6 * hour + i * 6 * minute })));
  });
  after(async () => {
    await browser?.close();
    await c?.close();
  });

  it('lists incomplete hours and register events, and marks them on the charts', async (t) => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    // The console's Content-Security-Policy must not block any part of the UI.
    const pageErrors = pageErrorsOf(page);
    t.after(() => context.close());
    try {
      await page.goto(`${url}/`);
      await page.getByTestId('signin-username').fill('vic');
      await page.getByTestId('signin-password').fill(password('vic'));
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('signed-in-as').filter({ hasText: 'vic' }).waitFor();
      await page.goto(`${url}/#/parks/park-a/tenants/park-a-smelter`);
      await page.getByTestId('data-quality').waitFor();

      const hours = page.locator('[data-testid="incomplete-hour"][data-meter="park-a-outlet"][data-metric="ph"]');
      assert.equal(await hours.count(), 2, 'the thin hour and the empty one');
      assert.match(await hours.nth(0).textContent() ?? '', /10 of 30.*33 %/);
      assert.match(await hours.nth(1).textContent() ?? '', /no records/);
      const events = page.getByTestId('register-event');
      assert.equal(await events.count(), 1);
      assert.equal(await events.first().getAttribute('data-event'), 'rollover');
      assert.match(await events.first().textContent() ?? '', /park-a-elec.*active_energy_import.*rollover/);
      assert.match(await page.getByTestId('quality-summary').textContent() ?? '', /2 incomplete hours of 46 meter hours .*below 75 %.*1 register event/);

      const phChart = page.locator('[data-testid="metric-chart"][data-metric="ph"]');
      await phChart.and(page.locator('[data-incomplete="2"]')).waitFor();
      assert.match(await phChart.getByTestId('chart-marks').textContent() ?? '', /2 incomplete windows/);
      const energyChart = page.locator('[data-testid="metric-chart"][data-metric="active_energy_import"]');
      await energyChart.and(page.locator('[data-events="1"]')).waitFor();
      assert.match(await energyChart.getByTestId('chart-marks').textContent() ?? '', /R rollover on park-a-elec/);
      assert.match(await energyChart.locator('[role="img"]').getAttribute('aria-label') ?? '', /1 register event: rollover on park-a-elec at/);
      // The marker is drawn, not only listed: pixels in its colour on the energy chart's canvas.
      const markerPixels = await page.evaluate<number>(countPixels('[data-testid="metric-chart"][data-metric="active_energy_import"] canvas', [0xf2, 0xcc, 0x60], 12));
      assert.ok(markerPixels > 20, `the rollover marker is drawn (${markerPixels} pixels)`);
      await page.screenshot({ path: join(screenshots, 'tenant-quality.png'), fullPage: true });
      assert.deepEqual(pageErrors, []);
    } catch (err) {
      await page.screenshot({ path: join(screenshots, 'failure-tenant-quality.png'), fullPage: true }).catch(() => {});
      throw err;
    }
  });
});
