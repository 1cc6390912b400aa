/** The auditor's compliance pack: every table, computed from the data it is given (pure). */
import { buildAlerts, type AlertTables } from './alerts-table.ts';
import { buildCompleteness, type CompletenessRow } from './completeness-table.ts';
import { buildExceedances, type ExceedanceTables } from './exceedance-table.ts';
import type { PackInput } from './pack-input.ts';
import { buildSubmissions, type SubmissionRow } from './submissions-table.ts';

export interface CompliancePack {
  park: { id: string; name: string; timezone: string };
  tenant: { id: string; name: string } | undefined;
  month: string;
  from: number;
  to: number;
  generatedAt: number;
  minCompleteness: number;
  exceedances: ExceedanceTables;
  completeness: CompletenessRow[];
  alerts: AlertTables;
  submissions: SubmissionRow[];
}

export function buildCompliancePack(input: PackInput): CompliancePack {
  return {
    park: { id: input.park.id, name: input.park.name, timezone: input.park.timezone },
    tenant: input.tenant ? { id: input.tenant.id, name: input.tenant.name } : undefined,
    month: input.period.month,
    from: input.period.from,
    to: input.period.to,
    generatedAt: input.now,
    minCompleteness: input.minCompleteness,
    exceedances: buildExceedances(input),
    completeness: buildCompleteness(input),
    alerts: buildAlerts(input),
    submissions: buildSubmissions(input),
  };
}
