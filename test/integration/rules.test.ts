/**
 * Rules against real Kafka (and Mosquitto for the alert topic): readings in,
 * the expected alert transitions out; the service SIGKILLed and restarted in the
 * middle of an incident with no transition repeated or lost; a late reading
 * within the aggregator's allowance revises a window and so raises an alert.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInfluxStore } from '../../shared/adapters/influxdb/index.ts';
import type { AlertmanagerPayload } from '../../services/rules/alertmanager.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { alertEventSchema, type AlertEvent, type ReadingBatchEvent } from '../../shared/contracts/events.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { influx, kafkaBrokers, mqttUrl, servicePassword } from '../helpers/servers.ts';
import { connect } from '../helpers/mqtt.ts';
import { startService, freePort, type ServiceProcess } from '../helpers/service-process.ts';
import { serviceGroups, startGroupsAtEnd } from '../helpers/kafka-groups.ts';
import { waitFor } from '../helpers/bus.ts';
import { AlertWatch } from '../helpers/alert-watch.ts';

const logger = quietLogger('rules-test');
const minute = 60_000;

interface Park { id: string; tenant: string; ww: string; elec: string; dir: string; registry: string }

function makePark(): Park {
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const p = { id: `rtest-${tag}`, tenant: `rt-${tag}`, ww: `ww-${tag}`, elec: `el-${tag}`, dir: mkdtempSync(join(tmpdir(), 'eip-rules-')), registry: '' };
  p.registry = join(p.dir, 'registry.json');
  writeFileSync(p.registry, JSON.stringify({ version: 1, parks: [{ id: p.id, name: 'rules test', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'test' } },
    tenants: [{ id: p.tenant, name: 'T', sector: 'test', supplySource: 'grid', meters: [
      { id: p.ww, kind: 'wastewater-quality', cadenceSeconds: 120, metrics: ['ph', 'cod'], limits: { ph: { min: 6, max: 9, source: 'Permen LH 5/2014' } } },
      { id: p.elec, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power'], contractedKw: 100 },
    ] }] }] }));
  return p;
}

const batch = (p: Park, meter: string, seq: number, ts: number, metric: string, unit: string, value: number): ReadingBatchEvent =>
  ({ v: 1, park: p.id, tenant: p.tenant, meter, seq, receivedAt: ts, simulated: false, readings: [{ metric, unit, value, ts }] });

describe('rules against real Kafka', { timeout: 300_000 }, () => {
  let bus: EventBus;
  let cleanup: Array<() => Promise<unknown>> = [];
  before(() => { bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'rules-test', logger }); });
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    cleanup = [];
  });
  after(async () => { await bus.close(); });

  const common = (p: Park): Record<string, string> => ({
    BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org,
    INFLUX_BUCKET: influx.bucket, INFLUX_AGGREGATES_BUCKET: `${influx.bucket}_downsampled`, PARK_REGISTRY: p.registry, DATA_DIR: p.dir,
  });
  async function start(name: string, env: Record<string, string>): Promise<ServiceProcess> {
    const svc = await startService(name, env, freePort());
    cleanup.push(() => svc.stop('SIGTERM'));
    return svc;
  }
  const publish = (events: ReadingBatchEvent[]) => bus.publish(events.map((e) => ({ topic: topics.readings.name, key: e.meter, value: JSON.stringify(e) })));

  it('fires on three pH samples out of range, keeps firing across a SIGKILL without repeating, resolves once, and tells MQTT', async () => {
    const p = makePark();
    cleanup.push(async () => rmSync(p.dir, { recursive: true, force: true }));
    const group = `rules-${randomBytes(4).toString('hex')}`;
    await startGroupsAtEnd(serviceGroups.rules(group));
    const hooks: AlertmanagerPayload[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => { hooks.push(JSON.parse(body) as AlertmanagerPayload); res.writeHead(200).end(); });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => receiver.close(r)));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alertmanager`;
    const env = { ...common(p), RULES_GROUP: group, MQTT_URL: mqttUrl, MQTT_USERNAME: 'rules', MQTT_PASSWORD: servicePassword('rules'), MQTT_CLIENT_ID: `rules:${group}`, TICK_INTERVAL_MS: '500', WEBHOOK_URLS: hookUrl };
    const watch = new AlertWatch(bus, p.id);
    await watch.start();
    cleanup.push(() => watch.stop());
    const consoleClient: MqttClient = await connect(mqttUrl, { username: 'console', password: servicePassword('console'), protocolVersion: 5, clientId: `console:${group}` });
    cleanup.push(() => consoleClient.endAsync());
    const onMqtt: AlertEvent[] = [];
    consoleClient.on('message', (_t, payload) => { const e = alertEventSchema.parse(JSON.parse(payload.toString())); if (e.park === p.id) onMqtt.push(e); });
    await consoleClient.subscribeAsync(`eip/${p.id}/alerts/#`, { qos: 1 });

    const rules = await start('rules', env);
    const t0 = Date.now() - 30 * minute;
    const ph = (seq: number, value: number) => batch(p, p.ww, seq, t0 + seq * 2 * minute, 'ph', 'pH', value);
    await publish([ph(0, 7.2), ph(1, 7.0), ph(2, 4.1), ph(3, 4.0)]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(watch.of('ww-ph-range').length, 0, 'two samples out of range are not yet an alert');
    await publish([ph(4, 3.9)]);
    await waitFor(() => watch.of('ww-ph-range').some((e) => e.state === 'firing'), 60_000, 'pH alert firing', 100);
    const firing = watch.of('ww-ph-range').find((e) => e.state === 'firing')!;
    assert.equal(firing.severity, 'critical');
    assert.equal(firing.meter, p.ww);
    assert.deepEqual(firing.provenance.values.slice(-3), [4.1, 4.0, 3.9]);
    // Notifications follow the record on Kafka and are best effort: a kill between the two may lose one, so see it before killing.
    await waitFor(() => onMqtt.some((e) => e.fingerprint === firing.fingerprint && e.state === 'firing'), 10_000, 'firing on MQTT', 100);
    await waitFor(() => hooks.some((h) => h.alerts[0]!.fingerprint === firing.fingerprint && h.status === 'firing'), 10_000, 'firing webhook', 100);

    await rules.stop('SIGKILL');
    await publish([ph(5, 3.8), ph(6, 3.7)]);
    await start('rules', env);
    await publish([ph(7, 3.9), ph(8, 7.1), ph(9, 7.0)]);
    await waitFor(() => watch.of('ww-ph-range').some((e) => e.state === 'resolved'), 60_000, 'pH alert resolved', 100);
    await new Promise((r) => setTimeout(r, 1500));
    const seq = watch.of('ww-ph-range').filter((e) => e.fingerprint === firing.fingerprint);
    const states = seq.map((e) => e.state);
    assert.equal(states.filter((s) => s === 'firing').length, 1, `fired once across the restart: ${states.join(' > ')}`);
    assert.equal(states.filter((s) => s === 'resolved').length, 1, `resolved once: ${states.join(' > ')}`);
    assert.deepEqual(seq.map((e) => e.transition), [...new Set(seq.map((e) => e.transition))].sort((a, b) => a - b), 'transition numbers unique and in order');
    await waitFor(() => onMqtt.some((e) => e.fingerprint === firing.fingerprint && e.state === 'resolved'), 10_000, 'resolved on MQTT', 100);
    // Alertmanager webhook format, for tooling that takes it.
    await waitFor(() => hooks.some((h) => h.alerts[0]!.fingerprint === firing.fingerprint && h.status === 'resolved'), 10_000, 'resolved webhook', 100);
    const mine = (h: AlertmanagerPayload): boolean => h.alerts[0]!.fingerprint === firing.fingerprint;
    const hook = hooks.find((h) => mine(h) && h.status === 'firing')!;
    assert.equal(hook.version, '4');
    assert.equal(hook.alerts[0]!.fingerprint, firing.fingerprint);
    assert.deepEqual([hook.alerts[0]!.labels.alertname, hook.alerts[0]!.labels.severity, hook.alerts[0]!.labels.meter], ['ww-ph-range', 'critical', p.ww]);
    assert.equal(hook.alerts[0]!.endsAt, '0001-01-01T00:00:00Z');
    const resolvedHook = hooks.find((h) => mine(h) && h.status === 'resolved')!;
    assert.notEqual(resolvedHook.alerts[0]!.endsAt, '0001-01-01T00:00:00Z');
    // And the history in InfluxDB.
    const store = createInfluxStore({ ...influx, logger });
    try {
      await waitFor(async () => (await store.queryAlertEvents({ scope: { park: p.id }, from: 0, to: Date.now() + 60_000 })).some((e) => e.state === 'resolved'), 30_000, 'alert history', 200);
      const history = await store.queryAlertEvents({ scope: { park: p.id }, from: 0, to: Date.now() + 60_000 });
      assert.ok(history.some((e) => e.fingerprint === firing.fingerprint && e.state === 'firing' && e.ruleId === 'ww-ph-range'));
    } finally {
      await store.close();
    }

    // An operator's acknowledge goes through the commands topic; rules is the only writer of state.
    await publish([ph(10, 2.0), ph(11, 2.0), ph(12, 2.0)]);
    await waitFor(() => watch.of('ww-ph-range').filter((e) => e.state === 'firing').length === 2, 60_000, 'a second incident', 100);
    await bus.publish([{ topic: topics.alertCommands.name, key: firing.fingerprint, value: JSON.stringify({ v: 1, kind: 'acknowledge', commandId: `c-${group}`, fingerprint: firing.fingerprint, by: 'operator@park', at: Date.now() }) }]);
    await waitFor(() => watch.of('ww-ph-range').some((e) => e.state === 'acknowledged'), 60_000, 'acknowledged', 100);
    assert.equal(watch.of('ww-ph-range').find((e) => e.state === 'acknowledged')!.by, 'operator@park');
  });

  it('raises a demand alert when a late reading within the allowance revises a 15-minute window', async () => {
    const p = makePark();
    cleanup.push(async () => rmSync(p.dir, { recursive: true, force: true }));
    const group = `rl-${randomBytes(4).toString('hex')}`;
    await startGroupsAtEnd([...serviceGroups.aggregator(`agg-${group}`), ...serviceGroups.rules(group)]);
    await start('aggregator', { ...common(p), AGGREGATOR_GROUP: `agg-${group}`, ALLOWED_LATENESS_MS: String(30 * minute), OUT_OF_ORDERNESS_MS: '0', IDLE_PARTITION_MS: '1500' });
    await start('rules', { ...common(p), RULES_GROUP: group, ALERTS_MQTT: 'false', TICK_INTERVAL_MS: '500' });
    const watch = new AlertWatch(bus, p.id);
    await watch.start();
    cleanup.push(() => watch.stop());
    // Newest event times on the shared topic, so no other run's data makes these late.
    const base = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3 * 3_600_000;
    const kw = (seq: number, at: number, value: number) => batch(p, p.elec, seq, at, 'active_power', 'kW', value);
    // 85 kW every minute: the 15-minute mean stays below 90 % of the contracted 100 kW, minus one missing minute.
    await publish(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 7).map((i) => kw(i, base + i * minute, 85)));
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(watch.of('elec-demand-near-contract').length, 0, 'no alert at a mean of 85 kW');
    // The missing minute arrives late, within the allowance, at 400 kW: the window's mean becomes 106 kW.
    await publish([kw(7, base + 7 * minute, 400), kw(20, base + 20 * minute, 85)]);
    await waitFor(() => watch.of('elec-demand-near-contract').some((e) => e.state === 'firing'), 60_000, 'demand alert after the revision', 100);
    const e = watch.of('elec-demand-near-contract').find((x) => x.state === 'firing')!;
    assert.equal(e.severity, 'warning');
    assert.equal(e.provenance.window?.start, base);
    assert.ok(Math.abs(e.provenance.values.at(-1)! - 106) < 1e-6, `mean ${e.provenance.values.at(-1)}`);
  });
});
