import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../shared/config/env.ts';
import { parseMaintenance, parseRanges, parseSchedule, readSecretsFile, reportingConfigSchema } from './config.ts';

it('reads the per-station schedule, maintenance periods and analyser ranges', () => {
  assert.deepEqual(parseSchedule('hourly,S-2=2min'), { fallback: 'hourly', byUid: new Map([['S-2', '2min']]) });
  assert.deepEqual(parseSchedule('2min'), { fallback: '2min', byUid: new Map() });
  for (const bad of ['daily', 'S-1=weekly', '=2min', 'a=b=c']) assert.throws(() => parseSchedule(bad), /is not hourly, 2min/, bad);
  assert.deepEqual(parseMaintenance('st-1=2026-11-27T10:00:00+08:00/2026-11-27T12:00:00+08:00'), [{ stack: 'st-1', start: Date.UTC(2026, 10, 27, 2), end: Date.UTC(2026, 10, 27, 4) }]);
  for (const bad of ['st-1=2026-11-27T10:00:00/2026-11-27T12:00:00', 'st-1=2026-11-27T12:00:00Z/2026-11-27T10:00:00Z', 'st-1', 'st-1=x/y']) assert.throws(() => parseMaintenance(bad), /is not stack=start\/end/, bad);
  assert.deepEqual(parseRanges('so2=1000, st-1.nox=500.5'), new Map([['so2', 1000], ['st-1.nox', 500.5]]));
  assert.throws(() => parseRanges('so2=-1'));
});

it('names a bad setting, and refuses the development secret in production, in the variable or a secrets file', () => {
  assert.throws(() => loadConfig(reportingConfigSchema, { SPARING_SCHEDULE: 'weekly' }, 'reporting'), /SPARING_SCHEDULE/);
  assert.throws(() => loadConfig(reportingConfigSchema, { NODE_ENV: 'production' }, 'reporting'), /SPARING_SECRET/);
  const dir = mkdtempSync(join(tmpdir(), 'eip-reporting-config-'));
  try {
    const file = join(dir, 'secrets.json');
    writeFileSync(file, JSON.stringify({ 'S-1': 'sparing-dev-secret' }));
    assert.throws(() => loadConfig(reportingConfigSchema, { NODE_ENV: 'production', SPARING_SECRET: 'own-secret-0123456789', SPARING_SECRETS_FILE: file }, 'reporting'), /SPARING_SECRETS_FILE/);
    writeFileSync(file, JSON.stringify({ 'S-1': 'own-station-secret-0123' }));
    const config = loadConfig(reportingConfigSchema, { NODE_ENV: 'production', SPARING_SECRET: 'own-secret-0123456789', SPARING_SECRETS_FILE: file }, 'reporting');
    assert.equal(readSecretsFile(config.SPARING_SECRETS_FILE).get('S-1'), 'own-station-secret-0123');
    writeFileSync(file, JSON.stringify({ 'S-1': 'short' }));
    assert.throws(() => loadConfig(reportingConfigSchema, { SPARING_SECRETS_FILE: file }, 'reporting', { warn: () => {} }), /at least 16 characters/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
