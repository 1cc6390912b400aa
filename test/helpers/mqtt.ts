import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';

export async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Publishes QoS 1 messages with a bounded number awaiting PUBACK; resolves when all are acknowledged. */
export async function publishMany(client: MqttClient, messages: Iterable<{ topic: string; payload: string | Buffer }>, inFlight = 500): Promise<number> {
  let count = 0;
  const pending = new Set<Promise<void>>();
  for (const m of messages) {
    const p = client.publishAsync(m.topic, m.payload, { qos: 1 }).then(() => { pending.delete(p); });
    pending.add(p);
    count++;
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  return count;
}

/** Removes a persistent session left on the broker (MQTT 5: clean start, expiry 0). */
export async function dropSession(url: string, options: IClientOptions): Promise<void> {
  const c = await connect(url, { ...options, clean: true, protocolVersion: 5, properties: { sessionExpiryInterval: 0 } });
  await c.endAsync();
}
