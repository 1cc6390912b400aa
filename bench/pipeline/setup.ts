/**
 * The whole pipeline for a benchmark: private Mosquitto, Kafka and InfluxDB
 * (bench/chaos/stack.ts, on their own ports and run folder, so the shared
 * servers are neither disturbed nor disturbing), a park of N electricity meters,
 * and ingest, the aggregator, rules and the console as processes started
 * through test/helpers/service-process.ts, as production runs them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, serviceNodeArgs, sleep, writeBenchRegistry } from '../lib.ts';
import { privateStack, type PrivateStack } from '../chaos/stack.ts';
import { servicePassword } from '../../test/helpers/servers.ts';
import { startService, type ServiceProcess } from '../../test/helpers/service-process.ts';
import { lineFrom, spawnTs } from '../lib.ts';

export type ServiceName = 'ingest' | 'aggregator' | 'rules' | 'console';
export const allServices: readonly ServiceName[] = ['ingest', 'aggregator', 'rules', 'console'];

export const influx = { token: 'eip-dev-token', org: 'eip', bucket: 'telemetry' };
/** The operator API token of services/console/dev-users.json. */
export const consoleToken = 'eipt_dev-automation-token';

export interface Bench {
  dir: string;
  tag: string;
  park: string;
  registryPath: string;
  stack: PrivateStack;
  basePort: number;
  opsUrl(name: ServiceName): string;
  consoleUrl: string;
  services: Map<ServiceName, ServiceProcess>;
  start(name: ServiceName): Promise<void>;
  /** Runs the load publisher to the end; resolves with its JSON line. */
  publish(args: { messages: number; rate?: number; spikeEvery?: number; inflight?: number }): Promise<{ published: number; seconds: number; messagesPerSecond: number }>;
  close(keep?: boolean): Promise<void>;
}

export function log(bench: string, msg: string): void {
  process.stderr.write(`[${bench} ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Writes the park and starts the private servers (the first run builds InfluxDB). */
export async function openBench(basePort: number, meters: number): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), 'eip-bench-pipeline-'));
  const { tag, park, registryPath } = writeBenchRegistry(dir, meters);

  const stack = privateStack(join(dir, 'run'), registryPath, basePort);
  const opsPort = (name: ServiceName): number => basePort + 10 + allServices.indexOf(name);
  const consolePort = basePort + 14;
  const rulePack = join(repoRoot, 'bench/pipeline/rule-pack.yaml');
  const env = (name: ServiceName): Record<string, string> => ({
    LOG_LEVEL: 'warn', BUS: 'kafka', KAFKA_BROKERS: stack.kafkaBrokers, TIMESERIES: 'influxdb', INFLUX_URL: stack.influxUrl,
    INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org, INFLUX_BUCKET: influx.bucket, PARK_REGISTRY: registryPath,
    DATA_DIR: join(dir, name), MQTT_URL: stack.mqttUrl, MQTT_PROTOCOL_VERSION: '5', RULE_PACK: rulePack,
    ...(name === 'ingest' && { MQTT_USERNAME: 'ingest', MQTT_PASSWORD: servicePassword('ingest'), MQTT_CLIENT_ID: `ingest:bench-${tag}` }),
    ...(name === 'rules' && { MQTT_USERNAME: 'rules', MQTT_PASSWORD: servicePassword('rules'), MQTT_CLIENT_ID: `rules:bench-${tag}` }),
    ...(name === 'console' && { CONSOLE_PORT: String(consolePort), CONSOLE_UI: 'false' }),
  });
  const services = new Map<ServiceName, ServiceProcess>();
  // Each run continues the meters' sequence numbers: ingest would drop a repeated (meter, seq) as a resend.
  let seqFrom = 0;
  const bench: Bench = {
    dir, tag, park, registryPath, stack, basePort, services,
    opsUrl: (name) => `http://127.0.0.1:${opsPort(name)}`,
    consoleUrl: `http://127.0.0.1:${consolePort}`,
    start: async (name) => {
      // A service that finds the bus not ready exits so that its supervisor restarts it; be that supervisor.
      for (let attempt = 1; ; attempt++) {
        try {
          services.set(name, await startService(name, env(name), opsPort(name), 180_000, serviceNodeArgs(name)));
          return;
        } catch (err) {
          if (attempt >= 3 || !String(err).includes('exited before it was ready')) throw err;
          log('bench', `${name} exited before it was ready (attempt ${attempt}); starting it again`);
          await sleep(2_000);
        }
      }
    },
    publish: async ({ messages, rate = 0, spikeEvery = 0, inflight = 5_000 }) => {
      const first = seqFrom;
      seqFrom += Math.ceil(messages / meters);
      const pub = spawnTs('bench/publisher.ts', ['--registry', registryPath, '--url', stack.mqttUrl, '--password', servicePassword('simulator'),
        '--messages', String(messages), '--rate', String(rate), '--spike-every', String(spikeEvery), '--inflight', String(inflight), '--seq-from', String(first)]);
      return JSON.parse(await lineFrom(pub, (l) => l.startsWith('{'))) as { published: number; seconds: number; messagesPerSecond: number };
    },
    close: async (keep = false) => {
      await Promise.all([...services.values()].map((p) => Promise.race([p.stop('SIGTERM'), sleep(10_000).then(() => p.stop('SIGKILL'))])));
      services.clear();
      await stack.down().catch((err: unknown) => log('bench', `stopping the private servers: ${String(err)}`));
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
  // On a loaded machine a server's first start sometimes fails a step (Kafka's topic
  // bootstrap timing out); a second `up` finds what is running and does the rest.
  for (let attempt = 1; ; attempt++) {
    try {
      await stack.up();
      return bench;
    } catch (err) {
      if (attempt < 2) {
        log('bench', `starting the private servers failed (${String(err).split('\n')[0]}); once more`);
        continue;
      }
      await bench.close();
      throw err;
    }
  }
}

/**
 * Opens the bench, runs `main`, and whatever happens stops the services and the
 * private servers; on a failure it prints the services' last output and exits 1.
 */
export async function runBench(name: string, basePort: number, meters: number, keep: boolean, main: (b: Bench) => Promise<void>): Promise<never> {
  const b = await openBench(basePort, meters);
  let failed = false;
  try {
    log(name, `private servers on ports ${basePort}..${basePort + 3} under ${b.dir}`);
    await main(b);
  } catch (err) {
    failed = true;
    log(name, `failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    for (const [service, p] of b.services) log(name, `${service} output:\n${p.output().slice(-2_000)}`);
  } finally {
    await b.close(keep);
  }
  process.exit(failed ? 1 : 0);
}
