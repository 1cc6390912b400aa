/** Runs a service's main.ts as a child process, as production does, so tests can SIGKILL it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { repoRoot } from './servers.ts';
import { waitFor } from './bus.ts';

export interface ServiceProcess {
  child: ChildProcess;
  opsUrl: string;
  output(): string;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startService(name: string, env: Record<string, string>, opsPort: number, readyTimeoutMs = 60_000, nodeArgs: readonly string[] = []): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...nodeArgs, `services/${name}/main.ts`], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...env, OPS_PORT: String(opsPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-20_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => { gone = true; });
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  await waitFor(async () => {
    if (gone) throw new Error(`${name} exited before it was ready:\n${out}`);
    try {
      return (await fetch(`${opsUrl}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }, readyTimeoutMs, `${name} ready`, 100);
  return {
    child, opsUrl,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (!gone) child.kill(signal);
      return exited;
    },
  };
}

let nextPort = 19_400 + (process.pid % 500) * 2;
export const freePort = (): number => nextPort++;

/** A port the OS says is free right now (listen on 0, read it, close). */
export function osFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Reads one counter or gauge (summed over labels) from a Prometheus text page. */
export async function metricValue(opsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name} `) || line.startsWith(`${name}{`))) continue;
    if (wanted.every((w) => line.includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
