/**
 * When a silence is in force and what it matches: one definition for the rules
 * service (which mutes notifications) and the console (which marks alerts).
 */
import type { z } from 'zod';
import type { silenceMatcherSchema } from './events.ts';

export type SilenceMatchers = z.infer<typeof silenceMatcherSchema>;

export interface SilenceWindow {
  startsAt: number;
  endsAt: number;
  /** A recurring maintenance window inside [startsAt, endsAt): every everyMs from startsAt, lasting durationMs. */
  recurrence?: { everyMs: number; durationMs: number } | undefined;
}

export interface SilenceTarget {
  ruleId: string;
  park: string;
  tenant?: string | undefined;
  meter?: string | undefined;
  metric?: string | undefined;
}

/** The end is exclusive. */
export function silenceInForce(s: SilenceWindow, t: number): boolean {
  if (t < s.startsAt || t >= s.endsAt) return false;
  return !s.recurrence || (t - s.startsAt) % s.recurrence.everyMs < s.recurrence.durationMs;
}

/** Every matcher given must equal the target's value; an absent matcher matches anything. */
export function silenceMatches(m: SilenceMatchers, target: SilenceTarget): boolean {
  return (m.park === undefined || m.park === target.park)
    && (m.tenant === undefined || m.tenant === target.tenant)
    && (m.meter === undefined || m.meter === target.meter)
    && (m.ruleId === undefined || m.ruleId === target.ruleId)
    && (m.metric === undefined || m.metric === target.metric);
}
