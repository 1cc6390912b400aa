/**
 * The ceiling: a subscriber that does nothing with what it receives (QoS 1,
 * acknowledged at once). Prints one JSON line after --messages messages.
 */
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    username: { type: 'string', default: 'ingest' },
    password: { type: 'string', default: 'ingest-dev-secret' },
    filter: { type: 'string', default: 'eip/+/+/+/telemetry' },
  },
});
const total = Number(values.messages);
const client = mqtt.connect(values.url, { username: values.username, password: values.password, protocolVersion: 5, clean: true, clientId: `${values.username}:bench-null-${process.pid}`, properties: { receiveMaximum: 65535 } });
let count = 0;
let first = 0;
client.on('message', () => {
  if (count++ === 0) first = Date.now();
  if (count === total) {
    const seconds = (Date.now() - first) / 1000;
    process.stdout.write(`${JSON.stringify({ received: count, seconds, messagesPerSecond: Math.round(count / seconds) })}\n`);
    client.end(true, {}, () => process.exit(0));
  }
});
client.on('connect', () => {
  client.subscribe(values.filter, { qos: 1 }, () => process.stdout.write('ready\n'));
});
