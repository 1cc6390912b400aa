/**
 * The embedded mode end to end on a bare machine: the aedes broker with the
 * project's users and ACL, ingest over MQTT 3.1.1, the SQLite bus and store.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { start } from '../../services/all-in-one/main.ts';
import { loadConfig } from '../../shared/config/env.ts';
import { allInOneConfigSchema } from '../../services/all-in-one/config.ts';
import { createShutdown } from '../../shared/runtime/shutdown.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { createSqliteStore } from '../../shared/adapters/sqlite-timeseries/index.ts';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { busPath, timeSeriesPath } from '../../shared/adapters/select.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { alertEventSchema, aggregateEventSchema, deadLetterSchema, type AlertEvent } from '../../shared/contracts/events.ts';
import { servicePassword } from '../helpers/servers.ts';
import { connect, publishMany } from '../helpers/mqtt.ts';
import { tenantPassword } from '../helpers/servers.ts';

import { waitFor } from '../helpers/bus.ts';

const logger = quietLogger('embedded-test');

describe('embedded mode: aedes + ingest + aggregator + rules on SQLite', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'eip-embedded-'));
  const shutdown = createShutdown(logger, { installSignals: false, exit: () => {} });
  let url: string;
  let tenant: MqttClient;

  before(async () => {
    const config = loadConfig(allInOneConfigSchema, { DATA_DIR: dir, EMBEDDED_BROKER_PORT: '0', INGEST_OPS_PORT: '0', AGGREGATOR_OPS_PORT: '0', RULES_OPS_PORT: '0', REPORTING_OPS_PORT: '0', RECEIVER_PORT: '0', SIMULATOR: 'false', LOG_LEVEL: 'silent' });
    const running = await start(config, { logger, shutdown }, { MQTT_CLIENT_ID: 'ingest:embedded-test' });
    url = running.mqttUrl;
    tenant = await connect(url, { username: 'park-wwtp', password: tenantPassword('park-wwtp'), protocolVersion: 4, clientId: 'park-wwtp:logger' });
  });
  after(async () => {
    await tenant.endAsync().catch(() => {});
    await shutdown.shutdown('test done');
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a tenant\'s readings and produces them to the embedded bus', async () => {
    const base = Date.now() - 3_600_000;
    const messages = Array.from({ length: 30 }, (_, i) => ({
      topic: 'eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry',
      payload: JSON.stringify({ v: 1, ts: base + i * 120_000, seq: i, readings: [{ metric: 'ph', value: 7.1, unit: 'pH' }, { metric: 'cod', value: 50 + i, unit: 'mg/L' }] }),
    }));
    await publishMany(tenant, messages);
    const store = createSqliteStore({ path: timeSeriesPath(dir), logger });
    const bus = createSqliteBus({ path: busPath(dir), logger });
    try {
      await waitFor(async () => (await store.queryReadings({ scope: { park: 'nusantara-eip', meter: 'wwtp-sparing-outlet' }, from: base, to: base + 86_400_000 })).length === 60, 30_000, 'readings in SQLite', 100);
      const cod = await store.queryReadings({ scope: { park: 'nusantara-eip', meter: 'wwtp-sparing-outlet' }, metric: 'cod', from: base, to: base + 86_400_000 });
      assert.deepEqual(cod.slice(0, 2).map((p) => [p.value, p.ts, p.unit]), [[50, base, 'mg/L'], [51, base + 120_000, 'mg/L']]);
      let records = 0;
      const sub = await bus.subscribe({ groupId: 'embedded-check', topics: [topics.readings.name], handleBatch: async (b) => { records += b.messages.length; } });
      await waitFor(() => records === 30, 30_000, 'reading records on the embedded bus', 50);
      await sub.stop();
    } finally {
      await store.close();
      await bus.close();
    }
  });

  it('refuses a tenant publishing under another tenant, as Mosquitto does', async () => {
    const intruder = await connect(url, { username: 'bugis-textile', password: tenantPassword('bugis-textile'), protocolVersion: 4, clientId: 'bugis-textile:intruder' });
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish('eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', JSON.stringify({ v: 1, ts: Date.now(), seq: 999, readings: [{ metric: 'ph', value: 2, unit: 'pH' }] }), { qos: 1 });
    // MQTT 3.1.1 has no negative PUBACK: the broker drops the connection.
    await closed;
    intruder.end(true);
    const store = createSqliteStore({ path: timeSeriesPath(dir), logger });
    try {
      const ph2 = (await store.queryReadings({ scope: { park: 'nusantara-eip', meter: 'wwtp-sparing-outlet' }, metric: 'ph', from: 0, to: Date.now() + 60_000 })).filter((p) => p.value === 2);
      assert.deepEqual(ph2, []);
    } finally {
      await store.close();
    }
    await assert.rejects(connect(url, { username: 'park-wwtp', password: 'wrong', protocolVersion: 4, clientId: 'park-wwtp:bad-pass' }));
  });

  it('aggregates the readings and raises a pH alert, on the bus and on the MQTT alert topic', async () => {
    const onMqtt: AlertEvent[] = [];
    const operator = await connect(url, { username: 'console', password: servicePassword('console'), protocolVersion: 4, clientId: 'console:embedded-test' });
    operator.on('message', (_t, payload) => onMqtt.push(alertEventSchema.parse(JSON.parse(payload.toString()))));
    await operator.subscribeAsync('eip/nusantara-eip/alerts/#', { qos: 1 });
    // After the first test's samples: the rules engine skips samples older than what it has seen.
    const t0 = Date.now() - 50_000;
    await publishMany(tenant, [6.9, 3.1, 3.0, 2.9].map((ph, i) => ({
      topic: 'eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry',
      payload: JSON.stringify({ v: 1, ts: t0 + i * 10_000, seq: 100 + i, readings: [{ metric: 'ph', value: ph, unit: 'pH' }] }),
    })));
    const bus = createSqliteBus({ path: busPath(dir), logger });
    const alerts: AlertEvent[] = [];
    let aggregates = 0;
    const sub = await bus.subscribe({ groupId: 'embedded-alerts', topics: [topics.alerts.name, topics.aggregates.name], handleBatch: async (b) => {
      for (const m of b.messages) {
        if (b.topic === topics.alerts.name) alerts.push(alertEventSchema.parse(JSON.parse(m.value!.toString())));
        else if (aggregateEventSchema.parse(JSON.parse(m.value!.toString())).meter === 'wwtp-sparing-outlet') aggregates++;
      }
    } });
    try {
      await waitFor(() => alerts.some((a) => a.ruleId === 'ww-ph-range' && a.state === 'firing'), 30_000, 'pH alert on the embedded bus', 100);
      const a = alerts.find((x) => x.ruleId === 'ww-ph-range' && x.state === 'firing')!;
      assert.equal(a.severity, 'critical');
      assert.equal(a.meter, 'wwtp-sparing-outlet');
      await waitFor(() => onMqtt.some((x) => x.fingerprint === a.fingerprint), 10_000, 'alert on eip/nusantara-eip/alerts/critical', 100);
      await waitFor(() => aggregates > 0, 30_000, 'window aggregates of the outlet', 100);
    } finally {
      await sub.stop();
      await bus.close();
      await operator.endAsync();
    }
  });

  it('dead-letters a malformed record on the readings topic in the aggregator and rules, which keep running', async () => {
    const bus = createSqliteBus({ path: busPath(dir), logger });
    const stages = new Set<string>();
    const sub = await bus.subscribe({ groupId: 'embedded-dead-letters', topics: [topics.deadLetters.name], handleBatch: async (b) => {
      for (const m of b.messages) {
        const dl = deadLetterSchema.parse(JSON.parse(m.value!.toString()));
        if (dl.reason === 'bad-event' && Buffer.from(dl.payloadBase64, 'base64').toString() === '{"v":1,"park":') stages.add(dl.stage);
      }
    } });
    try {
      await bus.publish([{ topic: topics.readings.name, key: 'wwtp-sparing-outlet', value: '{"v":1,"park":' }]);
      await waitFor(() => stages.has('aggregator') && stages.has('rules'), 30_000, 'dead letters from aggregator and rules', 100);
      const more = Date.now() - 5_000;
      await publishMany(tenant, [{ topic: 'eip/nusantara-eip/park-wwtp/wwtp-sparing-outlet/telemetry', payload: JSON.stringify({ v: 1, ts: more, seq: 500, readings: [{ metric: 'cod', value: 42, unit: 'mg/L' }] }) }]);
      const store = createSqliteStore({ path: timeSeriesPath(dir), logger });
      try {
        await waitFor(async () => (await store.queryReadings({ scope: { park: 'nusantara-eip', meter: 'wwtp-sparing-outlet' }, metric: 'cod', from: more, to: more + 1 })).length === 1, 30_000, 'a reading after the bad record', 100);
      } finally {
        await store.close();
      }
    } finally {
      await sub.stop();
      await bus.close();
    }
  });
});
