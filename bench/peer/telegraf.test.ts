import { test } from 'node:test';
import assert from 'node:assert/strict';
import { telegrafConfig } from './telegraf.ts';

const target = {
  mqttUrl: 'mqtt://127.0.0.1:22283', topicFilter: 'eip/p/+/+/telemetry', clientId: 'ingest:telegraf-x-1', username: 'ingest', password: 'pa"ss',
  influxUrl: 'http://127.0.0.1:22286', token: 't', org: 'eip', bucket: 'telemetry', measurement: 'telegraf_reading',
  kafkaBrokers: '127.0.0.1:22284', kafkaTopic: 'bench.telegraf.readings', maxUndelivered: 5000,
};

test('Telegraf does the work ingest does: QoS 1 as the ingest user, Kafka acks from all replicas, idempotent', () => {
  const conf = telegrafConfig(target);
  assert.match(conf, /servers = \["tcp:\/\/127\.0\.0\.1:22283"\]/);
  assert.match(conf, /qos = 1\n/);
  assert.match(conf, /client_id = "ingest:telegraf-x-1"/);
  assert.match(conf, /username = "ingest"/);
  assert.match(conf, /required_acks = -1\n/);
  assert.match(conf, /idempotent_writes = true\n/);
  assert.match(conf, /\[\[outputs\.influxdb_v2\]\]\n\s*urls = \["http:\/\/127\.0\.0\.1:22286"\][^[]*bucket = "telemetry"/);
});

test('the envelope v1 is parsed one metric per reading with its ts in ms; strings are quoted for TOML', () => {
  const conf = telegrafConfig(target);
  assert.match(conf, /data_format = "json_v2"/);
  assert.match(conf, /timestamp_path = "ts"\n\s*timestamp_format = "unix_ms"/);
  assert.match(conf, /path = "readings"\n\s*tags = \["metric", "unit"\]/);
  assert.match(conf, /password = "pa\\"ss"/);
});
