/**
 * npm runs a script as `sh -c '<script>'`, and /bin/sh (dash on Debian) does not
 * pass a SIGTERM on to its child: a stopped `npm start` would leave node running
 * and holding its ports. A script that is one command therefore execs it, so
 * npm's signal reaches the program itself (test/e2e/npm-stop.embedded.test.ts
 * shows it for `npm start`).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url).pathname;

it('every single-command npm script execs its program', () => {
  const { scripts } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  const single = Object.entries(scripts).filter(([, cmd]) => !/[;|&]/.test(cmd));
  assert.ok(single.some(([name]) => name === 'start'), 'npm start is one of them');
  const missing = single.filter(([, cmd]) => !cmd.startsWith('exec ')).map(([name, cmd]) => `${name}: ${cmd}`);
  assert.deepEqual(missing, [], 'these scripts leave a shell between npm and the program');
});
