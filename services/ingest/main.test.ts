/** The composition root refuses a bad environment before any I/O, naming the variable. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;
const run = (env: Record<string, string>, args: string[] = []) =>
  spawnSync(process.execPath, ['services/ingest/main.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000 });

it('exits 2 with a message naming each bad variable and what it allows', () => {
  const res = run({ BATCH_MAX_MESSAGES: 'lots', BUS: 'carrier-pigeon', MQTT_URL: 'ftp://broker' });
  assert.equal(res.status, 2, res.stderr);
  assert.match(res.stderr, /invalid configuration for ingest/);
  assert.match(res.stderr, /BATCH_MAX_MESSAGES: must be a whole number between 1 and 100000 \(got "lots"/);
  assert.match(res.stderr, /BUS: must be one of: kafka, sqlite/);
  assert.match(res.stderr, /MQTT_URL: must be a URL with scheme mqtt or mqtts or ws or wss/);
  assert.equal(res.stdout, '', 'nothing started');
});

it('--help lists every variable with its default', () => {
  const res = run({}, ['--help']);
  assert.equal(res.status, 0);
  for (const v of ['MQTT_URL', 'MQTT_CLIENT_ID', 'BUS', 'TIMESERIES', 'KAFKA_BROKERS', 'INFLUX_URL', 'MAX_PENDING_MESSAGES', 'SPOOL_DIR']) assert.match(res.stdout, new RegExp(`^  ${v} `, 'm'), v);
  assert.doesNotMatch(res.stdout, /ingest-dev-secret/, 'secret defaults are not printed');
});
