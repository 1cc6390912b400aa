/**
 * Telegraf, the benchmark's peer: built once from its Go module into the
 * project's cache folder (outside the repository; the binary is never
 * committed), and configured to do ingest's work on the same traffic:
 * subscribe as the ingest user, parse the reading envelope v1
 * (shared/contracts/payloads.ts), write InfluxDB and Kafka (acks from all
 * in-sync replicas, idempotent).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const telegrafVersion = '1.37.2';
const plugins = 'custom,inputs.mqtt_consumer,outputs.influxdb_v2,outputs.kafka,parsers.json_v2,serializers.json';

/** The cache folder of infra/lib.sh. */
const cacheDir = (): string => process.env.EIP_CACHE_DIR ?? join(homedir(), '.cache', 'eip-telemetry');

/** Path of the Telegraf binary, built with `go install` the first time (GOBIN and GOPATH under the cache folder). */
export function telegrafBinary(log: (msg: string) => void): string {
  const root = join(cacheDir(), `telegraf-${telegrafVersion}`);
  const bin = join(root, 'bin', 'telegraf');
  if (existsSync(bin)) return bin;
  mkdirSync(join(root, 'bin'), { recursive: true });
  log(`building Telegraf ${telegrafVersion} from its Go module into ${root} (once)`);
  const r = spawnSync('go', ['install', '-tags', plugins, `github.com/influxdata/telegraf/cmd/telegraf@v${telegrafVersion}`], {
    cwd: root, env: { ...process.env, GOBIN: join(root, 'bin'), GOPATH: join(root, 'gopath'), GOFLAGS: '-modcacherw' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0 || !existsSync(bin)) throw new Error(`go install of Telegraf ${telegrafVersion} failed (${r.status ?? r.signal}):\n${(r.stderr ?? '').slice(-4_000)}`);
  return bin;
}

export interface TelegrafTarget {
  mqttUrl: string; topicFilter: string; clientId: string; username: string; password: string;
  influxUrl: string; token: string; org: string; bucket: string; measurement: string;
  kafkaBrokers: string; kafkaTopic: string; maxUndelivered: number;
}

const q = (s: string): string => JSON.stringify(s);

/**
 * TOML for the run. Each reading of a message becomes one metric (tags metric
 * and unit, field value, the envelope's ts in ms, the topic as a tag so each
 * meter is its own series), written to InfluxDB as one point and to Kafka as one record.
 */
export function telegrafConfig(t: TelegrafTarget): string {
  return `[agent]
  interval = "10s"
  flush_interval = "1s"
  flush_jitter = "0s"
  metric_batch_size = 5000
  metric_buffer_limit = 200000
  omit_hostname = true

[[inputs.mqtt_consumer]]
  servers = [${q(t.mqttUrl.replace(/^mqtt:/, 'tcp:'))}]
  topics = [${q(t.topicFilter)}]
  qos = 1
  client_id = ${q(t.clientId)}
  username = ${q(t.username)}
  password = ${q(t.password)}
  max_undelivered_messages = ${t.maxUndelivered}
  topic_tag = "topic"
  data_format = "json_v2"
  [[inputs.mqtt_consumer.json_v2]]
    measurement_name = ${q(t.measurement)}
    timestamp_path = "ts"
    timestamp_format = "unix_ms"
    [[inputs.mqtt_consumer.json_v2.object]]
      path = "readings"
      tags = ["metric", "unit"]

[[outputs.influxdb_v2]]
  urls = [${q(t.influxUrl)}]
  token = ${q(t.token)}
  organization = ${q(t.org)}
  bucket = ${q(t.bucket)}

[[outputs.kafka]]
  brokers = [${q(t.kafkaBrokers)}]
  topic = ${q(t.kafkaTopic)}
  required_acks = -1
  idempotent_writes = true
  max_retry = 10
  data_format = "json"
`;
}
