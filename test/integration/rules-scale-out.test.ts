/**
 * Two rules instances in one consumer group, against real Kafka: the partitions
 * are split between them, and an incident's alert state moves with its
 * partition. The instance holding a pH incident is stopped (a rebalance hands
 * the partition to the other, live since before the incident) and, in a second
 * incident, SIGKILLed after an acknowledge; each incident fires once, is
 * acknowledged once, resolves once, with transition numbers contiguous.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { ReadingBatchEvent } from '../../shared/contracts/events.ts';
import type { EventBus } from '../../shared/ports/event-bus.ts';
import { partitionForKey } from '../../shared/ports/partitioner.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { influx, kafkaBrokers } from '../helpers/servers.ts';
import { startService, freePort, metricValue, type ServiceProcess } from '../helpers/service-process.ts';
import { serviceGroups, startGroupsAtEnd } from '../helpers/kafka-groups.ts';
import { waitFor } from '../helpers/bus.ts';
import { AlertWatch } from '../helpers/alert-watch.ts';

const logger = quietLogger('rules-scale-test');
const minute = 60_000;

interface Park { id: string; tenant: string; ww: string; dir: string; registry: string }

function makePark(): Park {
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const p = { id: `rscale-${tag}`, tenant: `rs-${tag}`, ww: `ww-${tag}`, dir: mkdtempSync(join(tmpdir(), 'eip-rules-scale-')), registry: '' };
  p.registry = join(p.dir, 'registry.json');
  writeFileSync(p.registry, JSON.stringify({ version: 1, parks: [{ id: p.id, name: 'rules scale-out test', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 10,
    emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'test' } },
    tenants: [{ id: p.tenant, name: 'T', sector: 'test', supplySource: 'grid', meters: [
      { id: p.ww, kind: 'wastewater-quality', cadenceSeconds: 120, metrics: ['ph', 'cod'], limits: { ph: { min: 6, max: 9, source: 'Permen LH 5/2014' } } },
    ] }] }] }));
  return p;
}

describe('two rules instances in one group against real Kafka', { timeout: 400_000 }, () => {
  let bus: EventBus;
  let cleanup: Array<() => Promise<unknown>> = [];
  before(() => { bus = createKafkaBus({ brokers: kafkaBrokers, clientId: 'rules-scale-test', logger }); });
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    cleanup = [];
  });
  after(async () => { await bus.close(); });

  it('an incident fires, is acknowledged and resolves exactly once while its partition moves by a rebalance and by a SIGKILL', async () => {
    const p = makePark();
    cleanup.push(async () => rmSync(p.dir, { recursive: true, force: true }));
    const group = `rules-scale-${randomBytes(4).toString('hex')}`;
    await startGroupsAtEnd(serviceGroups.rules(group));
    const env = {
      BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket, INFLUX_AGGREGATES_BUCKET: `${influx.bucket}_downsampled`, PARK_REGISTRY: p.registry, DATA_DIR: p.dir,
      RULES_GROUP: group, ALERTS_MQTT: 'false', TICK_INTERVAL_MS: '500',
    };
    const watch = new AlertWatch(bus, p.id);
    await watch.start();
    cleanup.push(() => watch.stop());
    const instances: ServiceProcess[] = [];
    const start = async (): Promise<ServiceProcess> => {
      const svc = await startService('rules', env, freePort());
      cleanup.push(() => svc.stop('SIGTERM'));
      instances.push(svc);
      return svc;
    };
    const live = (): ServiceProcess[] => instances.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    // The pH rule's state lives on the readings partition of the meter (and that number of the routed topic).
    const partition = String(partitionForKey(p.ww, await bus.partitionCount(topics.readings.name)));
    const holds = async (svc: ServiceProcess): Promise<boolean> => (await metricValue(svc.opsUrl, 'eip_rules_partitions_held', { topic: topics.readings.name, partition })) === 1;
    const held = async (svc: ServiceProcess): Promise<number> => metricValue(svc.opsUrl, 'eip_rules_partitions_held');
    const total = 3 * (await bus.partitionCount(topics.readings.name));
    /** Both running instances hold partitions, all of them between them, one holds the meter's: that one. */
    const settled = async (): Promise<ServiceProcess> => {
      let holder: ServiceProcess | undefined;
      let seen = '';
      await waitFor(async () => {
        const l = live();
        const counts = await Promise.all(l.map(held));
        seen = `held ${counts.join(' + ')} of ${total}`;
        if (counts.some((c) => c === 0) || counts.reduce((a, b) => a + b, 0) !== total) return false;
        const owners = (await Promise.all(l.map(holds))).map((h, i) => (h ? l[i] : undefined)).filter((x) => x !== undefined);
        if (owners.length !== 1) return false;
        holder = owners[0];
        return true;
      }, 90_000, 'the partitions split between the live instances', 200).catch((err: unknown) => {
        throw new Error(`${(err as Error).message} (last: ${seen}); logs:\n${live().map((x) => x.output().slice(-3000)).join('\n---\n')}`);
      });
      return holder!;
    };
    const t0 = Date.now() - 60 * minute;
    let seq = 0;
    const ph = (value: number): ReadingBatchEvent => {
      const s = seq++;
      return { v: 1, park: p.id, tenant: p.tenant, meter: p.ww, seq: s, receivedAt: t0 + s * 2 * minute, simulated: false, readings: [{ metric: 'ph', unit: 'pH', value, ts: t0 + s * 2 * minute }] };
    };
    const publish = (values: number[]) => bus.publish(values.map((v) => ph(v)).map((e) => ({ topic: topics.readings.name, key: e.meter, value: JSON.stringify(e) })));
    const phEvents = () => watch.of('ww-ph-range');
    const count = (state: string) => phEvents().filter((e) => e.state === state).length;

    await start();
    await start();
    const first = await settled();
    const other = live().find((s) => s !== first)!;

    // Incident 1 on the holder; it is then stopped, and the other instance, running since before the incident, takes the partition.
    await publish([7.2, 4.1, 4.0, 3.9]);
    await waitFor(() => count('firing') === 1, 60_000, 'incident 1 firing', 100);
    await first.stop('SIGTERM');
    await waitFor(async () => (await held(other)) === total, 60_000, 'the other instance holding every partition', 200);
    await publish([3.8, 3.7]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(count('firing'), 1, 'the instance that gained the partition did not fire again');
    await publish([7.1, 7.0]);
    await waitFor(() => count('resolved') === 1, 60_000, 'incident 1 resolved by the other instance', 100);

    // Two instances again; incident 2 is acknowledged (through the router) and its holder SIGKILLed.
    await start();
    const second = await settled();
    await publish([2.0, 2.0, 2.0]);
    await waitFor(() => count('firing') === 2, 60_000, 'incident 2 firing', 100);
    const firing = phEvents().filter((e) => e.state === 'firing').at(-1)!;
    await bus.publish([{ topic: topics.alertCommands.name, key: firing.fingerprint, value: JSON.stringify({ v: 1, kind: 'acknowledge', commandId: `c-${group}`, fingerprint: firing.fingerprint, by: 'operator@park', at: Date.now() }) }]);
    await waitFor(() => count('acknowledged') === 1, 60_000, 'incident 2 acknowledged', 100);
    const survivor = live().find((s) => s !== second)!;
    await second.stop('SIGKILL');
    await publish([2.1, 7.2, 7.1]);
    await waitFor(() => count('resolved') === 2, 120_000, 'incident 2 resolved by the survivor after the session timeout', 200);
    assert.equal(await held(survivor), total, 'the survivor holds every partition');
    await new Promise((r) => setTimeout(r, 2000));

    const chain = phEvents().filter((e) => e.fingerprint === firing.fingerprint).map((e) => `${e.transition}:${e.previousState ?? 'null'}->${e.state}`);
    assert.deepEqual(chain, ['1:null->firing', '2:firing->resolved', '3:null->firing', '4:firing->acknowledged', '5:acknowledged->resolved'], 'each transition once, in order, across both hand-overs');
    assert.equal(phEvents().length, 5, 'no other pH alert');
  });
});
