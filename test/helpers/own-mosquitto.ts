/**
 * A Mosquitto of a test's own, started with the project's infra/mosquitto/mosquitto.sh
 * on a free port and a run folder of its own: for tests that need the broker to
 * know their registry or credentials (the shared broker on 1883 knows the demo
 * park's). Never touches the shared instance.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { osFreePort } from './service-process.ts';
import { repoRoot } from './servers.ts';

export interface OwnMosquitto {
  url: string;
  stop(this: void): Promise<void>;
}

export async function startOwnMosquitto(o: { dir: string; registryPath: string; credentialsPath?: string }): Promise<OwnMosquitto> {
  const port = await osFreePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env, EIP_RUN_DIR: join(o.dir, 'mosquitto-run'), EIP_MQTT_PORT: String(port), EIP_PARK_REGISTRY: o.registryPath,
    ...(o.credentialsPath && { EIP_MQTT_CREDENTIALS: o.credentialsPath }),
  };
  const up = spawnSync('bash', ['infra/mosquitto/mosquitto.sh', 'up'], { cwd: repoRoot, env, encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`infra/mosquitto/mosquitto.sh up failed:\n${up.stderr}`);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: () => {
      spawnSync('bash', ['infra/mosquitto/mosquitto.sh', 'down'], { cwd: repoRoot, env, stdio: 'ignore' });
      return Promise.resolve();
    },
  };
}
