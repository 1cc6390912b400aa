/**
 * The embedded MQTT broker for the one-command mode: aedes (MQTT 3.1.1 only) on
 * a local port, with the same users and the same ACL as the project's Mosquitto
 * (shared/contracts/mqtt-acl.ts). Its queue lives in memory: it is a
 * development broker, not a replacement for Mosquitto's persistence.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { Aedes, type AuthenticateError } from 'aedes';
import { mayPublish, maySubscribe, roleOf } from '../../contracts/mqtt-acl.ts';
import type { Logger } from '../../observability/logger.ts';
import { EipError } from '../../errors.ts';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  users: ReadonlyMap<string, string>;
  logger: Logger;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const authError = (message: string): AuthenticateError => Object.assign(new Error(message), { returnCode: 4 as const });

function samePassword(expected: string, given: Buffer | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  return a.length === given.length && timingSafeEqual(a, given);
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = options.logger.child({ component: 'embedded-broker' });
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const expected = username === undefined ? undefined : options.users.get(username);
      if (expected === undefined || !samePassword(expected, password)) {
        log.warn({ clientId: client.id, username }, 'refused MQTT login');
        return done(authError('bad user name or password'), false);
      }
      (client as unknown as { eipUser: string }).eipUser = username!;
      done(null, true);
    },
    authorizePublish: (client, packet, callback) => {
      // Will messages and the broker's own ($SYS) messages come without a client check here.
      if (!client) return callback(null);
      const username = (client as unknown as { eipUser?: string }).eipUser ?? '';
      if (mayPublish({ username, role: roleOf(username) }, packet.topic)) return callback(null);
      log.warn({ username, topic: packet.topic }, 'refused publish outside the ACL');
      callback(new Error('not authorized'));
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const username = (client as unknown as { eipUser?: string }).eipUser ?? '';
      if (maySubscribe({ username, role: roleOf(username) }, subscription.topic)) return callback(null, subscription);
      log.warn({ username, filter: subscription.topic }, 'refused subscription outside the ACL');
      // A null subscription answers the SUBACK with a failure code, as Mosquitto does.
      callback(null, null);
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
  log.info({ url, users: options.users.size }, 'embedded MQTT broker (aedes, MQTT 3.1.1) listening');
  return {
    port,
    url,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
