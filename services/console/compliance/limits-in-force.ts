/**
 * The one place the pack resolves a meter's permit limit at an instant: the
 * registry's dated version in force then (versionAt), so each hour is judged
 * by its own permit version and a revision mid-month splits the rows.
 */
import { limitInForce as registryLimitInForce, type LimitValue, type Meter, type Park } from '../../../shared/contracts/park-registry.ts';

export interface Limit {
  min?: number | undefined;
  max?: number | undefined;
  dailyMaxPerUsedHa?: number | undefined;
  /** The permit or regulation, with the version's reference and validity when dated. */
  source: string;
}

// One Limit per registry version (keyed by the parsed registry entry, which is stable where the
// Dated wrapper of an undated limit is not), so rows keyed by it group the hours of one version.
const byVersion = new WeakMap<LimitValue, Limit>();

export function limitInForce(park: Park, meter: Meter, metric: string, at: number): Limit | undefined {
  const version = registryLimitInForce(park, meter, metric, at);
  if (!version) return undefined;
  let limit = byVersion.get(version.value);
  if (!limit) {
    const v = version.value;
    const validity = version.from === undefined ? '' : `, in force from ${version.from}${version.to === undefined ? '' : ` to ${version.to}`}`;
    const source = v.source !== undefined && v.source !== version.reference ? `${v.source} (${version.reference}${validity})` : `${version.reference}${validity}`;
    limit = { min: v.min, max: v.max, dailyMaxPerUsedHa: v.dailyMaxPerUsedHa, source };
    byVersion.set(version.value, limit);
  }
  return limit;
}
