import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/sqlite-bus.ts';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { deadLetterSchema, type AlertEvent, type DeadLetter } from '../../shared/contracts/events.ts';
import { loadParkRegistry, demoParkPath } from '../../shared/contracts/park-registry.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, quietLogger } from '../../shared/observability/logger.ts';
import { EipError } from '../../shared/errors.ts';
import type { TimeSeriesStore } from '../../shared/ports/time-series.ts';
import { AlertOutputs } from './alert-outputs.ts';
import { createRulesMetrics } from './metrics.ts';
import { waitFor } from '../../test/helpers/bus.ts';

const logger = quietLogger('outputs-test');
const event = (fp: string, transition: number, over: Partial<AlertEvent> = {}): AlertEvent => ({
  v: 1, fingerprint: fp, transition, state: transition % 2 ? 'firing' : 'resolved', previousState: transition % 2 ? null : 'firing', severity: 'critical',
  ruleId: 'ww-ph-range', ruleVersion: 1, park: 'nusantara-eip', tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet', metric: 'ph',
  summary: 's', provenance: { values: [4.1] }, at: Date.parse('2026-11-27T10:00:00Z') + transition * 60_000, simulated: false, ...over,
});

const until = (what: string, fn: () => boolean | Promise<boolean>): Promise<void> => waitFor(fn, 15_000, what);

