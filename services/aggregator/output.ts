/** What both aggregator stages write: aggregate points for the time-series store, and gzipped checkpoints. */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AggregateEvent } from '../../shared/contracts/events.ts';
import type { AggregatePoint } from '../../shared/ports/time-series.ts';

export function toAggregatePoint(a: AggregateEvent): AggregatePoint {
  return {
    scope: a.scope, park: a.park, tenant: a.tenant, meter: a.meter, metric: a.metric, unit: a.unit, window: a.window, start: a.start,
    count: a.count, sum: a.sum, min: a.min, max: a.max, mean: a.mean, last: a.last, consumption: a.consumption, completeness: a.completeness,
    ...(a.simulated && { simulated: true }),
  };
}

/** Gzipped JSON of a checkpoint. */
export function packCheckpoint(value: unknown): Buffer {
  return gzipSync(JSON.stringify(value));
}

export function unpackCheckpoint(saved: Buffer): unknown {
  return JSON.parse(gunzipSync(saved).toString('utf8')) as unknown;
}
