import { Counter, Gauge, Histogram, type Registry } from '../../shared/observability/metrics.ts';
import { createSinkMetrics } from '../../shared/observability/sink-metrics.ts';

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

/** What the backlog gauges read at each scrape, so they are current even when the drain loop is not running. */
export interface SpoolGauges {
  readonly pending: number;
  readonly pendingBytes: number;
}

export function createIngestMetrics(registry: Registry, spool?: SpoolGauges) {
  const r = { registers: [registry] };
  return {
    sinks: createSinkMetrics(registry),
    received: new Counter({ name: 'eip_ingest_messages_received_total', help: 'MQTT messages received and spooled', ...r }),
    readingsWritten: new Counter({ name: 'eip_ingest_readings_written_total', help: 'readings stored in the time-series store and produced to the bus', ...r }),
    messagesWritten: new Counter({ name: 'eip_ingest_messages_written_total', help: 'meter messages whose readings are stored and produced', ...r }),
    statusEvents: new Counter({ name: 'eip_ingest_status_events_total', help: 'birth and last-will messages turned into meter-status events', labelNames: ['status'], ...r }),
    deadLettered: new Counter({ name: 'eip_ingest_dead_lettered_total', help: 'messages sent to the dead-letter topic', labelNames: ['reason'], ...r }),
    duplicates: new Counter({ name: 'eip_ingest_duplicates_total', help: 'messages dropped as a repeat of (meter, seq)', ...r }),
    spoolPending: new Gauge({ name: 'eip_ingest_spool_pending_messages', help: 'messages spooled and not yet in both sinks (the backlog), read at scrape', ...r, ...(spool && { collect() { this.set(spool.pending); } }) }),
    spoolBytes: new Gauge({ name: 'eip_ingest_spool_pending_bytes', help: 'bytes spooled and not yet in both sinks, read at scrape', ...r, ...(spool && { collect() { this.set(spool.pendingBytes); } }) }),
    inFlight: new Gauge({ name: 'eip_ingest_in_flight_messages', help: 'messages in the batches being written (one at the store, one on the bus)', ...r }),
    probes: new Counter({ name: 'eip_ingest_subscription_probes_total', help: 'subscription probes by outcome: returned, or lost (then a fresh connection subscribes again)', labelNames: ['outcome'], ...r }),
    subscriptionOk: new Gauge({ name: 'eip_ingest_subscription_ok', help: '1 while the last subscription probe came back, 0 from a lost probe until one returns', ...r }),
    backpressure: new Gauge({ name: 'eip_ingest_backpressure', help: '1 while ingest holds MQTT acknowledgements: the spool is at its message or byte bound, or cannot write', ...r }),
    spoolBlocked: new Gauge({ name: 'eip_ingest_spool_blocked', help: '1 while spool appends fail (full disk, I/O error) and acknowledgements are held until they pass', ...r }),
    spoolWriteErrors: new Counter({ name: 'eip_ingest_spool_write_errors_total', help: 'failed spool appends, each retried with backoff, by error code', labelNames: ['code'], ...r }),
    batchSize: new Histogram({ name: 'eip_ingest_batch_messages', help: 'messages per drained batch', buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000], ...r }),
    writeLatency: new Histogram({ name: 'eip_ingest_write_seconds', help: 'time to write one batch to a sink, retries included', labelNames: ['sink'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], ...r }),
    storedLatency: new Histogram({
      name: 'eip_ingest_event_to_stored_seconds', help: 'from the reading\'s event time to stored in both sinks',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300], ...r,
    }),
  };
}
