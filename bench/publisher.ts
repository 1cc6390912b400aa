/**
 * Load publisher for the benchmarks, run as its own process: N meters, two
 * readings a message (about 170 bytes), QoS 1, a window of unacknowledged
 * publishes. The event time is the publish time, so the stored latency the
 * ingest service measures is publish-to-stored.
 *
 *   node bench/publisher.ts --registry FILE --messages 100000 [--inflight 5000] [--url mqtt://127.0.0.1:1883]
 * Prints one JSON line when every message is acknowledged. --spike-every N makes
 * every Nth message's active_power 1000 kW (above the pipeline benchmarks' limit
 * of 500), so alerts fire and resolve at a known pace.
 */
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { loadParkRegistry } from '../shared/contracts/park-registry.ts';
import { telemetryTopic } from '../shared/contracts/mqtt-topics.ts';

const { values } = parseArgs({
  options: {
    registry: { type: 'string' },
    messages: { type: 'string', default: '100000' },
    inflight: { type: 'string', default: '5000' },
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    username: { type: 'string', default: 'simulator' },
    password: { type: 'string', default: 'simulator-dev-secret' },
    protocol: { type: 'string', default: '5' },
    rate: { type: 'string', default: '0' },
    'spike-every': { type: 'string', default: '0' },
    'seq-from': { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || !values.registry) {
  process.stdout.write('usage: bench/publisher.ts --registry FILE [--messages N] [--inflight N] [--url URL] [--username U] [--password P] [--protocol 5|4] [--rate messages/s, 0 = as fast as possible] [--spike-every N, 0 = none] [--seq-from N: first sequence number, so that a later run is not deduplicated as a resend of an earlier one]\n');
  process.exit(values.help ? 0 : 2);
}

const registry = loadParkRegistry(values.registry);
const meters = [...registry.allMeters()].map((m) => telemetryTopic(m.park.id, m.tenant.id, m.meter.id));
const total = Number(values.messages);
const window = Number(values.inflight);
const rate = Number(values.rate);
const spikeEvery = Number(values['spike-every']);
const seqFrom = Number(values['seq-from']);
const client = mqtt.connect(values.url, { username: values.username, password: values.password, protocolVersion: values.protocol === '4' ? 4 : 5, clean: true, clientId: `${values.username}:bench-pub-${process.pid}` });
await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });

let sent = 0;
let acked = 0;
const started = Date.now();
await new Promise<void>((resolve) => {
  const pump = (): void => {
    // Paced: never ahead of the schedule that the rate sets.
    const allowed = rate > 0 ? Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1) : total;
    while (sent < allowed && sent - acked < window) {
      const i = sent++;
      const seq = seqFrom + Math.floor(i / meters.length);
      const ts = Date.now();
      const payload = `{"v":1,"ts":${ts},"seq":${seq},"readings":[{"metric":"active_power","value":${spikeEvery > 0 && i % spikeEvery === 0 ? '1000.00' : (100 + (i % 97) * 1.5).toFixed(2)},"unit":"kW"},{"metric":"active_energy_import","value":${(10000 + seq * 0.25).toFixed(2)},"unit":"kWh"}]}`;
      client.publish(meters[i % meters.length]!, payload, { qos: 1 }, () => {
        acked++;
        if (acked === total) resolve();
        else if (rate === 0 && sent - acked < window / 2) setImmediate(pump);
      });
    }
    if (rate > 0 && sent < total) setTimeout(pump, 2);
  };
  pump();
});
const seconds = (Date.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ published: total, seconds, messagesPerSecond: Math.round(total / seconds) })}\n`);
await client.endAsync();
