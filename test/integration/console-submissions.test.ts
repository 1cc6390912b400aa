/**
 * The console's submissions read model on real Kafka: the same LiveFeeds the
 * console runs folds eip.report-submissions.v1 through the Kafka adapter, the
 * latest record per (kind, station, period) winning (failed, then refused;
 * revision 0, then 1). The records name a park and stations of this run only,
 * and carry no body, so a reporting service reading the shared topic back
 * leaves them alone.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { submissionKey, type SubmissionRecord } from '../../shared/contracts/submissions.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { createModels } from '../../services/console/console-models.ts';
import { LiveFeeds } from '../../services/console/live-feeds.ts';
import { kafkaBrokers } from '../helpers/servers.ts';
import { waitFor } from '../helpers/bus.ts';

const hour = 3_600_000;

it('folds the submissions topic on Kafka: the latest record per period, newest first', { timeout: 90_000 }, async () => {
  const run = `csub-${randomBytes(4).toString('hex')}`;
  const logger = quietLogger('console-submissions-test');
  const bus = createKafkaBus({ brokers: kafkaBrokers, clientId: run, logger });
  const models = createModels({ deadLettersKept: 10, historyPerAlert: 5 });
  const feeds = new LiveFeeds({ bus, models, logger });
  const t0 = Date.UTC(2026, 10, 27, 2);
  const record = (over: Partial<SubmissionRecord>): SubmissionRecord => ({
    v: 1, kind: 'sparing', station: `${run}-uid`, park: run, periodStart: t0, periodEnd: t0 + hour, records: 30, expected: 30,
    state: 'sent', attempts: 1, revision: 0, updatedAt: t0 + hour, ...over,
  });
  const records = [
    record({ state: 'failed', lastError: '503 Service Unavailable' }),
    record({ state: 'refused', attempts: 2, lastError: 'HTTP 401: token refused: signature' }),
    record({ periodStart: t0 + hour, periodEnd: t0 + 2 * hour, records: 25, receipt: 'r-a' }),
    record({ periodStart: t0 + hour, periodEnd: t0 + 2 * hour, records: 30, revision: 1, receipt: 'r-b' }),
    record({ kind: 'sispek', station: `${run}-stack`, records: 9, expected: 12, receipt: 'r-c' }),
  ];
  try {
    await feeds.start();
    await bus.publish(records.map((r) => ({ topic: topics.submissions.name, key: submissionKey(r), value: JSON.stringify(r) })));
    const mine = () => models.submissions.list({ park: run });
    await waitFor(() => mine().submissions.some((s) => s.revision === 1) && mine().submissions.some((s) => s.state === 'refused') && mine().total === 3, 60_000, 'the run\'s submissions folded', 100);
    assert.deepEqual(mine().submissions.map((s) => [s.kind, s.periodStart - t0, s.state, s.records, s.revision, s.receipt ?? s.lastError]), [
      ['sparing', hour, 'sent', 30, 1, 'r-b'],
      ['sispek', 0, 'sent', 9, 0, 'r-c'],
      ['sparing', 0, 'refused', 30, 0, 'HTTP 401: token refused: signature'],
    ]);
    assert.deepEqual(models.submissions.stateCounts(run), { pending: 0, sent: 2, failed: 0, refused: 1 });
  } finally {
    await feeds.stop();
    await bus.close();
  }
});
