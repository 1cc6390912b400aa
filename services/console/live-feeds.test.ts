import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/sqlite-bus.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { AlertEvent } from '../../shared/contracts/events.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { waitFor } from '../../test/helpers/bus.ts';
import { createModels } from './console-models.ts';
import { LiveFeeds, type SkipReason } from './live-feeds.ts';

const logger = quietLogger('feeds-test');
const event = (fp: string): AlertEvent => ({
  v: 1, fingerprint: fp, transition: 1, state: 'firing', previousState: null, severity: 'critical', ruleId: 'ww-ph-range', ruleVersion: 1,
  park: 'nusantara-eip', tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet', metric: 'ph', summary: 's', provenance: { values: [4.1] }, at: Date.parse('2026-11-27T10:00:00Z'), simulated: false,
});

describe('LiveFeeds', () => {
  it('counts and logs a record it cannot read or apply, and keeps reading the ones after it', async () => {
    const bus = createSqliteBus({ path: ':memory:', logger, pollIntervalMs: 10 });
    const models = createModels({ deadLettersKept: 100, historyPerAlert: 10 });
    // A read model that fails on one record, as a bug or an unforeseen value would make it.
    const apply = models.alerts.apply.bind(models.alerts);
    models.alerts.apply = (e) => { if (e.fingerprint === 'boom') throw new RangeError('Invalid time value'); return apply(e); };
    const skipped: Array<[string, SkipReason]> = [];
    const feeds = new LiveFeeds({ bus, models, logger, onRecordRejected: (topic, reason) => skipped.push([topic, reason]) });
    try {
      await feeds.start();
      await bus.publish([
        { topic: topics.alerts.name, key: 'junk', value: 'not json' },
        { topic: topics.alerts.name, key: 'boom', value: JSON.stringify(event('boom')) },
        { topic: topics.alerts.name, key: 'ok', value: JSON.stringify(event('ok')) },
      ]);
      await waitFor(() => models.alerts.get('ok') !== undefined, 15_000, 'the record after the failing one applied');
      assert.deepEqual(skipped, [[topics.alerts.name, 'unreadable'], [topics.alerts.name, 'not-applied']]);
      assert.equal(models.alerts.get('boom'), undefined);
    } finally {
      await feeds.stop();
      await bus.close();
    }
  });
});
