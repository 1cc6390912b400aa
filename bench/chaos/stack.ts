/**
 * Private Mosquitto, Kafka and InfluxDB for the chaos run, started by the
 * project's infra/ scripts on their own ports and run folder: the run stops,
 * kills and pauses them, which must never touch the servers a developer or the
 * test suite is using. Installs are shared through the cache folder.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, sleep } from '../lib.ts';

export type ServerName = 'mosquitto' | 'kafka' | 'influxdb';

/** Every server, in start order. */
export const serverNames: readonly ServerName[] = ['mosquitto', 'kafka', 'influxdb'];

export interface PrivateStack {
  mqttUrl: string;
  kafkaBrokers: string;
  influxUrl: string;
  up(server?: ServerName): Promise<void>;
  down(server?: ServerName): Promise<void>;
  /** The server's process id, from its pid file. */
  pid(server: ServerName): number;
  /** SIGKILL, as a crash would. */
  kill(server: ServerName): void;
  /** SIGSTOP for ms, then SIGCONT: the process holds its sockets and answers nothing. */
  pause(server: ServerName, ms: number): Promise<void>;
}

export function privateStack(runDir: string, registry: string, basePort: number): PrivateStack {
  const env = {
    ...process.env,
    EIP_RUN_DIR: runDir,
    EIP_PARK_REGISTRY: registry,
    EIP_MQTT_PORT: String(basePort),
    EIP_KAFKA_PORT: String(basePort + 1),
    EIP_KAFKA_CONTROLLER_PORT: String(basePort + 2),
    EIP_INFLUX_PORT: String(basePort + 3),
  };
  // Asynchronous: the publisher keeps publishing (or queueing) while a server restarts.
  const script = (server: ServerName, cmd: string): Promise<void> => new Promise((resolve, reject) => {
    const child = spawn('bash', [`infra/${server}/${server}.sh`, cmd], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`infra/${server}/${server}.sh ${cmd} failed (${code}): ${err}`))));
  });
  const pid = (server: ServerName): number => Number(readFileSync(join(runDir, server, `${server}.pid`), 'utf8').trim());
  return {
    mqttUrl: `mqtt://127.0.0.1:${basePort}`,
    kafkaBrokers: `127.0.0.1:${basePort + 1}`,
    influxUrl: `http://127.0.0.1:${basePort + 3}`,
    up: async (server) => { for (const s of server ? [server] : serverNames) await script(s, 'up'); },
    down: async (server) => { for (const s of server ? [server] : [...serverNames].reverse()) await script(s, 'down'); },
    pid,
    kill: (server) => { process.kill(pid(server), 'SIGKILL'); },
    pause: async (server, ms) => {
      const p = pid(server);
      process.kill(p, 'SIGSTOP');
      try {
        await sleep(ms);
      } finally {
        process.kill(p, 'SIGCONT');
      }
    },
  };
}
