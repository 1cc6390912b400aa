/**
 * A Mosquitto of a test's own, started with infra/mosquitto/mosquitto.sh on a
 * free port and a run folder of its own: for tests that stop, restart or
 * SIGKILL the broker, or need it to know their own registry or credentials
 * (the shared broker on 1883 knows the demo park's). Never touches the shared one.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './servers.ts';
import { osFreePort } from './service-process.ts';

const run = promisify(execFile);

export interface PrivateMosquitto {
  readonly url: string;
  readonly port: number;
  up(): Promise<void>;
  /** SIGTERM: Mosquitto writes its persistence file on the way down. */
  down(): Promise<void>;
  /** SIGKILL: nothing is written; what was saved last is what comes back. */
  kill(): Promise<void>;
  /** Stops it and removes its run folder. */
  remove(): Promise<void>;
  log(): string;
}

export interface PrivateMosquittoOptions {
  /** The park registry whose tenants get accounts (a test park's). */
  registryPath: string;
  /** A credential store (npm run mqtt:credentials); the development template by default. */
  credentialsPath?: string;
}

export async function startPrivateMosquitto(o: PrivateMosquittoOptions): Promise<PrivateMosquitto> {
  const port = await osFreePort();
  const runDir = mkdtempSync(join(tmpdir(), 'eip-mosquitto-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env, EIP_RUN_DIR: runDir, EIP_MQTT_PORT: String(port), EIP_PARK_REGISTRY: o.registryPath,
    ...(o.credentialsPath && { EIP_MQTT_CREDENTIALS: o.credentialsPath }),
  };
  // Asynchronous, so that the test's publishers keep publishing while the broker goes down and up.
  const script = async (cmd: string): Promise<void> => {
    await run('bash', ['infra/mosquitto/mosquitto.sh', cmd], { cwd: repoRoot, env }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`mosquitto.sh ${cmd} failed: ${err.stderr ?? err.message}`);
    });
  };
  const dir = join(runDir, 'mosquitto');
  const broker: PrivateMosquitto = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    up: () => script('up'),
    down: () => script('down'),
    kill: async () => {
      const pid = Number(readFileSync(join(dir, 'mosquitto.pid'), 'utf8'));
      if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid for the private Mosquitto in ${dir}`);
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100; i++) {
        try { process.kill(pid, 0); } catch { return; }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`Mosquitto ${pid} survived SIGKILL`);
    },
    remove: async () => {
      try { await script('down'); } finally { rmSync(runDir, { recursive: true, force: true }); }
    },
    log: () => { try { return readFileSync(join(dir, 'mosquitto.log'), 'utf8'); } catch { return ''; } },
  };
  await broker.up();
  return broker;
}
