import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { envBool, envEnum, envInt, envSecret, envString, envUrl } from '../../shared/config/env.ts';
import { commonEnv, opsPort } from '../../shared/config/common.ts';
import { busEnv, registryEnv } from '../../shared/config/adapters-env.ts';
import { EipError } from '../../shared/errors.ts';
import { debitUnits } from './domain/sparing.ts';

export type SparingMode = 'hourly' | '2min';

/** `hourly` or `2min`, then `uid=hourly|2min` per station: `hourly,SPARING-0002=2min`. */
export function parseSchedule(value: string): { fallback: SparingMode; byUid: Map<string, SparingMode> } {
  let fallback: SparingMode = 'hourly';
  const byUid = new Map<string, SparingMode>();
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [a, b, ...rest] = item.split('=');
    const mode = b === undefined ? a : b;
    if (rest.length > 0 || (mode !== 'hourly' && mode !== '2min') || (b !== undefined && !a)) throw new EipError('CONFIG_INVALID', `"${item}" is not hourly, 2min or uid=hourly|2min`);
    if (b === undefined) fallback = mode;
    else byUid.set(a!, mode);
  }
  return { fallback, byUid };
}

export interface MaintenancePeriod { stack: string; start: number; end: number }

/** `stack=start/end` (ISO 8601 with a zone), comma-separated. */
export function parseMaintenance(value: string): MaintenancePeriod[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean).map((item) => {
    const m = /^([^=\s]+)=([^/]+)\/(.+)$/.exec(item);
    const start = m ? Date.parse(m[2]!) : NaN;
    const end = m ? Date.parse(m[3]!) : NaN;
    const zoned = m !== null && [m[2]!, m[3]!].every((t) => /(Z|[+-]\d{2}:?\d{2})$/.test(t));
    if (!m || !zoned || !Number.isFinite(start) || !Number.isFinite(end) || end <= start) throw new EipError('CONFIG_INVALID', `"${item}" is not stack=start/end with ISO 8601 times carrying a zone, end after start`);
    return { stack: m[1]!, start, end };
  });
}

/** `metric=fullScale` or `stack.metric=fullScale`, comma-separated. */
export function parseRanges(value: string): Map<string, number> {
  const ranges = new Map<string, number>();
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+)=(\d+(?:\.\d+)?)$/.exec(item);
    if (!m) throw new EipError('CONFIG_INVALID', `"${item}" is not metric=number or stack.metric=number`);
    ranges.set(m[1]!, Number(m[2]));
  }
  return ranges;
}

const checked = (parse: (v: string) => unknown) => (value: string): string | undefined => {
  try {
    parse(value);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
};

/** A JSON object of station uid -> secret. */
export function readSecretsFile(path: string): Map<string, string> {
  if (path === '') return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new EipError('CONFIG_INVALID', `SPARING_SECRETS_FILE: cannot read ${path} as JSON`, { cause: err });
  }
  const result = z.record(z.string().min(1), z.string().min(16, 'a secret of at least 16 characters')).safeParse(parsed);
  if (!result.success) throw new EipError('CONFIG_INVALID', `SPARING_SECRETS_FILE: must be a JSON object of station uid -> secret (at least 16 characters each): ${result.error.issues[0]?.message ?? ''}`);
  return new Map(Object.entries(result.data));
}

const receiverDefault = 'http://127.0.0.1:9480';

