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
