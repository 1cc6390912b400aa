import { Counter, Gauge, type Registry } from './metrics.ts';

export type SinkMetrics = ReturnType<typeof createSinkMetrics>;

/** What every stage's writes to its sinks report, labelled by stage and sink (shared/write-isolating.ts). */
export function createSinkMetrics(registry: Registry) {
  const r = { registers: [registry] };
  return {
    refused: new Counter({ name: 'eip_sink_refused_total', help: 'records a sink refused as not retriable, isolated and dead-lettered, by stage, sink and error code', labelNames: ['stage', 'sink', 'code'], ...r }),
    retries: new Counter({ name: 'eip_sink_write_retries_total', help: 'failed sink writes retried after a wait, by kind (retriable, or blocked: refused for a reason that is not the records\')', labelNames: ['stage', 'sink', 'kind'], ...r }),
    blocked: new Gauge({ name: 'eip_sink_blocked', help: '1 while a sink refuses writes for a reason that is not the records\' (credentials, a missing bucket or topic): the stage holds its input and retries', labelNames: ['stage', 'sink'], ...r }),
    deadLettersLost: new Counter({ name: 'eip_dead_letters_lost_total', help: 'dead letters the bus refused even without their payload (logged as errors)', labelNames: ['stage'], ...r }),
  };
}
