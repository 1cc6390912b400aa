/**
 * What the receivers get: the SPARING token payload and the SISPEK-style hourly
 * body. The stand-in receiver validates against these same schemas, so the
 * service and its test double cannot drift apart.
 */
import { z } from 'zod';

const finite = z.number().finite();

/** One 2-minute record; a parameter the logger did not send in that slot is null, never filled in. */
export const sparingRecordSchema = z.object({
  /** Epoch seconds, a multiple of 120. */
  datetime: z.number().int().nonnegative().refine((s) => s % 120 === 0, 'must be aligned to 2 minutes'),
  pH: finite.nullable(),
  cod: finite.nullable(),
  tss: finite.nullable(),
  nh3n: finite.nullable(),
  debit: finite.nullable(),
});
export type SparingRecord = z.infer<typeof sparingRecordSchema>;

/** The signed payload: the station and up to 30 records in time order, one per slot. */
export const sparingPayloadSchema = z.object({
  uid: z.string().min(1).max(200),
  data: z.array(sparingRecordSchema).min(1).max(30).superRefine((records, ctx) => {
    for (let i = 1; i < records.length; i++) {
      if (records[i]!.datetime <= records[i - 1]!.datetime) ctx.addIssue({ code: 'custom', path: [i, 'datetime'], message: 'records must be in time order, one per slot' });
    }
  }),
  /** Our additions, which a receiver that does not know them ignores: the period and its revision. */
  period: z.object({ start: z.number().int(), end: z.number().int(), revision: z.number().int().nonnegative(), expected: z.number().int().positive() }).optional(),
});
export type SparingPayload = z.infer<typeof sparingPayloadSchema>;

/** The request body: the token, as SPARING loggers post it. */
export const sparingRequestSchema = z.object({ token: z.string().min(1).max(200_000) });

export const validityFlags = ['valid', 'incomplete', 'maintenance', 'out-of-range'] as const;
export const validitySchema = z.enum(validityFlags);
export type Validity = z.infer<typeof validitySchema>;

export const sispekParameterSchema = z.object({
  parameter: z.string().min(1),
  unit: z.string().min(1),
  /** Mean of the hour's 5-minute values (null: none arrived). */
  mean: finite.nullable(),
  /** Concentrations only: the mean corrected to the stack's reference O2 with the same hour's O2 mean. */
  corrected: finite.nullable().optional(),
  min: finite.nullable(),
  max: finite.nullable(),
  /** 5-minute values behind the mean, and how many the hour should hold. */
  count: z.number().int().nonnegative(),
  expected: z.number().positive(),
  completeness: z.number().nonnegative(),
  validity: validitySchema,
  /** Why it is not valid, in words. */
  reason: z.string().optional(),
  /** The aggregate window's revision it was built from. */
  windowRevision: z.number().int().nonnegative(),
});
export type SispekParameter = z.infer<typeof sispekParameterSchema>;

export const sispekBodySchema = z.object({
  v: z.literal(1),
  stack: z.string().min(1),
  park: z.string().min(1),
  tenant: z.string().optional(),
  /** ISO 8601 UTC: the clock hour [start, end). */
  start: z.string().datetime(),
  end: z.string().datetime(),
  revision: z.number().int().nonnegative(),
  o2ReferencePercent: z.number().min(0).max(21).nullable(),
  parameters: z.array(sispekParameterSchema).min(1),
});
export type SispekBody = z.infer<typeof sispekBodySchema>;
