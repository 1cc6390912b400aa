/** Where the real servers started by infra/ listen, and the development credentials. */
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url).pathname;
const credentials = JSON.parse(readFileSync(`${root}infra/dev-credentials.json`, 'utf8')) as { services: Record<string, string>; tenantPassword: string };

export const repoRoot = root;
export const mqttUrl = process.env.EIP_TEST_MQTT_URL ?? `mqtt://127.0.0.1:${process.env.EIP_MQTT_PORT ?? '1883'}`;
export const kafkaBrokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.EIP_KAFKA_PORT ?? '9092'}`).split(',');
export const influx = {
  url: process.env.INFLUX_URL ?? `http://127.0.0.1:${process.env.EIP_INFLUX_PORT ?? '8086'}`,
  token: process.env.INFLUX_TOKEN ?? 'eip-dev-token',
  org: process.env.INFLUX_ORG ?? 'eip',
  bucket: process.env.INFLUX_BUCKET ?? 'telemetry',
};

export function servicePassword(user: string): string {
  const p = credentials.services[user];
  if (!p) throw new Error(`no development password for ${user}`);
  return p;
}

export function tenantPassword(tenant: string): string {
  return credentials.tenantPassword.replace('{tenant}', tenant);
}
