/**
 * The event bus contract against a real Kafka at KAFKA_BROKERS (default
 * 127.0.0.1:9092; `bash infra/kafka/kafka.sh up`). Fails, never skips, when
 * Kafka cannot be reached.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKafkaBus, ensureTopics, estimateRecordBytes, kafkaError, splitByBytes, type KafkaEventBus } from '../../shared/adapters/kafka/index.ts';
import { EipError } from '../../shared/errors.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import type { OutgoingMessage } from '../../shared/ports/event-bus.ts';
import { eventBusContract } from '../../shared/ports/event-bus.contract.ts';
import { randomTopic } from '../helpers/bus.ts';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter((b) => b !== '');
const logger = quietLogger('kafka-bus-test');

function openBus(extra: Partial<Parameters<typeof createKafkaBus>[0]> = {}): KafkaEventBus {
  return createKafkaBus({ brokers, clientId: 'eip-contract-test', logger, retryPolicy: { initialMs: 50, maxMs: 500 }, ...extra });
}

async function deleteTopics(topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const { Kafka } = (await import('kafkajs')).default;
  const admin = new Kafka({ clientId: 'eip-contract-cleanup', brokers, logLevel: 0 }).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics });
  } catch {
    // Best effort: a leftover random topic harms nothing.
  } finally {
    await admin.disconnect();
  }
}

eventBusContract('kafka', async () => {
  const bus = openBus();
  if (!(await bus.ping())) {
    await bus.close();
    throw new Error(`Kafka is not reachable at ${brokers.join(',')} (start it with: bash infra/kafka/kafka.sh up)`);
  }
  const created: string[] = [];
  return {
    bus,
    async topic(options = {}) {
      const name = randomTopic('contract');
      await bus.ensureTopics([{ name, partitions: options.partitions ?? 3, retentionMs: options.compacted ? -1 : 3_600_000, compacted: options.compacted ?? false, ...(options.maxMessageBytes !== undefined && { maxMessageBytes: options.maxMessageBytes }) }]);
      created.push(name);
      return name;
    },
    async cleanup() {
      await bus.close();
      // Leave the broker as found: the topics were this run's only.
      await deleteTopics(created);
    },
  };
}, { timeoutMs: 90_000, waitMs: 60_000, splitsPartitions: true });

describe('kafka bus: beyond the contract', () => {
  it('ensureTopics creates missing topics once, with compaction and retention', { timeout: 60_000 }, async () => {
    const spec = { name: randomTopic('ensure'), partitions: 2, retentionMs: 86_400_000, compacted: true };
    const first = await ensureTopics({ brokers, clientId: 'eip-ensure-test', logger }, [spec]);
    const second = await ensureTopics({ brokers, clientId: 'eip-ensure-test', logger }, [spec]);
    assert.deepEqual(first, [spec.name]);
    assert.deepEqual(second, []);
    const { Kafka, ConfigResourceTypes } = (await import('kafkajs')).default;
    const admin = new Kafka({ clientId: 'eip-ensure-check', brokers, logLevel: 0 }).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [spec.name] });
      assert.equal(topics[0]?.partitions.length, 2);
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: spec.name, configNames: ['cleanup.policy', 'retention.ms'] }] });
      const entries = configs.resources[0]?.configEntries ?? [];
      assert.equal(entries.find((e) => e.configName === 'cleanup.policy')?.configValue, 'compact');
      assert.equal(entries.find((e) => e.configName === 'retention.ms')?.configValue, '86400000');
      await admin.deleteTopics({ topics: [spec.name] });
    } finally {
      await admin.disconnect();
    }
  });

  it('ensureTopics raises an existing topic\'s max.message.bytes below its spec, keeping its other settings', { timeout: 90_000 }, async () => {
    const old = { name: randomTopic('raised'), partitions: 1, retentionMs: 86_400_000, compacted: true };
    const bus = openBus();
    const { Kafka, ConfigResourceTypes } = (await import('kafkajs')).default;
    const admin = new Kafka({ clientId: 'eip-limit-check', brokers, logLevel: 0 }).admin();
    await admin.connect();
    const setting = async (name: string): Promise<string | undefined> => (await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: old.name, configNames: [name] }] }))
      .resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
    try {
      const value = Buffer.alloc(2_000_000, 7);
      await ensureTopics({ brokers, clientId: 'eip-ensure-test', logger }, [old]);
      await assert.rejects(bus.publish([{ topic: old.name, key: 'k', value }]), (err: unknown) => err instanceof EipError && err.code === 'TOO_LARGE');
      assert.deepEqual(await ensureTopics({ brokers, clientId: 'eip-ensure-test', logger }, [{ ...old, maxMessageBytes: 4 * 2 ** 20 }]), [], 'nothing created');
      assert.equal(await setting('max.message.bytes'), String(4 * 2 ** 20));
      assert.equal(await setting('cleanup.policy'), 'compact');
      assert.equal(await setting('retention.ms'), '86400000');
      await bus.publish([{ topic: old.name, key: 'k', value }]);
    } finally {
      await admin.disconnect();
      await bus.close();
      await deleteTopics([old.name]);
    }
  });

  it('reads zstd and gzip record batches: another producer\'s, and a topic set to compression.type=zstd', { timeout: 90_000 }, async () => {
    const bus = openBus();
    const state = randomTopic('zstd-state');
    const zstdTopic = randomTopic('zstd-topic');
    const { Kafka, CompressionTypes } = (await import('kafkajs')).default;
    const other = new Kafka({ clientId: 'eip-other-producer', brokers, logLevel: 0 });
    const admin = other.admin();
    const producer = other.producer();
    await admin.connect();
    await producer.connect();
    let sub: Awaited<ReturnType<KafkaEventBus['subscribe']>> | undefined;
    try {
      await bus.ensureTopics([{ name: state, partitions: 1, retentionMs: -1, compacted: true }]);
      await producer.send({ topic: state, compression: CompressionTypes.ZSTD, messages: [{ key: 'a', value: 'zstd-1' }, { key: 'b', value: 'zstd-2' }] });
      await producer.send({ topic: state, compression: CompressionTypes.GZIP, messages: [{ key: 'c', value: 'gzip-1' }] });
      const read = await bus.readCompacted(state);
      assert.deepEqual([...read].map(([k, v]) => [k, v.toString()]).sort(), [['a', 'zstd-1'], ['b', 'zstd-2'], ['c', 'gzip-1']]);

      // The broker recompresses what the bus writes uncompressed.
      await admin.createTopics({ topics: [{ topic: zstdTopic, numPartitions: 2, configEntries: [{ name: 'compression.type', value: 'zstd' }] }] });
      const values = Array.from({ length: 50 }, (_, i) => `reading-${i}`);
      await bus.publish(values.map((value, i) => ({ topic: zstdTopic, key: `m${i % 7}`, value })));
      const got: string[] = [];
      sub = await bus.subscribe({ groupId: randomTopic('zstd-group'), topics: [zstdTopic], fromBeginning: true, handleBatch: (b) => { for (const m of b.messages) got.push(m.value!.toString()); return Promise.resolve(); } });
      const until = Date.now() + 60_000;
      while (got.length < values.length && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(got.sort(), [...values].sort());
    } finally {
      await sub?.stop();
      await producer.disconnect();
      await admin.disconnect();
      await bus.close();
      await deleteTopics([state, zstdTopic]);
    }
  });

  it('publish to a broker that is down rejects with a retriable UNAVAILABLE', { timeout: 60_000 }, async () => {
    const bus = createKafkaBus({ brokers: ['127.0.0.1:1'], clientId: 'eip-down-test', logger, connectionTimeoutMs: 200 });
    try {
      await assert.rejects(bus.publish([{ topic: 'nowhere', key: 'k', value: 'v' }]), (err: unknown) => err instanceof EipError && err.code === 'UNAVAILABLE' && err.retriable);
      assert.equal(await bus.ping(), false);
    } finally {
      await bus.close();
    }
  });

  it('a single message over the broker limit is refused as TOO_LARGE, not retriable', { timeout: 60_000 }, async () => {
    const bus = openBus();
    const topic = randomTopic('too-large');
    try {
      await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: 3_600_000, compacted: false }]);
      await assert.rejects(bus.publish([{ topic, key: 'k', value: Buffer.alloc(2_000_000, 1) }]), (err: unknown) => err instanceof EipError && err.code === 'TOO_LARGE' && !err.retriable);
    } finally {
      await bus.close();
      await deleteTopics([topic]);
    }
  });
});

describe('kafka bus: batching and errors (no broker needed)', () => {
  it('splits by bytes as well as by count, keeping order', () => {
    const messages = Array.from({ length: 3_000 }, (_, i): OutgoingMessage => ({ topic: 't', key: `k${i}`, value: Buffer.alloc(1_024) }));
    const chunks = splitByBytes(messages, estimateRecordBytes, 900_000, 5_000);
    assert.ok(chunks.length >= 4);
    for (const chunk of chunks) assert.ok(chunk.reduce((n, m) => n + estimateRecordBytes(m), 0) <= 900_000);
    assert.deepEqual(chunks.flat(), messages);
    assert.deepEqual(splitByBytes([1, 2, 3, 4, 5], () => 1, 100, 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(splitByBytes([5, 500, 5], (n) => n, 100, 10), [[5], [500], [5]]);
  });

  it('maps kafkajs errors by their innermost cause', () => {
    const tooLarge = Object.assign(new Error('too large'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false });
    const exhausted = Object.assign(new Error('retries exhausted'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: tooLarge });
    assert.equal(kafkaError(exhausted, 'publish').code, 'TOO_LARGE');
    const leader = Object.assign(new Error('leader not available'), { name: 'KafkaJSProtocolError', type: 'LEADER_NOT_AVAILABLE', retriable: true });
    const wrapped = kafkaError(Object.assign(new Error('retries exhausted'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: leader }), 'publish');
    assert.equal(wrapped.code, 'UNAVAILABLE');
    assert.equal(wrapped.retriable, true);
    const refused = kafkaError(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true, code: 'ECONNREFUSED' }), 'connect');
    assert.equal(refused.code, 'UNAVAILABLE');
    assert.equal(refused.retriable, true);
    const invalid = kafkaError(Object.assign(new Error('invalid record'), { name: 'KafkaJSProtocolError', type: 'INVALID_RECORD', retriable: false }), 'publish');
    assert.equal(invalid.code, 'REJECTED');
    assert.equal(invalid.retriable, false);
  });
});
