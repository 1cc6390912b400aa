/** docker-compose.yml is valid for Debian's docker-compose (no engine needed to check it). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoRoot } from '../helpers/servers.ts';

it('docker-compose config -q passes on docker-compose.yml', { timeout: 300_000 }, () => {
  const res = spawnSync('bash', ['infra/compose-check.sh'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
});

// The secrets docker-compose.yml requires from the environment, with values for a render.
const secrets: Record<string, string> = {
  INFLUX_TOKEN: 'tok-3c9f0a', INFLUX_PASSWORD: 'pw-71be2d', CONSOLE_SESSION_SECRET: 'sess-9a8b7c6d5e4f3a2b',
  INGEST_MQTT_PASSWORD: 'mq-ingest-5d1e', RULES_MQTT_PASSWORD: 'mq-rules-2f7a',
  CONSOLE_USERS_FILE: '/srv/eip/console-users.json', MQTT_CREDENTIALS_FILE: '/srv/eip/mqtt-credentials.json',
  SPARING_URL: 'https://sparing.example.test/api/send', SPARING_SECRET: 'sparing-7e21c0d94b', SISPEK_URL: 'https://sispek.example.test/api/hourly',
};
// Everything but the variables compose interpolates, so the machine's own environment cannot fill them in.
const render = (env: Record<string, string>, args: string[] = []) =>
  spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', ...args], { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env } });

it('refuses to render without each secret, naming it', () => {
  for (const name of Object.keys(secrets)) {
    const { [name]: _missing, ...rest } = secrets;
    const res = render(rest, ['-q']);
    assert.notEqual(res.status, 0, `${name} missing: rendered anyway`);
    assert.match(res.stderr, new RegExp(`set ${name} `), `${name} is named`);
  }
});

it('renders with the secrets, carrying them and none of the development ones', () => {
  const res = render(secrets);
  assert.equal(res.status, 0, res.stderr);
  for (const value of Object.values(secrets)) assert.ok(res.stdout.includes(value), value);
  assert.doesNotMatch(res.stdout, /dev-secret|eip-dev-token|eip-dev-password|change-me|dev-users\.json|dev-credentials\.json/);
});

it('publishes the servers only on the host\'s loopback unless asked, and the console', () => {
  const published = (out: string): string[] => [...out.matchAll(/^ {4}- (?:'|")?([0-9.]+:\d+:\d+)\/tcp/gm)].map((m) => m[1] ?? '');
  const byDefault = published(render(secrets).stdout);
  assert.ok(byDefault.includes('0.0.0.0:8080:8080'), byDefault.join(' '));
  for (const port of ['1883', '8086', '9092', '9464', '9465', '9466', '9467', '9468']) {
    for (const p of byDefault.filter((x) => x.endsWith(`:${port}`))) assert.ok(p.startsWith('127.0.0.1:'), p);
  }
  assert.ok(!byDefault.some((p) => p.endsWith(':9092')), 'Kafka stays on the stack network');
  const asked = published(render({ ...secrets, MQTT_PUBLISH_ADDRESS: '0.0.0.0', MQTT_PUBLISH_PORT: '18883' }).stdout);
  assert.ok(asked.includes('0.0.0.0:18883:1883'), asked.join(' '));
});

it('every long-running service of the resolved stack has a health check', () => {
  const res = render(secrets);
  assert.equal(res.status, 0, res.stderr);
  const resolved = res.stdout;
  for (const name of ['mosquitto', 'kafka', 'influxdb', 'ingest', 'aggregator', 'rules', 'reporting', 'console']) {
    const block = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\n)*)`, 'm').exec(resolved)?.[1] ?? '';
    assert.match(block, /healthcheck:/, `${name} has a health check`);
  }
  assert.match(readFileSync(`${repoRoot}docker-compose.yml`, 'utf8'), /volumes:/);
});
