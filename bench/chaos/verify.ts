/**
 * Judging the chaos run from outside the services: what InfluxDB holds, and
 * what every Kafka topic holds, compared with what was published.
 */
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { InfluxDB } from '@influxdata/influxdb-client';

/** Points per meter of the park's raw readings in InfluxDB. */
export async function storedPointsByMeter(url: string, token: string, org: string, bucket: string, park: string, fromMs: number): Promise<Map<string, number>> {
  const api = new InfluxDB({ url, token, timeout: 120_000 }).getQueryApi(org);
  const flux = `from(bucket: ${JSON.stringify(bucket)})
  |> range(start: time(v: ${JSON.stringify(new Date(fromMs - 3_600_000).toISOString())}), stop: time(v: ${JSON.stringify(new Date(Date.now() + 3_600_000).toISOString())}))
  |> filter(fn: (r) => r._measurement == "reading" and r.park == ${JSON.stringify(park)} and r._field == "value")
  |> group(columns: ["meter"])
  |> count()`;
  const out = new Map<string, number>();
  for await (const { values, tableMeta } of api.iterateRows(flux)) {
    const row = tableMeta.toObject(values) as { meter?: string; _value?: number };
    if (row.meter) out.set(row.meter, (out.get(row.meter) ?? 0) + Number(row._value ?? 0));
  }
  return out;
}

/** Every record of the topics from the beginning up to their end offsets at the call. */
export async function scanTopics(brokers: string, topicNames: readonly string[], onMessage: (topic: string, m: KafkaMessage) => void): Promise<number> {
  const kafka = new Kafka({ clientId: 'chaos-verify', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  for (const t of topicNames) for (const p of await admin.fetchTopicOffsets(t)) ends.set(`${t}/${p.partition}`, Number(p.high));
  await admin.disconnect();
  const remaining = new Set([...ends].filter(([, high]) => high > 0).map(([k]) => k));
  if (remaining.size === 0) return 0;
  const consumer = kafka.consumer({ groupId: `chaos-verify-${process.pid}-${Date.now()}`, maxBytes: 50 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topicNames], fromBeginning: true });
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = `${batch.topic}/${batch.partition}`;
        const high = ends.get(key) ?? 0;
        for (const m of batch.messages) {
          if (Number(m.offset) >= high) break;
          onMessage(batch.topic, m);
          count++;
          if (Number(m.offset) === high - 1) remaining.delete(key);
        }
        if (remaining.size === 0) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return count;
}
