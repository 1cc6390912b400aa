/**
 * The one place the pack resolves a meter's permit limit at an instant. The
 * registry holds one limit per metric today; dated permit versions will answer
 * here (versionAt) without the table builders changing.
 */
import type { Meter } from '../../../shared/contracts/park-registry.ts';
import type { z } from 'zod';
import type { limitSchema } from '../../../shared/contracts/park-registry.ts';

export type Limit = z.infer<typeof limitSchema>;

export function limitInForce(meter: Meter, metric: string, _at: number): Limit | undefined {
  const limits = meter.limits;
  return limits !== undefined && Object.hasOwn(limits, metric) ? limits[metric] : undefined;
}
