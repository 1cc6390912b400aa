/**
 * A wrong SPARING secret, end to end on the embedded SQLite bus: the reporting
 * service signs the demo outlet's hour with it, the stand-in receiver refuses
 * the signature (401), and the console shows the submission as refused, with
 * the receiver's reason, through its API, on the park overview's count, and
 * on the park's Submissions page in Chromium (screenshot:
 * test-results/screenshots/submissions-refused.png).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { startReceiver } from '../../simulators/receiver/receiver.ts';
import { reportingConfigSchema } from '../../services/reporting/config.ts';
import { startReporting } from '../../services/reporting/main.ts';
import { startTestConsole, password } from '../../services/console/testing.ts';
import { buildUi } from '../../services/console/ui/build.ts';
import { launchChromium, pageErrorsOf } from '../browser/helpers/chromium.ts';
import { repoRoot } from '../helpers/servers.ts';
import type { ParkSummary, SubmissionList } from '../../services/console/api/schemas.ts';
import { recordingSupervisor } from '../helpers/supervisor.ts';
import { eventually } from '../helpers/bus.ts';

const registryFile = 'shared/parks/demo-park.json';
const park = 'nusantara-eip';
const uid = 'SPARING-DEMO-0001';
const meter = 'wwtp-sparing-outlet';
const hour = Date.UTC(2026, 10, 27, 2);

it('a bad SPARING signature secret is refused by the receiver and shows as a refused submission in the console', async () => {
  const receiver = await startReceiver({ secretOf: (u) => (u === uid ? 'the-ministry-issued-secret-0123' : undefined) });
  const c = await startTestConsole({ registry: JSON.parse(readFileSync(registryFile, 'utf8')) as unknown, users: [{ name: 'wina', role: 'viewer', parks: [park] }], ui: await buildUi() });
  const config = reportingConfigSchema.parse({
    BUS: 'sqlite', DATA_DIR: c.dir, PARK_REGISTRY: registryFile, OPS_PORT: '0', LOG_LEVEL: 'silent',
    SPARING_URL: `${receiver.url}/sparing`, SPARING_SECRET: 'a-mistyped-secret-0123456789', SISPEK: 'false',
    REPORTING_TICK_MS: '50', REPORTING_SETTLE_MS: '0', REPORTING_LOOKBACK_MS: String(400 * 86_400_000),
  });
  // The hour and its close-after are past on the reporting service's clock.
  const reporting = await startReporting(config, quietLogger('reporting-e2e'), recordingSupervisor(), { now: () => hour + 2 * 3_600_000 });
  try {
    const event = (i: number): ReadingBatchEvent => {
      const ts = hour + i * 120_000;
      return { v: 1, park, tenant: 'park-wwtp', meter, seq: i, receivedAt: ts, simulated: false, readings: ['ph', 'cod', 'tss', 'nh3n', 'water_flow'].map((metric) => ({ metric, unit: 'x', value: 7 + i / 10, ts })) };
    };
    await c.bus.publish(Array.from({ length: 30 }, (_, i) => ({ topic: topics.readings.name, key: meter, value: JSON.stringify(event(i)) })));

    const signIn = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'wina', password: password('wina') } });
    const cookie = `eip_session=${signIn.cookies.find((k) => k.name === 'eip_session')!.value}`;
    const get = (url: string) => c.app.inject({ method: 'GET', url, headers: { cookie } });
    const list = await eventually(async () => {
      const r = (await get(`/api/parks/${park}/submissions?kind=sparing&state=refused`)).json<SubmissionList>();
      return r.total > 0 ? r : undefined;
    }, 30_000, 'the refused submission in the console', 100);
    const s = list.submissions[0]!;
    assert.deepEqual([s.station, s.meter, s.periodStart, s.periodEnd, s.records, s.expected, s.state, s.revision], [uid, meter, hour, hour + 3_600_000, 30, 30, 'refused', 0]);
    assert.match(s.lastError ?? '', /401/);
    assert.equal(s.receipt, undefined);
    assert.equal(receiver.accepted().length, 0, 'nothing accepted under the wrong secret');
    assert.ok(receiver.refused().some((r) => r.status === 401), 'the receiver refused the signature');
    const overview = (await get(`/api/parks/${park}`)).json<ParkSummary>();
    assert.deepEqual(overview.submissionsFailing, { failed: 0, refused: 1 });

    // The same on the page: the park overview's count and link, the Submissions table's highlighted row.
    await c.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(c.app.server.address() as AddressInfo).port}`;
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      const pageErrors = pageErrorsOf(page);
      await page.goto(`${url}/`);
      await page.getByTestId('signin-username').fill('wina');
      await page.getByTestId('signin-password').fill(password('wina'));
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('signed-in-as').filter({ hasText: 'wina' }).waitFor();
      await page.goto(`${url}/#/parks/${park}`);
      await page.getByTestId('park-overview').waitFor();
      assert.match(await page.getByTestId('submissions-failing').first().textContent() ?? '', /1 refused/);
      await page.getByTestId('submissions-link').click();
      const row = page.locator('[data-testid="submission-row"][data-state="refused"]');
      await row.waitFor();
      const text = await row.textContent() ?? '';
      assert.match(text, new RegExp(`SPARING.*${uid}.*refused.*30/30.*100 %.*401`));
      assert.match(await page.getByTestId('submission-counts').textContent() ?? '', /refused: 1/);
      // Filters, kept in the URL: none failed; failed or refused shows it again.
      await page.getByTestId('filter-submission-state').selectOption('failed');
      await page.getByText('No submissions match these filters.').waitFor();
      await page.getByTestId('filter-submission-state').selectOption('failed,refused');
      await row.waitFor();
      assert.match(page.url(), /submissions\?state=failed%2Crefused$/);
      const screenshots = join(repoRoot, 'test-results', 'screenshots');
      mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: join(screenshots, 'submissions-refused.png'), fullPage: true });
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
    }
  } finally {
    await reporting.stop();
    await c.close();
    await receiver.close();
  }
});
