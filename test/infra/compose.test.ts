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

it('every long-running service of the resolved stack has a health check', () => {
  const res = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const resolved = res.stdout;
  for (const name of ['mosquitto', 'kafka', 'influxdb', 'ingest', 'aggregator', 'rules', 'console']) {
    const block = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\n)*)`, 'm').exec(resolved)?.[1] ?? '';
    assert.match(block, /healthcheck:/, `${name} has a health check`);
  }
  assert.match(readFileSync(`${repoRoot}docker-compose.yml`, 'utf8'), /volumes:/);
});
