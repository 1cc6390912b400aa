/** A bad rule pack stops the service before any I/O, naming the rule, field and line. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

it('exits 2 with the rule, field and line of a bad rule pack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pack-'));
  const pack = join(dir, 'pack.yaml');
  writeFileSync(pack, ['version: 1', 'name: bad', 'rules:', '  - id: ww-cod-mean', '    version: 1', '    description: x', '    source: y', '    kind: rolling',
    '    selector: { metric: cod }', '    input: aggregate', '    window: 2h', '    limit: 100', '    levels: { critical: {} }', '    params: { over: 1h }', ''].join('\n'));
  try {
    const res = spawnSync(process.execPath, ['services/rules/main.ts'], { cwd: root, env: { PATH: process.env.PATH ?? '', RULE_PACK: pack, OPS_PORT: '0', ALERTS_MQTT: 'false', LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 2, res.stderr);
    assert.match(res.stderr, /rule "ww-cod-mean" \(line 11\): window: must be one of 1m, 15m, 1h, 1d/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('exits 2 naming a bad variable', () => {
  const res = spawnSync(process.execPath, ['services/rules/main.ts'], { cwd: root, env: { PATH: process.env.PATH ?? '', TICK_INTERVAL_MS: 'soon' }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /TICK_INTERVAL_MS: must be a whole number/);
});
