/**
 * Silences: matchers over (park, tenant, meter, rule, metric), an absolute
 * [startsAt, endsAt) and optionally a recurring maintenance window inside it
 * (every `everyMs` from startsAt, lasting `durationMs`). A silenced alert still
 * changes state; the transition is marked so the runtime records it but does
 * not notify.
 */
import { z } from 'zod';
import { silenceMatcherSchema } from '../../../shared/contracts/events.ts';
import type { AlertScope } from './fingerprint.ts';
import { silenceInForce, silenceMatches as matches } from '../../../shared/contracts/silences.ts';

export const silenceRecordSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1),
  matchers: silenceMatcherSchema,
  startsAt: z.number(),
  endsAt: z.number(),
  recurrence: z.object({ everyMs: z.number().int().positive(), durationMs: z.number().int().positive() }).optional(),
  by: z.string(),
  comment: z.string().optional(),
});
export type SilenceRecord = z.infer<typeof silenceRecordSchema>;

export function silenceActive(s: SilenceRecord, t: number): boolean {
  return silenceInForce(s, t);
}

export function silenceMatches(s: SilenceRecord, ruleId: string, scope: AlertScope): boolean {
  return matches(s.matchers, { ruleId, ...scope });
}
