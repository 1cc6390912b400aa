import { Counter, Gauge, Histogram, type Registry } from '../../shared/observability/metrics.ts';
import { createSinkMetrics } from '../../shared/observability/sink-metrics.ts';
import type { EngineCounters } from './domain/index.ts';

export type RulesMetrics = ReturnType<typeof createRulesMetrics>;

export function createRulesMetrics(registry: Registry) {
  const r = { registers: [registry] };
  return {
    sinks: createSinkMetrics(registry),
    inputs: new Counter({ name: 'eip_rules_inputs_total', help: 'input records handled, by topic', labelNames: ['topic'], ...r }),
    invalid: new Counter({ name: 'eip_rules_invalid_inputs_total', help: 'input records that failed their schema (dead-lettered)', labelNames: ['topic'], ...r }),
    transitions: new Counter({ name: 'eip_rules_transitions_total', help: 'alert transitions, by new state and severity', labelNames: ['state', 'severity'], ...r }),
    notifications: new Counter({ name: 'eip_rules_notifications_total', help: 'notifications sent, by channel and outcome', labelNames: ['channel', 'outcome'], ...r }),
    states: new Gauge({ name: 'eip_rules_live_states', help: '(rule, scope) states held by this instance (those of its partitions)', ...r }),
    partitions: new Gauge({ name: 'eip_rules_partitions_held', help: 'input partitions assigned to this instance (1 while held)', labelNames: ['topic', 'partition'], ...r }),
    routed: new Counter({ name: 'eip_rules_routed_total', help: 'meter status and alert commands forwarded to the partition of the state they concern', labelNames: ['topic'], ...r }),
    firing: new Gauge({ name: 'eip_rules_open_alerts', help: 'alerts pending, firing or acknowledged', ...r }),
    stateRecords: new Counter({ name: 'eip_rules_state_records_total', help: 'changed (rule, scope) state records written to eip.alert-state.v1 (the checkpoint)', ...r }),
    stateBytes: new Counter({ name: 'eip_rules_state_bytes_total', help: 'bytes of the state records written (JSON values)', ...r }),
    writeSeconds: new Histogram({ name: 'eip_rules_write_seconds', help: 'time to write one turn\'s transitions and state records (until the bus acknowledged them)', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], ...r }),
    batchSeconds: new Histogram({ name: 'eip_rules_batch_seconds', help: 'time to evaluate a batch and write its transitions and state', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], ...r }),
  };
}

const notJudged: ReadonlyArray<[reason: string, key: keyof EngineCounters]> = [
  ['duplicate', 'duplicates'], ['no-o2', 'noO2'], ['incomplete', 'incomplete'], ['foreign', 'foreign'], ['unstorable', 'unstorable'],
];

/** Inputs the engine did not judge, by reason, read from its counters at each scrape. */
export function registerNotJudged(registry: Registry, counters: Readonly<EngineCounters>): void {
  new Counter({
    name: 'eip_rules_not_judged_total',
    help: 'inputs not judged, by reason: duplicate (replayed or older), no-o2 (no usable O2 for the correction), incomplete (window below minCompleteness), foreign (another park), unstorable (time beyond the store)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, key] of notJudged) this.inc({ reason }, counters[key]);
    },
  });
}
