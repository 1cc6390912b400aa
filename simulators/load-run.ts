/**
 * --mode load: synthetic meters send their readings as fast as --rate allows
 * (readings per second over all meters), one connection per tenant with the
 * tenant's own credentials, QoS 1, at most --inflight publishes awaiting their
 * PUBACK. Event time is the wall clock, as for real meters.
 */
import { writeFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { loadParkRegistry, parseParkRegistry, RegistryIndex, type MeterEntry } from '../shared/contracts/park-registry.ts';
import { loadMqttUsers } from '../shared/adapters/mqtt/credentials.ts';
import type { LoadOptions, SimOptions } from './cli-args.ts';
import { synthesiseLoadRegistry } from './domain/load-registry.ts';
import { LoadFleet, type LoadMessage } from './domain/load-fleet.ts';
import { progressBar, progressLine, type LoadProgress } from './load-progress.ts';
import { connectTenants, disconnectTenant, groupByTenant } from './tenant-connection.ts';
import { clientIdFor } from '../shared/contracts/mqtt-acl.ts';

const flushTimeoutMs = 15_000;
const barIntervalMs = 200;

type Fail = (message: string, code: number) => never;

interface Prepared {
  entries: MeterEntry[];
  users: Map<string, string>;
}

/** The registry with the load meters; written and done, or checked against the one given. */
function prepare(options: SimOptions, load: LoadOptions, fail: Fail): Prepared | null {
  let base;
  try {
    base = loadParkRegistry(options.registry);
  } catch (err) {
    fail((err as Error).message, 2);
  }
  let synth;
  try {
    synth = synthesiseLoadRegistry(base.registry, load.meters);
    // The same check the services make when they read it.
    parseParkRegistry(synth.registry, 'the load registry');
  } catch (err) {
    fail((err as Error).message, 2);
  }
  if (load.writeRegistry !== null) {
    try {
      writeFileSync(load.writeRegistry, `${JSON.stringify(synth.registry, null, 2)}\n`);
    } catch (err) {
      fail(`--write-registry: ${(err as Error).message}`, 2);
    }
    const written = new RegistryIndex(synth.registry);
    const tenants = new Set(synth.meterIds.map((id) => written.meter(id)!.tenant.id));
    process.stdout.write(`${JSON.stringify({ registry: load.writeRegistry, meters: synth.meterIds.length, tenants: tenants.size, addedMeters: synth.added, addedTenants: synth.addedTenants })}\n`);
    return null;
  }
  if (synth.added > 0) {
    const n = synth.addedTenants.length;
    const tenants = n > 0 ? ` and ${n} generated tenant${n === 1 ? '' : 's'} (a broker refuses tenants it does not know)` : '';
    process.stderr.write(`park-sim: warning: ${synth.added} load meters${tenants} are not in ${options.registry}; ingest dead-letters readings of unknown meters. Write a registry with --write-registry, start the broker and services on it, and run with --registry.\n`);
  }
  const index = new RegistryIndex(synth.registry);
  const entries = synth.meterIds.map((id) => index.meter(id)!);
  try {
    return { entries, users: loadMqttUsers(options.credentials, index) };
  } catch (err) {
    fail((err as Error).message, 2);
  }
}

export async function runLoad(options: SimOptions, load: LoadOptions, fail: Fail): Promise<void> {
  const prepared = prepare(options, load, fail);
  if (!prepared) return;
  const { entries, users } = prepared;
  const byTenant = groupByTenant(entries);
  for (const tenant of byTenant.keys()) if (!users.has(tenant)) fail(`no MQTT password for tenant ${tenant} in ${options.credentials}`, 2);
  let clients: Map<string, MqttClient>;
  try {
    clients = await connectTenants(byTenant, users, { url: options.url, protocol: options.protocol, clientIdOf: (t) => clientIdFor(t, `sim-load-${process.pid}`), statusTsMs: Date.now() });
  } catch (err) {
    fail((err as Error).message, 1);
  }

  const fleet = new LoadFleet(entries, options.seed);
  const c = { sent: 0, acknowledged: 0, failed: 0, readingsSent: 0, readings: 0 };
  const inFlight = (): number => c.sent - c.acknowledged - c.failed;
  const started = Date.now();
  const deadline = options.durationMs === null ? Infinity : started + options.durationMs;
  const countDone = (): boolean => load.count !== null && c.sent >= load.count;
  // Readings allowed by now; one message may overshoot, so the first goes at once.
  const allowed = (now: number): number => (load.rate === 'max' ? Infinity : ((now - started) / 1000) * load.rate);

  let stopReason: string | null = null;
  let finish: (reason: string) => void = () => undefined;
  const done = new Promise<string>((resolve) => {
    finish = (reason) => {
      if (stopReason === null) stopReason = reason;
      resolve(stopReason);
    };
  });
  let pumpTimer: NodeJS.Timeout | null = null;
  let pumpQueued = false;

  const publish = (msg: LoadMessage): void => {
    c.sent += 1;
    c.readingsSent += msg.readings;
    clients.get(msg.tenant)!.publish(msg.topic, msg.payload, { qos: 1 }, (err) => {
      if (err) c.failed += 1;
      else {
        c.acknowledged += 1;
        c.readings += msg.readings;
      }
      if (stopReason === null && countDone() && inFlight() === 0) finish('count reached');
      // A full window waits for acknowledgements rather than a timer.
      else if (!pumpQueued && inFlight() <= load.inflight / 2) queuePump();
    });
  };

  const pump = (): void => {
    pumpQueued = false;
    if (pumpTimer) clearTimeout(pumpTimer);
    pumpTimer = null;
    if (stopReason !== null || countDone()) return;
    const now = Date.now();
    if (now >= deadline) return finish('duration reached');
    const budget = allowed(now);
    while (inFlight() < load.inflight && !countDone() && c.readingsSent <= budget) publish(fleet.next(Date.now()));
    if (countDone() || inFlight() >= load.inflight) return;
    // Paced: come back when the next message is within the budget, or at the deadline.
    const rate = load.rate === 'max' ? Infinity : load.rate;
    const waitMs = Math.max(1, Math.ceil(((c.readingsSent - budget) / rate) * 1000));
    pumpTimer = setTimeout(pump, Math.min(waitMs, Math.max(1, deadline - now)));
  };
  const queuePump = (): void => {
    pumpQueued = true;
    setImmediate(pump);
  };

  const snapshot = (): LoadProgress => ({ sent: c.sent, acknowledged: c.acknowledged, failed: c.failed, readings: c.readings, elapsedMs: Date.now() - started, count: load.count, durationMs: options.durationMs });
  const tty = process.stderr.isTTY === true;
  const showProgress = (): void => void process.stderr.write(tty ? progressBar(snapshot()) : progressLine(snapshot()));
  const progressTimer = options.progressSeconds > 0 ? setInterval(showProgress, tty ? barIntervalMs : options.progressSeconds * 1000) : null;
  // A duration ends the run even while the window is full and no timer is pending.
  const deadlineTimer = Number.isFinite(deadline) ? setTimeout(() => finish('duration reached'), deadline - started) : null;
  process.once('SIGINT', () => finish('SIGINT'));
  process.once('SIGTERM', () => finish('SIGTERM'));

  pump();
  const reason = await done;
  if (pumpTimer) clearTimeout(pumpTimer);
  if (deadlineTimer) clearTimeout(deadlineTimer);

  const flushDeadline = Date.now() + flushTimeoutMs;
  while (inFlight() > 0 && Date.now() < flushDeadline) await new Promise((r) => setTimeout(r, 10));
  const elapsedMs = Date.now() - started;
  if (progressTimer) clearInterval(progressTimer);
  if (options.progressSeconds > 0) process.stderr.write(tty ? `${progressBar({ ...snapshot(), elapsedMs })}\n` : progressLine({ ...snapshot(), elapsedMs }));
  if (fleet.maxLeadMs > 1000) {
    process.stderr.write(`park-sim: warning: timestamps ran up to ${fleet.maxLeadMs} ms ahead of the clock (more than 1000 messages a second for one meter); use more --meters\n`);
  }
  await Promise.all([...byTenant].map(([tenant, meters]) => disconnectTenant(clients.get(tenant)!, tenant, meters, Date.now())));

  const seconds = elapsedMs / 1000;
  const perSecond = (n: number): number => Math.round(n / Math.max(seconds, 1e-3));
  const summary = {
    mode: 'load',
    reason,
    sent: c.sent,
    acknowledged: c.acknowledged,
    failed: c.failed,
    unacknowledged: inFlight(),
    readings: c.readings,
    seconds: Math.round(seconds * 1000) / 1000,
    messagesPerSecond: perSecond(c.acknowledged),
    readingsPerSecond: perSecond(c.readings),
    targetReadingsPerSecond: load.rate,
    meters: entries.length,
    tenants: byTenant.size,
    inflight: load.inflight,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = c.failed > 0 || inFlight() > 0 ? 1 : 0;
}
