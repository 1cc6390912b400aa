import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

// In a child process: the listeners of this test runner's own process stay as they are.
const script = `
import { logProcessWarnings } from './shared/runtime/process-warnings.ts';
const lines = [];
const logger = { debug: (f, m) => lines.push(['debug', f, m]), warn: (f, m) => lines.push(['warn', f, m]) };
logProcessWarnings(logger);
setTimeout(() => {}, -5);
process.emitWarning('something odd', { type: 'OddWarning', code: 'EIP_ODD' });
setTimeout(() => process.stdout.write(JSON.stringify(lines)), 20);
`;

it('routes process warnings through the logger, the known kafkajs negative timeout at debug, and keeps them off stderr', () => {
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../../', import.meta.url).pathname, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stderr, '', 'nothing printed outside the log');
  const lines = JSON.parse(res.stdout) as Array<[string, { warning: string; code?: string }, string]>;
  assert.deepEqual(lines.map(([level, f]) => [level, f.warning, f.code ?? null]), [['debug', 'TimeoutNegativeWarning', null], ['warn', 'OddWarning', 'EIP_ODD']]);
  assert.match(lines[1]![2], /something odd/);
});
