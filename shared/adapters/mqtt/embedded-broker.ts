/**
 * The embedded MQTT broker for the one-command mode: aedes (MQTT 3.1.1 only) on
 * a local port, with the same accounts and the same rules as the project's
 * Mosquitto (shared/contracts/mqtt-acl.ts): a client id belongs to its user,
 * publishes and subscriptions are checked against the account's grants, and a
 * message reaches a client only on a topic it may read. Its queue lives in
 * memory: it is a development broker, not a replacement for Mosquitto's persistence.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { mayPublish, mayReceive, maySubscribe, ownsClientId, type MqttPrincipal } from '../../contracts/mqtt-acl.ts';
import type { Logger } from '../../observability/logger.ts';
import { EipError } from '../../errors.ts';
import type { MqttAccounts } from './credentials.ts';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  accounts: MqttAccounts;
  logger: Logger;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

// MQTT 3.1.1 CONNACK codes: 4 bad user name or password, 5 not authorised.
const authError = (message: string, returnCode: 4 | 5): AuthenticateError => Object.assign(new Error(message), { returnCode });

const principals = new WeakMap<Client, MqttPrincipal>();

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = options.logger.child({ component: 'embedded-broker' });
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const account = username === undefined ? undefined : options.accounts.get(username);
      const refuse = (why: string, code: 4 | 5): void => {
        log.warn({ clientId: client.id, username }, why);
        done(authError(why, code), false);
      };
      if (!account || !password) return refuse('refused MQTT login', 4);
      account.check(password).then((ok) => {
        if (!ok) return refuse('refused MQTT login', 4);
        // Before aedes looks the id up: a foreign id must neither resume nor cut another user's session.
        if (!ownsClientId(account.principal.username, client.id)) return refuse('refused a client id of another user', 5);
        const will = (client as unknown as { _will?: { topic: string; retain?: boolean } | null })._will;
        if (will && !mayPublish(account.principal, will.topic, will.retain === true)) return refuse('refused a last will outside the ACL', 5);
        principals.set(client, account.principal);
        done(null, true);
      }, (err: Error) => refuse(`password check failed: ${err.message}`, 4));
    },
    authorizePublish: (client, packet, callback) => {
      // The broker's own ($SYS) messages come without a client; a will comes with its client, checked here again as at connect.
      if (!client) return callback(null);
      const p = principals.get(client);
      if (p && mayPublish(p, packet.topic, packet.retain)) return callback(null);
      log.warn({ username: p?.username, topic: packet.topic, retain: packet.retain }, 'refused publish outside the ACL');
      callback(new Error('not authorized'));
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const p = principals.get(client);
      if (p && maySubscribe(p, subscription.topic)) return callback(null, subscription);
      log.warn({ username: p?.username, filter: subscription.topic }, 'refused subscription outside the ACL');
      // A null subscription answers the SUBACK with a failure code, as Mosquitto does.
      callback(null, null);
    },
    authorizeForward: (client, packet) => {
      const p = principals.get(client);
      return p && mayReceive(p, packet.topic) ? packet : null;
    },
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      broker.close();
      // Most often another broker (the Mosquitto from infra/) holds the port.
      reject(err.code === 'EADDRINUSE'
        ? new EipError('CONFIG_INVALID', `${options.host}:${options.port} is already in use (another MQTT broker?); set EMBEDDED_BROKER_PORT to a free port`, { cause: err })
        : err);
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `mqtt://${options.host}:${port}`;
  log.info({ url, accounts: options.accounts.all().length, credentials: options.accounts.source }, 'embedded MQTT broker (aedes, MQTT 3.1.1) listening');
  return {
    port,
    url,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
