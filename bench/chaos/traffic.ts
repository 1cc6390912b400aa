/**
 * What the chaos run publishes: a park of electricity meters (two
 * instantaneous readings a message) and one wastewater outlet whose pH leaves
 * its range once a minute, plus poison messages. The publisher keeps every
 * message until the broker acknowledges it and publishes it again when that
 * does not happen (a broker restart, a pause), so the expected set is simply
 * everything planned: at least once from the meter, duplicates removed by
 * (meter, seq) and point identity downstream.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { telemetryTopic } from '../../shared/contracts/mqtt-topics.ts';
import { mulberry32 } from '../../simulators/domain/prng.ts';

export const park = 'chaos-park';
export const phMeter = 'chaos-outlet';
export const phTenant = 'chaos-wwtp';

interface Fleet {
  registry: object;
  meters: Array<{ tenant: string; meter: string }>;
}

export function chaosFleet(meterCount: number, tenants = 5): Fleet {
  const meters = Array.from({ length: meterCount }, (_, i) => ({ tenant: `chaos-t${i % tenants}`, meter: `chaos-m${i}` }));
  const byTenant = new Map<string, string[]>();
  for (const m of meters) byTenant.set(m.tenant, [...(byTenant.get(m.tenant) ?? []), m.meter]);
  return {
    meters,
    registry: {
      version: 1,
      parks: [{
        id: park, name: 'chaos', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 100,
        emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'chaos run' } },
        tenants: [
          ...[...byTenant].map(([id, ids]) => ({ id, name: id, sector: 'chaos', supplySource: 'grid',
            meters: ids.map((m) => ({ id: m, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power', 'power_factor'] })) })),
          { id: phTenant, name: phTenant, sector: 'wastewater', supplySource: 'grid',
            meters: [{ id: phMeter, kind: 'wastewater-quality', cadenceSeconds: 1, metrics: ['ph'], limits: { ph: { min: 6, max: 9, source: 'chaos run' } } }] },
        ],
      }],
    },
  };
}

/** pH of the outlet at second s of the run: out of range for 15 s of every minute. */
export const phAt = (second: number): number => (second % 60 >= 20 && second % 60 < 35 ? 10.5 : 7.2);

export const powerAt = (meterIndex: number, seq: number): number => Math.round((100 + ((meterIndex * 31 + seq * 7) % 97) * 1.5) * 100) / 100;
export const powerFactorAt = (meterIndex: number, seq: number): number => Math.round((0.8 + ((meterIndex + seq) % 19) / 100) * 1000) / 1000;

/** Poison of every kind ingest must refuse, each payload distinct; each gets its own dead letter. */
export function poisonPayload(i: number, seed: number, now: number): { meterIndex: number; payload: string | Buffer; unknownMeter?: boolean } {
  const rng = mulberry32(seed * 1_000_003 + i);
  const meterIndex = Math.floor(rng() * 1e9);
  const seq = 1_000_000_000 + i;
  const kinds: Array<() => string | Buffer> = [
    () => Buffer.from(Array.from({ length: 40 }, () => Math.floor(rng() * 256))),
    () => `{"v":1,"ts":${now},"seq":${seq},"readings":[{"metric":"active_power","value":1`,
    () => `{"v":1,"ts":${now},"seq":${seq},"readings":[{"metric":"active_power","value":"NaN","unit":"kW"}]}`,
    () => `{"v":1,"ts":1e300,"seq":${seq},"readings":[{"metric":"active_power","value":1,"unit":"kW"}]}`,
    () => `{"v":1,"ts":0,"seq":${seq},"readings":[{"metric":"active_power","value":1,"unit":"kW"}]}`,
    () => `{"v":1,"ts":1e16,"seq":${seq},"readings":[{"metric":"active_power","value":1,"unit":"kW"}]}`,
    () => `{"v":1,"ts":${now},"seq":${seq},"readings":[{"metric":"active_power","value":1e306,"unit":"MW"}]}`,
    () => `{"v":1,"seq":${seq},"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    () => `[{"bn":"x${i}:","bt":-1e308,"n":"active_power","u":"kW","v":1}]`,
    () => `{"v":1,"ts":${now},"seq":${seq},"readings":[{"metric":"nonsense","value":1,"unit":"kW"}]}`,
  ];
  const k = i % (kinds.length + 1);
  if (k === kinds.length) return { meterIndex, unknownMeter: true, payload: `{"v":1,"ts":${now},"seq":${seq},"readings":[{"metric":"active_power","value":1,"unit":"kW"}]}` };
  return { meterIndex, payload: kinds[k]!() };
}

interface PublisherStats {
  planned: number;
  acknowledged: number;
  republished: number;
}

interface Pending {
  topic: string;
  payload: string | Buffer;
  sentAt: number;
}

/**
 * Publishes QoS 1 with at most `inflight` unacknowledged; anything that fails
 * or stays unacknowledged for `resendAfterMs` is published again.
 */
export class ResilientPublisher {
  private readonly client: MqttClient;
  private readonly pending = new Map<number, Pending>();
  private readonly retry: number[] = [];
  private next = 0;
  readonly stats: PublisherStats = { planned: 0, acknowledged: 0, republished: 0 };

  private readonly inflight: number;
  private readonly resendAfterMs: number;
  constructor(url: string, username: string, password: string, clientId: string, inflight = 2_000, resendAfterMs = 20_000) {
    this.inflight = inflight;
    this.resendAfterMs = resendAfterMs;
    this.client = mqtt.connect(url, { username, password, clientId, protocolVersion: 5, clean: true, reconnectPeriod: 500, connectTimeout: 5_000 });
    this.client.on('error', () => { /* reconnects by itself; failures show as resends */ });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get canSend(): boolean {
    return this.pending.size < this.inflight;
  }

  send(topic: string, payload: string | Buffer): void {
    const id = this.next++;
    this.stats.planned++;
    this.pending.set(id, { topic, payload, sentAt: Date.now() });
    this.publish(id);
  }

  /** Resends what failed or went quiet; call it periodically. */
  sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) if (now - p.sentAt > this.resendAfterMs) this.retry.push(id);
    while (this.retry.length && this.client.connected) {
      const id = this.retry.shift()!;
      if (!this.pending.has(id)) continue;
      this.stats.republished++;
      this.publish(id);
    }
  }

  private publish(id: number): void {
    const p = this.pending.get(id)!;
    p.sentAt = Date.now();
    this.client.publish(p.topic, p.payload, { qos: 1 }, (err) => {
      if (!this.pending.has(id)) return;
      if (err) {
        this.retry.push(id);
        return;
      }
      this.pending.delete(id);
      this.stats.acknowledged++;
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

export const meterTopic = (tenant: string, meter: string): string => telemetryTopic(park, tenant, meter);
