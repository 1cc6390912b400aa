/**
 * Ingest: MQTT (plain subscriptions over its scopes, QoS 1, persistent session, probed) -> durable spool
 * -> InfluxDB + Kafka, with dead letters, dedup and backpressure.
 */
import { runMain } from '../../shared/runtime/run-main.ts';
import { ingestConfigSchema, type IngestConfig } from './config.ts';
import type { MainContext } from '../../shared/runtime/run-main.ts';
import { startIngest } from './ingest.ts';

export async function start(config: IngestConfig, ctx: MainContext): Promise<void> {
  const ingest = await startIngest(config, ctx.logger, ctx.shutdown);
  ctx.shutdown.register('ingest', () => ingest.stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain({ service: 'ingest', summary: 'MQTT meter readings to the time-series store and the event bus, at least once', schema: ingestConfigSchema, start });
}
