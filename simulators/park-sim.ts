/**
 * park-sim: publishes simulated meter readings for a park registry over MQTT,
 * one connection per tenant with that tenant's credentials, in real or
 * accelerated time, or as load from synthetic meters (load-run.ts). See --help.
 */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { parse as parseYaml } from 'yaml';
import { loadParkRegistry } from '../shared/contracts/park-registry.ts';
import { loadMqttUsers } from '../shared/adapters/mqtt/credentials.ts';
import { helpText, parseSimArgs, UsageError, type SimOptions } from './cli-args.ts';
import { ParkSimulation, type OutboundMessage } from './domain/simulation.ts';
import { parseScenario, ScenarioError, type TimedEntry } from './domain/scenario.ts';
import { runLoad } from './load-run.ts';
import { connectTenants, disconnectTenant, groupByTenant } from './tenant-connection.ts';
import { clientIdFor } from '../shared/contracts/mqtt-acl.ts';

/** Stop generating while this many publishes wait for PUBACK, so a slow broker is not flooded. */
const maxInFlight = 2000;
const flushTimeoutMs = 15_000;

interface Counters {
  sent: number;
  acknowledged: number;
  failed: number;
}

function fail(message: string, code: number): never {
  process.stderr.write(`park-sim: ${message}\n`);
  process.exit(code);
}

function loadScenario(path: string, startMs: number, registry: ReturnType<typeof loadParkRegistry>): TimedEntry[] {
  const text = readFileSync(path, 'utf8');
  // YAML is a superset of JSON, so one parser reads both.
  const doc: unknown = parseYaml(text);
  return parseScenario(doc, startMs, registry);
}

async function main(): Promise<void> {
  let options: SimOptions;
  try {
    options = parseSimArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) fail(`${err.message}\nRun with --help to see every flag.`, 2);
    throw err;
  }
  if (options.help) {
    process.stdout.write(helpText);
    return;
  }
  if (options.load) return runLoad(options, options.load, fail);

  const startMs = options.startMs ?? Date.now() - options.backfillMs;
  const endMs = options.durationMs === null ? Infinity : startMs + options.durationMs;
  let registry;
  let users;
  let scenario: TimedEntry[] = [];
  try {
    registry = loadParkRegistry(options.registry);
    users = loadMqttUsers(options.credentials, registry);
    if (options.scenario) scenario = loadScenario(options.scenario, startMs, registry);
  } catch (err) {
    fail(err instanceof ScenarioError ? `${options.scenario}: ${err.message}` : (err as Error).message, 2);
  }
  const entries = [...registry.allMeters()].filter((e) => options.meters === null || options.meters.test(e.meter.id));
  if (entries.length === 0) fail(`no meter matches --meters ${String(options.meters)}`, 2);

  const byTenant = groupByTenant(entries);
  for (const tenant of byTenant.keys()) if (!users.has(tenant)) fail(`no MQTT password for tenant ${tenant} in ${options.credentials}`, 2);
  let clients: Map<string, MqttClient>;
  try {
    clients = await connectTenants(byTenant, users, { url: options.url, protocol: options.protocol, clientIdOf: (t) => clientIdFor(t, `sim-${options.seed}`), statusTsMs: startMs });
  } catch (err) {
    fail((err as Error).message, 1);
  }

  const sim = new ParkSimulation(entries, { seed: options.seed, startMs, scenario });
  const counters: Counters = { sent: 0, acknowledged: 0, failed: 0 };
  const wallStart = Date.now();
  // Realtime is the wall clock (a backfill is simply the past, due at once); accelerated runs from startMs.
  const simNow = options.mode === 'realtime'
    ? (): number => Math.min(endMs, Date.now())
    : (): number => Math.min(endMs, startMs + (Date.now() - wallStart) * options.speed);
  const inFlight = (): number => counters.sent - counters.acknowledged - counters.failed;

  const publish = (msg: OutboundMessage): void => {
    const client = clients.get(msg.tenant);
    if (!client) return;
    counters.sent += 1;
    client.publish(msg.topic, msg.payload, { qos: 1 }, (err) => {
      if (err) counters.failed += 1;
      else counters.acknowledged += 1;
    });
  };

  const progress = (): void => {
    const secs = (Date.now() - wallStart) / 1000;
    process.stderr.write(`park-sim: sim ${new Date(simNow()).toISOString()} sent ${counters.sent} acked ${counters.acknowledged} failed ${counters.failed} rate ${(counters.sent / Math.max(secs, 1e-3)).toFixed(1)}/s\n`);
  };

  let stopping = false;
  const done = new Promise<string>((resolve) => {
    const step = (): void => {
      if (stopping) return;
      if (inFlight() < maxInFlight) for (const m of sim.advanceTo(simNow())) publish(m);
      if (simNow() >= endMs && sim.nextDueMs() >= endMs) return resolve('duration reached');
      // Accelerated runs need fine steps to keep many ticks per wall second in order.
      setTimeout(step, options.mode === 'accelerated' ? 20 : 250);
    };
    step();
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const progressTimer = options.progressSeconds > 0 ? setInterval(progress, options.progressSeconds * 1000) : null;

  const reason = await done;
  stopping = true;
  if (progressTimer) clearInterval(progressTimer);
  // A run that ends inside a late-burst or out-of-order span sends what the meters held.
  const endStatusMs = Math.min(simNow(), Number.isFinite(endMs) ? endMs : simNow());
  for (const m of sim.drain(endStatusMs)) publish(m);

  // Flush: wait for every PUBACK (or give up after a while), then say goodbye.
  const flushDeadline = Date.now() + flushTimeoutMs;
  while (inFlight() > 0 && Date.now() < flushDeadline) await new Promise((r) => setTimeout(r, 20));
  await Promise.all([...byTenant].map(([tenant, meters]) => disconnectTenant(clients.get(tenant)!, tenant, meters, endStatusMs)));
  progress();
  const seconds = (Date.now() - wallStart) / 1000;
  const summary = {
    reason,
    sent: counters.sent,
    acknowledged: counters.acknowledged,
    failed: counters.failed,
    unacknowledged: inFlight(),
    seconds: Math.round(seconds * 1000) / 1000,
    rate: Math.round((counters.sent / Math.max(seconds, 1e-3)) * 10) / 10,
    meters: entries.length,
    simulatedFrom: new Date(startMs).toISOString(),
    simulatedTo: new Date(endStatusMs).toISOString(),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = counters.failed > 0 || inFlight() > 0 ? 1 : 0;
}

main().catch((err: unknown) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1));