export const reportingConfigSchema = z.object({
  ...commonEnv,
  ...opsPort(9468),
  ...busEnv,
  ...registryEnv,
  REPORTING_GROUP: envString('consumer group on the readings and aggregates topics', { default: 'reporting' }),
  REPORTING_START_FROM: envEnum('where a consumer group with no committed offsets starts on the readings and aggregates topics: earliest (report the retained history inside REPORTING_LOOKBACK_MS) or latest (only what arrives from now on)', ['earliest', 'latest'] as const, { default: 'earliest' }),
  REPORTING_LOOKBACK_MS: envInt('data older than this (by the clock) is not reported: a new group reading the topics from the start does not resubmit history', { default: 7 * 86_400_000, min: 60_000, max: 400 * 86_400_000 }),
  REPORTING_TICK_MS: envInt('how often the outbox is checked for submissions that are due', { default: 1_000, min: 50, max: 60_000 }),
  REPORTING_SETTLE_MS: envInt('a period is sent only once its content has not changed for this long (a batch still arriving)', { default: 5_000, min: 0, max: 600_000 }),
  REPORTING_RETRY_INITIAL_MS: envInt('first wait after a failed delivery; doubles on each failure (with jitter) up to REPORTING_RETRY_MAX_MS', { default: 5_000, min: 10, max: 3_600_000 }),
  REPORTING_RETRY_MAX_MS: envInt('longest wait between two deliveries of a failed submission', { default: 600_000, min: 10, max: 86_400_000 }),
  REPORTING_RESEND_REFUSED: envBool('at start, send the refused submissions again (after a wrong secret or URL was corrected); otherwise a refused one goes again only with new content', { default: false }),
  RECEIVER_TIMEOUT_MS: envInt('a receiver that has not answered within this long counts as failed (the submission is retried with the same idempotency key)', { default: 15_000, min: 100, max: 300_000 }),
  SPARING: envBool('send SPARING submissions for the meters with a sparingUid', { default: true }),
  SPARING_URL: envUrl('SPARING receiver: the JSON body {"token": <HS256 JWT>} is posted here', ['http', 'https'], { default: `${receiverDefault}/sparing` }),
  SPARING_SECRET: envSecret('signing secret of the stations SPARING_SECRETS_FILE does not name (the ministry gives each station its own)', { default: 'sparing-dev-secret' }),
  SPARING_SECRETS_FILE: envString('JSON file of station uid -> signing secret (empty: SPARING_SECRET for every station)', {
    default: '', minLength: 0, credentialsFile: true, check: checked(readSecretsFile),
  }),
  SPARING_SCHEDULE: envString('when each station sends: hourly (a batch of up to 30 records) or 2min (each record on its own), then uid=mode per station', {
    default: 'hourly', allowed: 'hourly or 2min, then uid=hourly|2min, comma-separated', check: checked(parseSchedule),
  }),
  SPARING_CLOSE_AFTER_MS: envInt('an hour\'s batch goes out this long after the hour, unless all 30 records or a later one came first (the same for a 2-minute slot)', { default: 300_000, min: 0, max: 86_400_000 }),
  SPARING_DEBIT_UNIT: envEnum('unit of debit (flow) in the records', Object.keys(debitUnits) as ['m3/h', 'm3/min', 'm3/s', 'L/s'], { default: 'm3/h' }),
  SISPEK: envBool('send SISPEK-style hourly averages for the stack-cems meters', { default: true }),
  SISPEK_URL: envUrl('SISPEK-style receiver: each stack hour is posted here as JSON', ['http', 'https'], { default: `${receiverDefault}/sispek` }),
  SISPEK_CLOSE_AFTER_MS: envInt('a stack hour goes out this long after the hour ends, unless every parameter\'s window came first', { default: 600_000, min: 0, max: 86_400_000 }),
  SISPEK_MIN_COMPLETENESS_PERCENT: envInt('a stack hour\'s parameter is valid with at least this share of its 5-minute values: 80 needs 10 of 12, so an analyser out for 15 minutes (9 of 12) leaves the hour incomplete, as the default rule pack judges stacks (75 is the project-wide default of shared/contracts/completeness.ts)', { default: 80, min: 1, max: 100 }),
  SISPEK_RANGES: envString('analysers\' full scale: metric=number or stack.metric=number, comma-separated; an hour reaching past it is out of range', {
    default: '', minLength: 0, allowed: 'metric=number or stack.metric=number, comma-separated', check: checked(parseRanges),
  }),
  MAINTENANCE_PERIODS: envString('maintenance and calibration periods: stack=start/end (ISO 8601 with a zone), comma-separated; an hour overlapping one is flagged maintenance', {
    default: '', minLength: 0, allowed: 'stack=start/end, comma-separated', check: checked(parseMaintenance),
  }),
});

export type ReportingConfig = z.infer<typeof reportingConfigSchema>;
