/** `npm start` as a child process on free ports, for the end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from '../helpers/servers.ts';
import { waitFor } from '../helpers/bus.ts';
import { freePort } from '../helpers/service-process.ts';

export interface AllInOneProcess {
  child: ChildProcess;
  consoleUrl: string;
  mqttUrl: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `preload`: modules loaded with --import before main.ts (test fault injection). */
export async function startAllInOne(env: Record<string, string>, ports: { console?: number; broker?: number } = {}, options: { preload?: string[] } = {}): Promise<AllInOneProcess> {
  const consolePort = ports.console ?? freePort();
  const brokerPort = ports.broker ?? freePort();
  const consoleOps = freePort();
  const child = spawn(process.execPath, [...(options.preload ?? []).flatMap((m) => ['--import', m]), 'services/all-in-one/main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      EMBEDDED_BROKER_PORT: String(brokerPort), CONSOLE_PORT: String(consolePort), CONSOLE_OPS_PORT: String(consoleOps),
      INGEST_OPS_PORT: String(freePort()), AGGREGATOR_OPS_PORT: String(freePort()), RULES_OPS_PORT: String(freePort()),
      REPORTING_OPS_PORT: String(freePort()), RECEIVER_PORT: String(freePort()),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-200_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let gone = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { gone = true; resolve(code); }));
  await waitFor(async () => {
    if (gone) throw new Error(`npm start exited before it was ready:\n${out.slice(-5_000)}`);
    try {
      return (await fetch(`http://127.0.0.1:${consoleOps}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }, 60_000, 'npm start ready', 200);
  return {
    child, consoleUrl: `http://127.0.0.1:${consolePort}/`, mqttUrl: `mqtt://127.0.0.1:${brokerPort}`,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (!gone) child.kill(signal);
      return exited;
    },
  };
}
