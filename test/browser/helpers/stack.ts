/**
 * The whole pipeline for a browser test, as `npm start` runs it, in child
 * process: the embedded broker, SQLite bus and store, ingest, aggregator,
 * rules, and the console serving the web UI, in a temp data folder, with no
 * simulator, so the test's own readings are the only traffic.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { osFreePort } from '../../helpers/service-process.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../../services/console/auth/secrets.ts';
import { waitFor } from '../../helpers/bus.ts';
import { repoRoot } from '../../helpers/servers.ts';

export interface TestUser {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
}

export interface Stack {
  consoleUrl: string;
  mqttUrl: string;
  password(user: string): string;
  /** The last lines the processes printed, for a failure message. */
  output(): string;
  /** Stops the pipeline and removes its data. */
  stop(): Promise<void>;
  /** Stops the pipeline (SIGTERM, or SIGKILL for a crash), keeping its data and ports... */
  halt(signal?: NodeJS.Signals): Promise<void>;
  /** ...and starts it again on them. */
  resume(): Promise<void>;
}

export const userPassword = (user: string): string => `${user}-browser-test`;


interface Child {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  gone(): boolean;
}

function startChild(name: string, script: string, env: Record<string, string>, log: (line: string) => void): Child {
  const child = spawn(process.execPath, [script], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let gone = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { gone = true; resolve(code); }));
  const keep = (d: Buffer): void => { for (const line of d.toString().split('\n')) if (line.trim()) log(`[${name}] ${line}`); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { name, child, exited, gone: () => gone };
}

async function stopChild(c: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c.gone()) return;
  c.child.kill(signal);
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 15_000);
  await c.exited;
  clearTimeout(timer);
}

export async function startStack(users: TestUser[]): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'eip-browser-'));
  const usersFile = join(dir, 'console-users.json');
  writeFileSync(usersFile, JSON.stringify({
    version: 1,
    users: await Promise.all(users.map(async (u) => ({ ...u, parks: ['*'], passwordHash: await hashPassword(userPassword(u.name)) }))),
    tokens: [],
  }));
  // Every port chosen here: a 0 left to npm start would take an ephemeral port that may be one of these.
  const [broker, ingestOps, aggregatorOps, rulesOps, consolePort, consoleOps, reportingOps, receiver] = await Promise.all(Array.from({ length: 8 }, osFreePort));
  let lines: string[] = [];
  const log = (line: string): void => { lines = [...lines.slice(-200), line]; };
  const env = {
    DATA_DIR: dir, SIMULATOR: 'false', EMBEDDED_BROKER_PORT: String(broker),
    INGEST_OPS_PORT: String(ingestOps), AGGREGATOR_OPS_PORT: String(aggregatorOps), RULES_OPS_PORT: String(rulesOps),
    REPORTING_OPS_PORT: String(reportingOps), RECEIVER_PORT: String(receiver),
    CONSOLE_PORT: String(consolePort), CONSOLE_OPS_PORT: String(consoleOps), CONSOLE_USERS: usersFile,
    // A fixed key: sign-ins survive a restart, as they do behind a load balancer.
    CONSOLE_SESSION_SECRET: 'browser-test-session-key-0123456789',
  };
  let current: Child | undefined;
  const launch = async (): Promise<void> => {
    const c = startChild('npm start', 'services/all-in-one/main.ts', env, log);
    current = c;
    await waitFor(async () => {
      if (c.gone()) throw new Error(`npm start exited while starting:\n${lines.join('\n')}`);
      const up = await Promise.all([ingestOps, rulesOps, consoleOps].map((port) => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)));
      return up.every(Boolean);
    }, 90_000, 'pipeline and console ready', 200);
  };
  const stop = async (): Promise<void> => {
    if (current) await stopChild(current);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await launch();
    return {
      consoleUrl: `http://127.0.0.1:${consolePort}`,
      mqttUrl: `mqtt://127.0.0.1:${broker}`,
      password: userPassword,
      output: () => lines.join('\n'),
      stop,
      halt: async (signal) => { if (current) await stopChild(current, signal); },
      resume: launch,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
