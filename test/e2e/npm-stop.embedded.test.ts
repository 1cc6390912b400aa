/**
 * `npm start` stopped as a user stops it: SIGTERM to the npm process (npm, then
 * `sh -c`, then node, then the simulator). Every process of the tree must be
 * gone within a bounded time, the exit clean, and the ports free for the next
 * `npm start`. /bin/sh is dash on Debian and forwards no signal to its child, so
 * this holds only because the scripts `exec` node (package.json).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/servers.ts';
import { waitFor } from '../helpers/bus.ts';
import { freePort } from '../helpers/service-process.ts';

interface Proc { pid: number; ppid: number; state: string; cmd: string }

/** Every process on the machine, from /proc (no ps needed). */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name sits in parentheses and may hold spaces: parse after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(name), ppid: Number(rest[1]), state: rest[0]!, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function descendants(root: number): Proc[] {
  const all = processes();
  const found: Proc[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const p of all) if (p.ppid === parent) { found.push(p); frontier.push(p.pid); }
  }
  return found;
}

/** Alive and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('npm start stopped with SIGTERM', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'eip-npm-stop-'));
  let tree: Proc[] = [];
  after(() => {
    // A failed run must not leave its processes behind: each by its own pid.
    for (const p of tree) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops every process of the tree, cleanly, and frees the ports', async (t) => {
    const ports = { CONSOLE_PORT: freePort(), EMBEDDED_BROKER_PORT: freePort(), INGEST_OPS_PORT: freePort(), AGGREGATOR_OPS_PORT: freePort(), RULES_OPS_PORT: freePort(), CONSOLE_OPS_PORT: freePort(), REPORTING_OPS_PORT: freePort(), RECEIVER_PORT: freePort() };
    // As a user runs it: the npm on the PATH, the simulator on (it is a process of the tree too).
    const npm = spawn('npm', ['start'], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'info', DATA_DIR: dir, SIMULATOR_BACKFILL_MINUTES: '2', ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-200_000); };
    npm.stdout.on('data', keep);
    npm.stderr.on('data', keep);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.on('exit', (code, signal) => resolve({ code, signal })));
    let gone = false;
    void exited.then(() => { gone = true; });
    await waitFor(async () => {
      if (gone) throw new Error(`npm start exited before it was ready:\n${out.slice(-5_000)}`);
      const up = await Promise.all([ports.CONSOLE_OPS_PORT, ports.INGEST_OPS_PORT, ports.AGGREGATOR_OPS_PORT, ports.RULES_OPS_PORT].map((p) => fetch(`http://127.0.0.1:${p}/readyz`).then((r) => r.ok, () => false)));
      return up.every(Boolean);
    }, 120_000, 'npm start ready', 250);
    await waitFor(() => descendants(npm.pid!).some((p) => p.cmd.includes('simulators/park-sim.ts')), 30_000, 'the simulator running', 100);
    tree = descendants(npm.pid!);
    assert.ok(tree.some((p) => p.cmd.includes('services/all-in-one/main.ts')), `the pipeline runs under npm: ${JSON.stringify(tree.map((p) => p.cmd))}`);

    const signalledAt = Date.now();
    npm.kill('SIGTERM');
    const { code, signal } = await exited;
    await waitFor(() => tree.every((p) => !alive(p.pid)), 30_000, `every process of the tree gone (left: ${JSON.stringify(tree.filter((p) => alive(p.pid)).map((p) => p.cmd))})`, 100);
    t.diagnostic(`${tree.length} processes under npm, all gone ${Date.now() - signalledAt} ms after the SIGTERM`);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `a clean exit:\n${out.slice(-3_000)}`);
    assert.match(out, /"msg":"stopped"/, 'the graceful shutdown ran to its end');
    assert.doesNotMatch(out, /"level":"(error|fatal)"/, 'nothing failed on the way down');
    for (const [name, port] of Object.entries(ports)) assert.ok(await portFree(port), `${name} ${port} is free for the next npm start`);
  });
});
