/**
 * The fault schedule of the chaos run: pure and seeded, so a failing run can be
 * replayed exactly with its --seed. Faults are spread over the publishing time,
 * one at a time, each kind at least once when there is room for it.
 */
import { mulberry32 } from '../../simulators/domain/prng.ts';

export const faultKinds = [
  'kill-ingest', 'kill-aggregator', 'kill-rules',
  'restart-kafka', 'restart-influxdb', 'restart-mosquitto', 'pause-mosquitto',
] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface PlannedFault {
  kind: FaultKind;
  /** Milliseconds after publishing starts. */
  atMs: number;
  /** How long the component stays down (killed, stopped or paused). */
  downMs: number;
}

export function planFaults(seed: number, count: number, spanMs: number, kinds: readonly FaultKind[] = faultKinds): PlannedFault[] {
  const rng = mulberry32(seed);
  // Every kind once (shuffled), then random kinds.
  const order = [...kinds];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  while (order.length < count) order.push(kinds[Math.floor(rng() * kinds.length)]!);
  const chosen = order.slice(0, count);
  // Evenly spaced slots with jitter, leaving the first and last tenth quiet.
  const slot = (spanMs * 0.8) / Math.max(1, chosen.length);
  return chosen.map((kind, i) => ({
    kind,
    atMs: Math.round(spanMs * 0.1 + slot * i + rng() * slot * 0.3),
    downMs: Math.round(1_000 + rng() * 4_000),
  }));
}
