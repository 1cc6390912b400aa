/**
 * End to end on the real servers: Kafka and InfluxDB from infra/, and a
 * Mosquitto of this run's own (infra/mosquitto/mosquitto.sh on a free port)
 * that knows the run's park: tenants may publish only under their own park.
 * ingest, aggregator, rules and console each as its own process, the simulator
 * CLI publishing with the tenants' own credentials. The same scenario and the
 * same expected alerts as the embedded run, checked through the console API.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { influx, kafkaBrokers, repoRoot, servicePassword } from '../helpers/servers.ts';
import { startPrivateMosquitto, type PrivateMosquitto } from '../helpers/private-mosquitto.ts';
import { startService, freePort, type ServiceProcess } from '../helpers/service-process.ts';
import { eventually } from '../helpers/bus.ts';
import { makeE2ePark, expectedAlerts } from './e2e-park.ts';
import { ConsoleClient, assertExactAlerts } from './console-client.ts';
import type { Series } from '../../services/console/api/schemas.ts';

describe('end to end, real Mosquitto, Kafka and InfluxDB', { timeout: 300_000 }, () => {
  const p = makeE2ePark();
  const run = `e2e-${randomBytes(4).toString('hex')}`;
  const services: ServiceProcess[] = [];
  let stopSimulator: (() => Promise<void>) | undefined;
  let mosquitto: PrivateMosquitto | undefined;
  let mqttUrl = '';
  before(async () => {
    mosquitto = await startPrivateMosquitto({ registryPath: p.registryPath });
    mqttUrl = mosquitto.url;
  });
  after(async () => {
    await stopSimulator?.();
    for (const s of services.reverse()) await s.stop('SIGTERM');
    await mosquitto?.remove();
    rmSync(p.dir, { recursive: true, force: true });
  });

  const common = {
    BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','),
    INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org, INFLUX_BUCKET: influx.bucket, INFLUX_AGGREGATES_BUCKET: `${influx.bucket}_downsampled`,
    PARK_REGISTRY: p.registryPath, DATA_DIR: p.dir, LOG_LEVEL: 'warn',
  };

  it('raises and resolves exactly the scenario\'s alerts, seen through the console API', async () => {
    const consolePort = freePort();
    services.push(await startService('console', { ...common, CONSOLE_PORT: String(consolePort), CONSOLE_UI: 'false' }, freePort()));
    services.push(await startService('rules', { ...common, RULES_GROUP: `${run}-rules`, MQTT_URL: mqttUrl, MQTT_PASSWORD: servicePassword('rules'), MQTT_CLIENT_ID: `rules:${run}`, TICK_INTERVAL_MS: '1000' }, freePort()));
    services.push(await startService('aggregator', { ...common, AGGREGATOR_GROUP: `${run}-aggregator` }, freePort()));
    services.push(await startService('ingest', {
      ...common, MQTT_URL: mqttUrl, MQTT_USERNAME: 'ingest', MQTT_PASSWORD: servicePassword('ingest'), MQTT_PROTOCOL_VERSION: '5',
      MQTT_CLIENT_ID: `ingest:${run}`,
    }, freePort()));

    const sim = spawn(process.execPath, ['simulators/park-sim.ts', '--url', mqttUrl, '--protocol', '5', '--mode', 'realtime', '--registry', p.registryPath,
      '--scenario', p.scenarioPath, '--seed', '7', '--progress', '0'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let simErr = '';
    sim.stderr.on('data', (d: Buffer) => { simErr = (simErr + d.toString()).slice(-5_000); });
    const simExited = new Promise<void>((resolve) => sim.on('exit', () => resolve()));
    stopSimulator = async () => {
      if (sim.exitCode === null && sim.signalCode === null) sim.kill('SIGTERM');
      await simExited;
    };

    const client = new ConsoleClient(`http://127.0.0.1:${consolePort}/`);
    const details = await assertExactAlerts(client, p.park, expectedAlerts, 180_000, 10_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nsimulator stderr:\n${simErr}`);
    });
    assert.equal(details[0]!.severity, 'critical');
    assert.ok(details[0]!.history[0]!.provenance.values.every((v) => v < 6));

    // The readings behind it reached InfluxDB and come back through the console.
    const series = await eventually(async () => {
      const s = await client.get<Series>(`/api/parks/${p.park}/series?meter=wwtp-sparing-outlet&metric=ph&from=${Date.now() - 600_000}&to=${Date.now() + 1}`);
      return s.points.some(([, v]) => v === 4.6) ? s : undefined;
    }, 30_000, 'pH series with the breach', 500);
    assert.deepEqual(series.limits, { min: 6, max: 9 });
  });
});
