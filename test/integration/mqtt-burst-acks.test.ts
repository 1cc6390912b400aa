/**
 * The MQTT adapter's deferred acknowledgements against the real Mosquitto: the
 * PUBACKs of a burst leave only after beforeAcks said yes; when it says no, the
 * connection is dropped with them unsent and the broker delivers those messages
 * again on the kept session.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectMqtt, subscribeAsync } from '../../shared/adapters/mqtt/connect.ts';
import { ingestProbeRoot } from '../../shared/contracts/mqtt-topics.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { connect, dropSession, publishMany } from '../helpers/mqtt.ts';
import { mqttUrl, servicePassword } from '../helpers/servers.ts';
import { waitFor } from '../helpers/bus.ts';

const password = servicePassword('ingest');

it('acknowledgements refused by beforeAcks never leave: the broker delivers the burst again; once accepted, nothing comes back', async () => {
  const tag = randomBytes(4).toString('hex');
  // The ingest user may publish and read its probe tree: a topic of the test's own there.
  const topic = `${ingestProbeRoot}/burst-${tag}`;
  const clientId = `ingest:burst-${tag}`;
  const deliveries = new Map<string, number>();
  let refuse = true;
  let bursts = 0;
  const subscriber = await connectMqtt({
    url: mqttUrl, username: 'ingest', password, clientId, protocolVersion: 5, clean: false, sessionExpirySeconds: 300, receiveMaximum: 1000,
    logger: quietLogger(),
    handleMessage: (_topic, payload, done) => {
      const key = payload.toString();
      deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
      done();
    },
    beforeAcks: () => {
      bursts++;
      return !refuse;
    },
  });
  const publisher = await connect(mqttUrl, { username: 'ingest', password, clientId: `ingest:burst-pub-${tag}`, protocolVersion: 5, clean: true });
  try {
    await subscribeAsync(subscriber, [topic], 1);
    const messages = Array.from({ length: 200 }, (_, i) => ({ topic, payload: `m${i}` }));
    // Every burst refused: each delivery is dropped unacknowledged, so the broker delivers it again on the
    // next connection. (How many messages the first bursts hold depends on how the socket reads fall: the
    // broker resends what it had in flight, so the refused ones come back, not necessarily all 200 yet.)
    const published = publishMany(publisher, messages, 200);
    await waitFor(() => bursts >= 3 && deliveries.size > 0 && [...deliveries.values()].every((n) => n >= 2), 30_000, 'every delivered message delivered again after its burst was refused', 50);
    await published;
    refuse = false;
    await waitFor(() => subscriber.connected, 10_000, 'connected again');
    // Accepted from now on: every message arrives (none was lost while refused) and the deliveries settle.
    await waitFor(() => messages.every((m) => deliveries.has(m.payload)), 30_000, 'every message delivered once acknowledgements leave', 50);
    let seen = -1;
    await waitFor(() => {
      const total = [...deliveries.values()].reduce((a, b) => a + b, 0);
      const settled = total === seen;
      seen = total;
      return settled;
    }, 30_000, 'deliveries settle once acknowledgements leave', 1500);
  } finally {
    await new Promise<void>((resolve) => subscriber.end(false, {}, () => resolve()));
    await publisher.endAsync();
  }
  // A new connection on the same session gets nothing: every message was acknowledged.
  const redelivered: string[] = [];
  const again = await connectMqtt({
    url: mqttUrl, username: 'ingest', password, clientId, protocolVersion: 5, clean: false, sessionExpirySeconds: 300,
    logger: quietLogger(),
    handleMessage: (_topic, payload, done) => { redelivered.push(payload.toString()); done(); },
  });
  await new Promise((r) => setTimeout(r, 1500));
  await new Promise<void>((resolve) => again.end(false, {}, () => resolve()));
  await dropSession(mqttUrl, { username: 'ingest', password, clientId });
  assert.deepEqual(redelivered, [], 'nothing left unacknowledged on the session');
});
