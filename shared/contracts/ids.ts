import { z } from 'zod';

/** Park, tenant and meter ids appear in MQTT topics and as InfluxDB tags: keep them plain. */
export const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_", starting with a letter or digit');

export type Id = z.infer<typeof idSchema>;

/** Milliseconds since the Unix epoch. */
export const epochMsSchema = z.number().int().nonnegative();

/**
 * The last millisecond the time-series store can hold: InfluxDB keeps int64
 * nanoseconds, so nothing after 2262-04-11T23:47:16.854Z. Event times beyond it
 * pass epochMsSchema but no stage can store what they produce.
 */
export const maxStorableEpochMs = 9_223_372_036_854;
