/**
 * Resolves a SenML pack (RFC 8428) into plain readings: base name, time, unit
 * and value are applied to each record; times are seconds; a time below 2^28
 * is relative to now (RFC 8428 section 4.5.3).
 */
import type { SenmlRecord } from '../../../shared/contracts/payloads.ts';

export interface SenmlReading {
  metric: string;
  unit: string;
  value: number;
  /** Epoch ms. */
  ts: number;
}

export type SenmlResult = { ok: true; readings: SenmlReading[] } | { ok: false; detail: string };

const relativeLimit = 2 ** 28;

export function resolveSenml(records: readonly SenmlRecord[], nowMs: number): SenmlResult {
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  const readings: SenmlReading[] = [];
  for (const [i, r] of records.entries()) {
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bu !== undefined) bu = r.bu;
    if (r.bv !== undefined) bv = r.bv;
    const mustUnderstand = Object.keys(r).find((k) => k.endsWith('_'));
    if (mustUnderstand) return { ok: false, detail: `record ${i}: unsupported must-understand field "${mustUnderstand}"` };
    if (r.v === undefined && r.s === undefined) {
      if (r.vs !== undefined || r.vb !== undefined || r.vd !== undefined) return { ok: false, detail: `record ${i}: only numeric values are readings` };
      // A record carrying only base fields is allowed.
      if (r.n === undefined) continue;
      return { ok: false, detail: `record ${i}: no value` };
    }
    const name = bn + (r.n ?? '');
    const metric = name.split(/[:/]/).pop() ?? '';
    if (!metric) return { ok: false, detail: `record ${i}: no name` };
    const unit = r.u ?? bu;
    if (!unit) return { ok: false, detail: `record ${i}: no unit for "${metric}"` };
    const t = bt + (r.t ?? 0);
    const seconds = t < relativeLimit ? nowMs / 1000 + t : t;
    readings.push({ metric, unit, value: (r.v ?? r.s ?? 0) + bv, ts: Math.round(seconds * 1000) });
  }
  if (readings.length === 0) return { ok: false, detail: 'the pack has no readings' };
  return { ok: true, readings };
}
