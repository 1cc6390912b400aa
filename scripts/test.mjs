#!/usr/bin/env node
// The one test command: starts the real servers the tests need (through infra/)
// when they are not running yet, type-checks, lints, runs every test with node's
// test runner, and stops what it started.
//
//   npm test                      everything (unit, contract, integration, e2e, browser)
//   npm test -- --only unit       no servers, no browser: unit tests and embedded adapters only
//   npm test -- --keep-servers    leave the servers it started running
//   npm test -- --no-lint         skip typecheck and lint (quicker local loops)
//   npm test -- FILE...           only these test files (servers still ensured)
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(readHelp());
  process.exit(0);
}
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const keep = args.includes('--keep-servers') || process.env.EIP_KEEP_SERVERS === '1';
const lint = !args.includes('--no-lint');
const explicit = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--only');

function readHelp() {
  // The header comment above is the help text.
  const header = readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('//')));
  return header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n';
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

// Tests under these folders need the real servers; everything else runs without.
const serverDirs = ['test/contract/', 'test/integration/', 'test/e2e/', 'test/infra/'];
const embeddedOk = (f) => /\.(sqlite|embedded|memory)\.test\.ts$/.test(f);
// Tests under these folders drive Debian's Chromium (infra/chromium/install.sh provides it).
const browserDirs = ['test/browser/'];
const inBrowserDir = (f) => browserDirs.some((d) => f.startsWith(d));
let files = explicit.length ? explicit : ['shared', 'services', 'simulators', 'test', 'infra', 'bench', 'scripts'].flatMap((d) => { try { return findTests(join(root, d)); } catch { return []; } });
if (only === 'unit') files = files.filter((f) => (!serverDirs.some((d) => f.startsWith(d)) || embeddedOk(f)) && !inBrowserDir(f));
files.sort();
const needsServers = files.some((f) => serverDirs.some((d) => f.startsWith(d)) && !embeddedOk(f));
const needsBrowser = files.some(inBrowserDir);

function run(cmd, cmdArgs, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...options });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const servers = ['mosquitto', 'kafka', 'influxdb'];
const started = [];
const t0 = Date.now();
const stamp = () => `[test +${((Date.now() - t0) / 1000).toFixed(0)}s]`;

async function ensureServers() {
  const stopped = servers.filter((s) => spawnSync('bash', ['infra/stack.sh', 'status', s], { cwd: root, stdio: 'ignore' }).status !== 0);
  if (stopped.length === 0) {
    console.log(`${stamp()} servers already running: ${servers.join(', ')}`);
    return true;
  }
  console.log(`${stamp()} starting ${stopped.join(', ')} through infra/ (first run on a machine installs and builds them)`);
  // Started side by side: the InfluxDB build dominates a first run.
  const codes = await Promise.all(stopped.map((s) => run('bash', ['infra/stack.sh', 'up', s])));
  stopped.forEach((s, i) => { if (codes[i] === 0) started.push(s); });
  const failed = stopped.filter((_, i) => codes[i] !== 0);
  if (failed.length) console.error(`${stamp()} could not start: ${failed.join(', ')} (logs under the run folder; see infra/README.md)`);
  return failed.length === 0;
}

async function stopStarted() {
  if (keep || started.length === 0) return;
  console.log(`${stamp()} stopping what this run started: ${started.join(', ')}`);
  await run('bash', ['infra/stack.sh', 'down', ...started]);
}

let code = 0;
try {
  if (lint) {
    console.log(`${stamp()} type check`);
    code ||= await run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
    // The console's web UI has its own project (DOM types, JSX).
    code ||= await run('npx', ['tsc', '-p', 'services/console/ui/tsconfig.json', '--noEmit']);
    console.log(`${stamp()} lint`);
    code ||= await run('npx', ['eslint', '.']);
  }
  if (code === 0 && needsServers && !(await ensureServers())) code = 1;
  if (code === 0 && needsBrowser) {
    console.log(`${stamp()} browser tests: ensuring Chromium (infra/chromium/install.sh)`);
    code = await run('bash', ['infra/chromium/install.sh']);
  }
  if (code === 0) {
    console.log(`${stamp()} ${files.length} test files`);
    code = await run(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files], { env: { ...process.env, EIP_TEST: '1' } });
  }
} finally {
  await stopStarted();
}
console.log(`${stamp()} done, exit ${code}`);
process.exit(code);
