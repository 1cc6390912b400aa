/**
 * Reads what a pack is computed from: the stored 1-hour meter windows (store),
 * the alert history (the console's read model when there is one, and the
 * store's alert_event points), and the submission records (the compacted
 * submissions topic, through the bus port).
 */
import { defaultMinCompleteness } from '../../../shared/contracts/completeness.ts';
import { topics } from '../../../shared/contracts/kafka-topics.ts';
import type { Park, Tenant } from '../../../shared/contracts/park-registry.ts';
import { submissionRecordSchema, type SubmissionRecord } from '../../../shared/contracts/submissions.ts';
import type { EventBus } from '../../../shared/ports/event-bus.ts';
import type { AggregatePoint, TimeSeriesStore } from '../../../shared/ports/time-series.ts';
import { readAlertHistory } from '../alert-history.ts';
import type { AlertBoard } from '../read-model/alert-board.ts';
import { buildCompliancePack, type CompliancePack } from './compliance-pack.ts';
import { tenantsOf, type PackInput } from './pack-input.ts';
import { monthPeriod } from './pack-period.ts';

export interface PackSources {
  store: TimeSeriesStore;
  bus: EventBus;
  /** The console's alert read model; the CLI has none and reads the store alone. */
  board?: AlertBoard | undefined;
  now: () => number;
}

export interface PackRequest {
  park: Park;
  tenant?: Tenant | undefined;
  /** YYYY-MM in the park's zone. */
  month: string;
  minCompleteness?: number;
  /** Called as each source is read (the CLI prints it). */
  progress?: (step: string) => void;
}

export interface LoadedPack {
  pack: CompliancePack;
  /** Submission records on the topic that did not parse (skipped). */
  unreadableSubmissions: number;
}

export async function loadPackInput(sources: PackSources, req: PackRequest): Promise<{ input: PackInput; unreadableSubmissions: number }> {
  const period = monthPeriod(req.month, req.park.timezone);
  const now = sources.now();
  const progress = req.progress ?? (() => undefined);
  const tenants = tenantsOf(req);
  const metrics = [...new Set(tenants.flatMap((t) => t.meters.flatMap((m) => m.metrics)))].sort();
  const scope = { park: req.park.id, ...(req.tenant && { tenant: req.tenant.id }) };
  const hours: AggregatePoint[] = [];
  for (const [i, metric] of metrics.entries()) {
    progress(`hourly windows: ${metric} (${i + 1} of ${metrics.length})`);
    hours.push(...await sources.store.queryStoredAggregates({ scope, aggregateScope: 'meter', metric, window: '1h', from: period.from, to: period.to }));
  }
  progress('alert history');
  const alerts = await readAlertHistory(sources.store, sources.board, { park: req.park.id, tenant: req.tenant?.id, from: period.from, to: period.to });
  progress('submissions');
  const { records, unreadable } = await readSubmissions(sources.bus);
  return {
    input: { park: req.park, tenant: req.tenant, period, now, hours, alerts, submissions: records, minCompleteness: req.minCompleteness ?? defaultMinCompleteness },
    unreadableSubmissions: unreadable,
  };
}

export async function loadPack(sources: PackSources, req: PackRequest): Promise<LoadedPack> {
  const { input, unreadableSubmissions } = await loadPackInput(sources, req);
  return { pack: buildCompliancePack(input), unreadableSubmissions };
}

/** The latest record per key; a record that is not the contract's is skipped and counted. */
export async function readSubmissions(bus: EventBus): Promise<{ records: SubmissionRecord[]; unreadable: number }> {
  const latest = await bus.readCompacted(topics.submissions.name);
  const records: SubmissionRecord[] = [];
  let unreadable = 0;
  for (const value of latest.values()) {
    let json: unknown;
    try {
      json = JSON.parse(value.toString('utf8'));
    } catch {
      unreadable++;
      continue;
    }
    const r = submissionRecordSchema.safeParse(json);
    if (r.success) records.push(r.data);
    else unreadable++;
  }
  return { records, unreadable };
}
