/**
 * Kafka topic names and their settings, defined once. The bootstrap creates them;
 * producers and consumers import the names from here.
 */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** -1 keeps forever. */
  retentionMs: number;
  compacted: boolean;
  /** The topic's max.message.bytes: the largest record batch the broker takes (absent: the broker's default, about 1 MB). */
  maxMessageBytes?: number;
  /** How messages are keyed, which decides ordering and partitioning. */
  key: string;
  description: string;
}

const day = 86_400_000;

export const topics = {
  readings: { name: 'eip.readings.v1', partitions: 6, retentionMs: 7 * day, compacted: false, key: 'meter id', description: 'normalised readings from ingest' },
  aggregates: { name: 'eip.aggregates.v1', partitions: 6, retentionMs: 30 * day, compacted: false, key: 'meter id, or tenant / park id for roll-ups', description: 'event-time window aggregates' },
  alerts: { name: 'eip.alerts.v1', partitions: 3, retentionMs: 90 * day, compacted: false, key: 'alert fingerprint', description: 'every alert state transition' },
  alertCommands: { name: 'eip.alert-commands.v1', partitions: 3, retentionMs: 30 * day, compacted: false, key: 'alert fingerprint or silence id', description: 'acknowledge / resolve / silence commands from operators' },
  alertState: { name: 'eip.alert-state.v1', partitions: 3, retentionMs: -1, compacted: true, key: 'alert fingerprint', description: 'latest state per alert, restored by rules on start' },
  rulesRouted: { name: 'eip.rules-routed.v1', partitions: 6, retentionMs: 7 * day, compacted: false, key: 'the key that partitions the inputs of the alert state concerned (meter id, or tenant / park id), on that key\'s partition of the readings or aggregates topic; silence commands go to every partition', description: 'internal to rules: meter status and alert commands forwarded to the instance holding the alert state they concern; needs as many partitions as readings and aggregates' },
  aggregatorPartials: { name: 'eip.aggregator-partials.v1', partitions: 1, retentionMs: 7 * day, compacted: false, key: 'aggregator consumer group id', description: 'internal to the aggregator: per readings partition, partial tenant and park window summaries and the partition\'s watermark, combined into the roll-ups by the roll-up stage; one partition keeps each source\'s partials ordered before its watermark' },
  aggregatorState: { name: 'eip.aggregator-state.v1', partitions: 1, retentionMs: -1, compacted: true, maxMessageBytes: 16 * 2 ** 20, key: 'consumer group id / readings partition, and consumer group id / rollups', description: 'aggregator checkpoints, one per readings partition (open windows and register values) and one of the roll-up stage, restored when the partition is assigned; records up to 16 MiB, since a partition of many fast meters holds several MB of samples (a refused checkpoint holds its offsets uncommitted)' },
  deadLetters: { name: 'eip.deadletter.v1', partitions: 3, retentionMs: 30 * day, compacted: false, key: 'stage', description: 'refused input with its reason and raw payload' },
  meterStatus: { name: 'eip.meter-status.v1', partitions: 3, retentionMs: 30 * day, compacted: false, key: 'meter id', description: 'meter online / offline transitions' },
  consoleSessions: { name: 'eip.console-sessions.v1', partitions: 1, retentionMs: 31 * day, compacted: false, key: 'user name', description: 'internal to the console: sign-outs and revoked sessions, folded by every console instance so a session ended on one is refused by all; kept longer than the longest session (CONSOLE_SESSION_TTL_MS at most 30 days)' },
  submissions: { name: 'eip.report-submissions.v1', partitions: 1, retentionMs: -1, compacted: true, key: 'kind:station:period start (shared/contracts/submissions.ts)', description: 'regulatory submissions (SPARING, SISPEK): the reporting service\'s outbox and receipts, latest state per (kind, station, period)' },
  meterState: { name: 'eip.meter-state.v1', partitions: 3, retentionMs: -1, compacted: true, key: 'meter id', description: 'latest status per meter' },
} as const satisfies Record<string, TopicSpec>;

export type TopicKey = keyof typeof topics;
export const allTopics: readonly TopicSpec[] = Object.values(topics);