describe('AlertOutputs', () => {
  it('stores history and notifies each transition once stored, skips silenced ones for notification, and sends again what a crash left unconfirmed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
    const bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger, pollIntervalMs: 10 });
    const realStore = createSqliteStore({ path: join(dir, 'ts.sqlite'), logger });
    const published: Array<{ topic: string; fp: string; transition: number }> = [];
    const mqtt = { publishAsync: async (topic: string, payload: string) => { const e = JSON.parse(payload) as AlertEvent; published.push({ topic, fp: e.fingerprint, transition: e.transition }); } } as unknown as MqttClient;
    // The store refuses writes while `down`: the batch must wait, uncommitted.
    let down = true;
    let refused = 0;
    const store: TimeSeriesStore = { ...realStore, writeAlertEvents: async (events) => {
      if (down) { refused++; throw new EipError('UNAVAILABLE', 'store down', { retriable: true }); }
      return realStore.writeAlertEvents(events);
    } };
    const make = () => new AlertOutputs({ bus, store, registry: loadParkRegistry(demoParkPath), mqtt, webhooks: [], webhookTimeoutMs: 1_000, metrics: createRulesMetrics(new Registry()), logger, group: 'rules-test', stopGraceMs: 200, notifyMaxAgeMs: 60_000 });
    try {
      // Decided long ago (the record's time): recorded on a first start, not notified.
      await bus.publish([{ topic: topics.alerts.name, key: 'old', value: JSON.stringify(event('old', 1)), timestamp: Date.now() - 3_600_000 }]);
      let outputs = make();
      await outputs.start();
      await bus.publish([event('a', 1), event('b', 1, { silenced: true }), event('x', 1, { park: 'another-park' })].map((e) => ({ topic: topics.alerts.name, key: e.fingerprint, value: JSON.stringify(e) })));
      await until('a refused write', () => refused > 0);
      assert.deepEqual(published, [], 'nothing notified before the history is stored');
      // A crash while the store is down: nothing was committed, so a new instance gets the batch again.
      await outputs.stop();
      down = false;
      outputs = make();
      await outputs.start();
      await until('history stored', async () => (await realStore.queryAlertEvents({ scope: { park: 'nusantara-eip' }, from: 0, to: Date.now() })).length === 3);
      await until('notified', () => published.length >= 1);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(published, [{ topic: 'eip/nusantara-eip/alerts/critical', fp: 'a', transition: 1 }], 'one notification; the stale, the silenced and another park\'s are not sent');
      const history = await realStore.queryAlertEvents({ scope: { park: 'nusantara-eip' }, from: 0, to: Date.now() });
      assert.deepEqual(history.map((h) => h.fingerprint).sort(), ['a', 'b', 'old'], 'silenced and stale transitions are still recorded');
      await outputs.stop();
    } finally {
      await bus.close();
      await realStore.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dead-letters a record it cannot read and a history point the store refuses, stores and notifies the rest, and moves on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
    const bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger, pollIntervalMs: 10 });
    const realStore = createSqliteStore({ path: join(dir, 'ts.sqlite'), logger });
    const published: string[] = [];
    const mqtt = { publishAsync: async (_topic: string, payload: string) => { published.push((JSON.parse(payload) as AlertEvent).fingerprint); } } as unknown as MqttClient;
    // The real SQLite store, handed a summary it refuses (not a string) for fingerprint "poison".
    const store: TimeSeriesStore = { ...realStore, writeAlertEvents: (events) => realStore.writeAlertEvents(events.map((e) => (e.fingerprint === 'poison' ? { ...e, summary: 42 as unknown as string } : e))) };
    const metrics = createRulesMetrics(new Registry());
    const outputs = new AlertOutputs({ bus, store, registry: loadParkRegistry(demoParkPath), mqtt, webhooks: [], webhookTimeoutMs: 1_000, metrics, logger, group: 'rules-test', stopGraceMs: 200, notifyMaxAgeMs: 60_000 });
    const letters: DeadLetter[] = [];
    const sub = await bus.subscribe({ groupId: 'letters', topics: [topics.deadLetters.name], fromBeginning: true, handleBatch: async (b) => {
      for (const m of b.messages) letters.push(deadLetterSchema.parse(JSON.parse(m.value!.toString())));
    } });
    try {
      await outputs.start();
      await bus.publish([
        { topic: topics.alerts.name, key: 'a', value: JSON.stringify(event('a', 1)) },
        { topic: topics.alerts.name, key: 'junk', value: '{"not":"an alert"}' },
        { topic: topics.alerts.name, key: 'poison', value: JSON.stringify(event('poison', 1)) },
        { topic: topics.alerts.name, key: 'c', value: JSON.stringify(event('c', 1)) },
      ]);
      await until('two dead letters', () => letters.length >= 2);
      await bus.publish([{ topic: topics.alerts.name, key: 'd', value: JSON.stringify(event('d', 1)) }]);
      await until('a later batch stored', async () => (await realStore.queryAlertEvents({ scope: { park: 'nusantara-eip' }, from: 0, to: Date.now() })).length === 3);
      const history = await realStore.queryAlertEvents({ scope: { park: 'nusantara-eip' }, from: 0, to: Date.now() });
      assert.deepEqual(history.map((h) => h.fingerprint).sort(), ['a', 'c', 'd']);
      await until('notified', () => published.length === 4);
      assert.deepEqual(published.sort(), ['a', 'c', 'd', 'poison'], 'a transition whose history point was refused is still notified');
      const byReason = new Map(letters.map((l) => [l.reason, l]));
      assert.equal(letters.length, 2);
      assert.equal(byReason.get('bad-event')?.stage, 'rules');
      assert.match(byReason.get('bad-event')!.source, /^eip\.alerts\.v1\/\d+@\d+$/);
      assert.equal(Buffer.from(byReason.get('bad-event')!.payloadBase64, 'base64').toString(), '{"not":"an alert"}');
      assert.match(byReason.get('sink-refused')!.detail, /^timeseries refused it \(REJECTED\): alert event #0: summary must be a string/);
      assert.equal((JSON.parse(Buffer.from(byReason.get('sink-refused')!.payloadBase64, 'base64').toString()) as AlertEvent).fingerprint, 'poison');
      assert.equal((await metrics.invalid.get()).values[0]?.value, 1);
      assert.equal((await metrics.sinks.refused.get()).values[0]?.value, 1);
    } finally {
      await outputs.stop();
      await sub.stop();
      await bus.close();
      await realStore.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs a failing webhook by its origin only, never the token in its path or its user info', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
    const lines: string[] = [];
    const logs = createLogger('outputs-test', 'debug', { write: (line) => { lines.push(line); } });
    const bus = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger: logs, pollIntervalMs: 10 });
    const store = createSqliteStore({ path: join(dir, 'ts.sqlite'), logger: logs });
    const receiver = createServer((_req, res) => { res.statusCode = 500; res.end(); });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    const refusing = `http://127.0.0.1:${port}/services/T0KEN-IN-PATH/hook?key=QUERY-SECRET`;
    const unreachable = 'http://hookuser:PASSWORD-IN-URL@127.0.0.1:1/hooks/SECOND-TOKEN';
    const metrics = createRulesMetrics(new Registry());
    const outputs = new AlertOutputs({ bus, store, registry: loadParkRegistry(demoParkPath), webhooks: [refusing, unreachable], webhookAttempts: 1, webhookTimeoutMs: 1_000, metrics, logger: logs, group: 'rules-test', stopGraceMs: 200, notifyMaxAgeMs: 60_000 });
    try {
      await outputs.start();
      await bus.publish([{ topic: topics.alerts.name, key: 'a', value: JSON.stringify(event('a', 1)) }]);
      await until('both webhooks logged', () => lines.some((l) => l.includes('webhook refused the alert')) && lines.some((l) => l.includes('"msg":"webhook failed"')));
      const text = lines.join('');
      assert.match(text, new RegExp(`"webhook":"http://127.0.0.1:${port}"`));
      assert.match(text, /"webhook":"http:\/\/127.0.0.1:1"/);
      for (const secret of ['T0KEN-IN-PATH', 'QUERY-SECRET', 'PASSWORD-IN-URL', 'hookuser', 'SECOND-TOKEN']) assert.ok(!text.includes(secret), `${secret} is not logged`);
    } finally {
      await outputs.stop();
      await new Promise((resolve) => receiver.close(resolve));
      await bus.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
