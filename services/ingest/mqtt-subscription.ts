/**
 * Ingest's MQTT side: one persistent session with plain subscriptions to the
 * filters this instance owns, plus its probe topic. The probe, not CONNACK's
 * "session present", decides whether the broker still delivers: when a probe
 * does not come back, the instance is not ready and the session is taken over
 * by a fresh connection under the same client id that subscribes again (a
 * SUBSCRIBE repeated on the old connection is not enough for every broker).
 */
import { randomBytes } from 'node:crypto';
import { connectMqtt, subscribeAsync, type MqttClient, type MqttConnectOptions } from '../../shared/adapters/mqtt/connect.ts';
import { mqttPublishError } from '../../shared/adapters/mqtt/publish-errors.ts';
import { retry } from '../../shared/retry.ts';
import { ingestProbeRoot } from '../../shared/contracts/mqtt-topics.ts';
import type { Logger } from '../../shared/observability/logger.ts';
import { SubscriptionProbe, probeIdOf, probePayload } from './domain/subscription-probe.ts';
import type { IngestMetrics } from './metrics.ts';

export interface IngestSubscriptionOptions {
  connect: Omit<MqttConnectOptions, 'handleMessage' | 'logger'>;
  filters: readonly string[];
  /** Filters the session may still hold from an earlier configuration: unsubscribed once the new ones are in place. */
  unsubscribe: readonly string[];
  /** Called once the session holds exactly `filters` (and the probe topic). */
  onSubscribed: () => void;
  probeTopic: string;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  handleMessage: (topic: string, payload: Buffer, done: () => void) => void;
  /** Makes what handleMessage acknowledged durable before the acknowledgements leave (see beforeAcks in connect.ts). */
  beforeAcks?: () => boolean;
  /** True while acknowledgements are held: no delivery can be expected then. */
  holding: () => boolean;
  metrics: Pick<IngestMetrics, 'probes' | 'subscriptionOk'>;
  logger: Logger;
}

export interface IngestSubscription {
  /** Connected, and no probe lost since the last one that came back. */
  ready(): boolean;
  stop(): Promise<void>;
}

export async function startIngestSubscription(o: IngestSubscriptionOptions): Promise<IngestSubscription> {
  const log = o.logger.child({ component: 'mqtt-subscription' });
  const probe = new SubscriptionProbe({ intervalMs: o.probeIntervalMs, timeoutMs: o.probeTimeoutMs, now: Date.now, nonce: randomBytes(4).toString('hex') });
  const abort = new AbortController();
  let recovering = false;
  // Said once until a probe comes back, not at every interval.
  let refusalLogged = false;
  o.metrics.subscriptionOk.set(1);

  const handleMessage = (topic: string, payload: Buffer, done: () => void): void => {
    if (topic !== o.probeTopic) {
      probe.delivered();
      o.handleMessage(topic, payload, done);
      return;
    }
    const id = probeIdOf(payload);
    if (id !== undefined && probe.returned(id) !== undefined) {
      o.metrics.probes.inc({ outcome: 'returned' });
      o.metrics.subscriptionOk.set(1);
      refusalLogged = false;
    }
    done();
  };

  const open = async (): Promise<MqttClient> => {
    const c = await connectMqtt({ ...o.connect, handleMessage, ...(o.beforeAcks && { beforeAcks: o.beforeAcks }), logger: o.logger });
    // A reconnect by MQTT.js itself (broker restart): probe at once rather than trust the session.
    c.on('connect', () => probe.connected());
    try {
      await subscribeAsync(c, [...o.filters, o.probeTopic], 1);
    } catch (err) {
      c.end(true);
      throw err;
    }
    probe.connected();
    return c;
  };

  let client = await open();
  try {
    if (o.unsubscribe.length) {
      await client.unsubscribeAsync([...o.unsubscribe]);
      log.info({ filters: o.unsubscribe }, 'unsubscribed filters no longer in INGEST_SCOPES');
    }
    o.onSubscribed();
  } catch (err) {
    // Tried again at the next start: the record still names the old filters.
    log.warn({ err: (err as Error).message, filters: o.unsubscribe }, 'could not unsubscribe (or record) filters no longer in INGEST_SCOPES');
  }

  const recover = async (): Promise<void> => {
    recovering = true;
    client.end(true);
    try {
      const fresh = await retry(() => open(), {
        policy: { initialMs: 500, maxMs: 5000 }, signal: abort.signal,
        onRetry: (err, attempt) => log.warn({ err: (err as Error).message, attempt }, 'fresh MQTT connection failed; retrying'),
      });
      client = fresh;
      // Stopped while connecting: stop() ended the old client, not this one.
      if (abort.signal.aborted) fresh.end(true);
      else log.info('fresh MQTT connection subscribed again');
    } catch (err) {
      if (!abort.signal.aborted) log.error({ err: (err as Error).message }, 'could not take the MQTT session over on a fresh connection');
    } finally {
      recovering = false;
    }
  };

  const tick = (): void => {
    if (recovering || !client.connected) return;
    const action = probe.tick(o.holding());
    if (action.kind === 'send') {
      client.publish(o.probeTopic, probePayload(action.id), { qos: 1 }, (err) => {
        if (!err) return;
        // An ACL without the probe topic: a configuration error that no reconnect mends.
        if (mqttPublishError(err, o.probeTopic).code === 'UNAUTHORIZED' && probe.refused(action.id)) {
          o.metrics.probes.inc({ outcome: 'refused' });
          o.metrics.subscriptionOk.set(0);
          if (!refusalLogged) log.error({ err: err.message, topic: o.probeTopic }, `the broker refuses the subscription probe, so a lost subscription cannot be noticed: grant ${o.connect.username ?? 'this user'} read and write on ${ingestProbeRoot}/# in its ACL`);
          refusalLogged = true;
        } else {
          log.debug({ err: err.message }, 'subscription probe not sent');
        }
      });
    } else if (action.kind === 'lost') {
      o.metrics.probes.inc({ outcome: 'lost' });
      o.metrics.subscriptionOk.set(0);
      log.warn({ waitedMs: action.waitedMs, filters: o.filters }, 'subscription probe did not come back: the broker no longer delivers to this session; subscribing again on a fresh connection');
      void recover();
    }
  };
  const timer = setInterval(tick, Math.max(50, Math.min(o.probeIntervalMs, o.probeTimeoutMs) / 4));
  timer.unref();

  return {
    ready: () => !recovering && client.connected && probe.healthy,
    stop: async () => {
      clearInterval(timer);
      abort.abort();
      // A clean end flushes the socket, acknowledgements of the burst in hand too: they must be durable first.
      const durable = o.beforeAcks?.() ?? true;
      await new Promise<void>((resolve) => client.end(!durable, {}, () => resolve()));
    },
  };
}
