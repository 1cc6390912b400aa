/** The rules runtime on the embedded bus, with a bus that refuses one alert's records as too large. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import { alertEventSchema, deadLetterSchema, type AlertEvent, type DeadLetter, type ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { demoParkPath, loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { EipError } from '../../shared/errors.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import type { EventBus, OutgoingMessage } from '../../shared/ports/event-bus.ts';
import { randomGroup, waitFor } from '../../test/helpers/bus.ts';
import { RulesEngine, parseRulePack } from './domain/index.ts';
import { createRulesMetrics } from './metrics.ts';
import { RulesRuntime } from './rules.ts';
import { recordingSupervisor } from '../../test/helpers/supervisor.ts';

const logger = quietLogger('rules-runtime-test');
const root = new URL('../../', import.meta.url).pathname;
const poisonMeter = 'cbr-pretreat-outlet';

/** Refuses, as Kafka refuses a record over its size limit, any send holding an alert of the poisoned meter. */
function refusing(bus: EventBus): EventBus {
  return new Proxy(bus, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (prop !== 'publish') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
      return (messages: readonly OutgoingMessage[]) => {
        const poisoned = messages.some((m) => m.topic === topics.alerts.name && (JSON.parse(String(m.value)) as AlertEvent).meter === poisonMeter);
        return poisoned ? Promise.reject(new EipError('TOO_LARGE', 'kafka: publish: MESSAGE_TOO_LARGE')) : obj.publish(messages);
      };
    },
  });
}

describe('RulesRuntime writes', () => {
  it('an alert whose records the bus refuses is dead-lettered with its state record; the other alert and later batches are written', async () => {
    const real = createSqliteBus({ path: ':memory:', logger, pollIntervalMs: 10 });
    const bus = refusing(real);
    const registry = loadParkRegistry(demoParkPath);
    const engine = new RulesEngine(parseRulePack(readFileSync(`${root}services/rules/rule-packs/default.yaml`, 'utf8')), registry);
    const metrics = createRulesMetrics(new Registry());
    const t0 = Date.now() - 60_000;
    const supervisor = recordingSupervisor();
    const runtime = new RulesRuntime({ engine, bus, logger, metrics, supervisor, group: randomGroup('rules'), tickIntervalMs: 60_000, batchMax: 500, now: () => t0 + 120_000 });
    const alerts: AlertEvent[] = [];
    const states: string[] = [];
    const letters: DeadLetter[] = [];
    const sub = await real.subscribe({ groupId: randomGroup('check'), topics: [topics.alerts.name, topics.alertState.name, topics.deadLetters.name], fromBeginning: true, handleBatch: async (b) => {
      for (const m of b.messages) {
        if (b.topic === topics.alerts.name) alerts.push(alertEventSchema.parse(JSON.parse(m.value!.toString())));
        else if (b.topic === topics.alertState.name) states.push(m.key!);
        else letters.push(deadLetterSchema.parse(JSON.parse(m.value!.toString())));
      }
    } });
    const event = (tenant: string, meter: string, seq: number, ph: number): OutgoingMessage => {
      const e: ReadingBatchEvent = { v: 1, park: 'nusantara-eip', tenant, meter, seq, receivedAt: t0 + seq * 10_000, simulated: false, readings: [{ metric: 'ph', value: ph, unit: 'pH', ts: t0 + seq * 10_000 }] };
      return { topic: topics.readings.name, key: meter, value: JSON.stringify(e) };
    };
    try {
      await runtime.start();
      await real.publish([0, 1, 2, 3].flatMap((seq) => [event('park-wwtp', 'wwtp-sparing-outlet', seq, seq === 0 ? 7 : 3), event('celebes-battery', poisonMeter, seq, seq === 0 ? 7 : 3)]));
      await waitFor(() => alerts.some((a) => a.meter === 'wwtp-sparing-outlet' && a.state === 'firing') && letters.length > 0, 30_000, 'the other alert fired and the refused one dead-lettered');
      await real.publish([4, 5, 6].map((seq) => event('park-wwtp', 'wwtp-sparing-outlet', seq, 7.2)));
      await waitFor(() => alerts.some((a) => a.meter === 'wwtp-sparing-outlet' && a.state === 'resolved'), 30_000, 'a later batch resolves the other alert');
      assert.deepEqual(alerts.filter((a) => a.meter === poisonMeter), [], 'no alert of the poisoned meter on the bus');
      const fired = alerts.find((a) => a.meter === 'wwtp-sparing-outlet')!;
      assert.ok(states.includes(`state:${fired.fingerprint}`));
      const dl = letters.find((l) => l.reason === 'sink-refused')!;
      assert.equal(dl.stage, 'rules');
      assert.match(dl.detail, /^bus refused it \(TOO_LARGE\): kafka: publish: MESSAGE_TOO_LARGE/);
      const records = JSON.parse(Buffer.from(dl.payloadBase64, 'base64').toString()) as Array<{ topic: string; key: string }>;
      const fp = records.find((r) => r.topic === topics.alerts.name)!.key;
      assert.deepEqual(records.map((r) => r.topic).sort(), [topics.alerts.name, topics.alertState.name].sort(), 'the transition and its state record, together');
      assert.ok(!states.includes(`state:${fp}`), 'its state record was not written without its transition');
      assert.equal((await metrics.sinks.refused.get()).values.find((v) => v.labels.sink === 'bus')?.value, letters.filter((l) => l.reason === 'sink-refused').length);
      assert.deepEqual(supervisor.failures, [], 'a refusal is not a loop failure');
    } finally {
      await runtime.stop();
      await sub.stop();
      await real.close();
    }
  });
});
