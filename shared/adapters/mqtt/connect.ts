/**
 * Connects an MQTT.js client with the project's defaults and logs its life
 * cycle. Resolves once connected for the first time; reconnects by itself after.
 */
import './quiet-debug.ts';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { EipError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { urlOrigin } from '../../observability/url-origin.ts';
import { ConnectionAcks } from './connection-acks.ts';

export type { MqttClient };

export interface MqttConnectOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  protocolVersion: 4 | 5;
  /** false keeps the session (subscriptions and queued QoS 1 messages) across reconnects. */
  clean: boolean;
  /** MQTT 5 only: how long the broker keeps the session while we are away. */
  sessionExpirySeconds?: number;
  /** MQTT 5 only: how many unacknowledged QoS 1 messages the broker may send us. */
  receiveMaximum?: number;
  will?: IClientOptions['will'];
  /** For mqtts:// and wss://: PEM CA(s) to verify the broker (default: the system's) and an optional client certificate. */
  tls?: { ca?: string; cert?: string; key?: string };
  logger: Logger;
  connectTimeoutMs?: number;
  /**
   * Handles each incoming PUBLISH; call done() to acknowledge it. Installed
   * before connecting: a kept session delivers its queue right after CONNACK,
   * and MQTT.js's default handler would acknowledge those messages unseen.
   */
  handleMessage?: (topic: string, payload: Buffer, done: () => void) => void;
  /**
   * With handleMessage: called before the acknowledgements given during a burst
   * of messages leave (they wait in the corked socket until then), so a handler
   * may acknowledge first and make the burst durable here, in one write. False:
   * they must not leave; the connection is dropped unsent, and the broker
   * delivers those messages again after the reconnect.
   */
  beforeAcks?: () => boolean;
}

export async function connectMqtt(options: MqttConnectOptions): Promise<MqttClient> {
  const client = mqtt.connect(options.url, {
    clientId: options.clientId,
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
    protocolVersion: options.protocolVersion,
    clean: options.clean,
    reconnectPeriod: 1000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    // MQTT.js's cache of a 2-byte Buffer per packet id is 65,536 objects, about 8 MiB of heap, for
    // a saving of one small allocation per packet sent.
    writeCache: false,
    // MQTT.js traces each step of every packet through the debug module: a cost per message even when tracing is off.
    log: () => undefined,
    // We resubscribe ourselves only for clean sessions; a kept session keeps its subscriptions.
    resubscribe: true,
    ...(options.will && { will: options.will }),
    ...(options.tls && { ...options.tls, rejectUnauthorized: true }),
    ...(options.protocolVersion === 5 && {
      properties: {
        ...(options.sessionExpirySeconds !== undefined && { sessionExpiryInterval: options.sessionExpirySeconds }),
        ...(options.receiveMaximum !== undefined && { receiveMaximum: options.receiveMaximum }),
      },
    }),
  });
  const handle = options.handleMessage;
  if (handle) {
    const acks = new ConnectionAcks();
    client.on('close', () => acks.closed());
    // MQTT.js writes every PUBACK on its own (one socket write per message, the largest cost of
    // receiving): the socket stays corked while a burst of messages is handled (MQTT.js hands
    // over a read's packets one after the other before the event loop goes on), so the
    // acknowledgements given meanwhile leave together, after beforeAcks.
    const corked = new Set<MqttClient['stream']>();
    const endBurst = (): void => {
      const streams = [...corked];
      corked.clear();
      let ok = false;
      try {
        ok = options.beforeAcks?.() ?? true;
      } finally {
        for (const stream of streams) {
          if (ok) stream.uncork();
          else stream.destroy();
        }
      }
    };
    client.handleMessage = (packet, callback) => {
      const stream = client.stream;
      if (!corked.has(stream) && typeof stream.cork === 'function') {
        if (corked.size === 0) setImmediate(endBurst);
        corked.add(stream);
        stream.cork();
      }
      handle(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload, acks.wrap(() => callback()));
    };
  }
  // A broker URL may carry a user and password: logs and errors name its origin only.
  const log = options.logger.child({ mqtt: urlOrigin(options.url), clientId: options.clientId });
  let everConnected = false;
  client.on('connect', (ack) => {
    if (everConnected) log.info({ sessionPresent: ack.sessionPresent }, 'mqtt reconnected');
    everConnected = true;
  });
  client.on('offline', () => log.warn('mqtt offline'));
  client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end(true);
      reject(new EipError('UNAVAILABLE', `MQTT broker ${urlOrigin(options.url)} not reachable within ${options.connectTimeoutMs ?? 10_000} ms`));
    }, (options.connectTimeoutMs ?? 10_000) + 500);
    client.once('connect', (ack) => {
      clearTimeout(timer);
      log.info({ sessionPresent: ack.sessionPresent, protocolVersion: options.protocolVersion }, 'mqtt connected');
      resolve();
    });
    client.once('error', (err) => {
      // Bad credentials will not get better by retrying.
      if ((err as { code?: number }).code === 4 || (err as { code?: number }).code === 5 || (err as { code?: number }).code === 134 || (err as { code?: number }).code === 135) {
        clearTimeout(timer);
        client.end(true);
        reject(new EipError('UNAUTHORIZED', `MQTT broker refused ${options.username ?? 'anonymous'}: ${err.message}`));
      }
    });
  });
  return client;
}

export function subscribeAsync(client: MqttClient, filters: string[], qos: 0 | 1): Promise<void> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos }, (err, granted) => {
      if (err) return reject(new EipError('UNAVAILABLE', `subscribe failed: ${err.message}`, { cause: err }));
      const refused = (granted ?? []).filter((g) => g.qos === 128 || g.qos > 2);
      if (refused.length) return reject(new EipError('UNAUTHORIZED', `broker refused subscription to ${refused.map((g) => g.topic).join(', ')}`));
      resolve();
    });
  });
}
