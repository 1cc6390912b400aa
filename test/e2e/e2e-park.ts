/**
 * The end-to-end scenario, shared by the embedded and the real-server runs: the
 * demo park under a park id of its own per run (tenant ids stay, so the
 * development passwords apply; a tenant may publish only under its own park, so
 * the real-server run gives its Mosquitto this registry), every meter reporting every 2 seconds,
 * and a timeline with a known breach. What the console must show afterwards is
 * written down here once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { repoRoot } from '../helpers/servers.ts';

export interface E2ePark {
  park: string;
  registryPath: string;
  scenarioPath: string;
  dir: string;
}

/** The development API token (services/console/dev-users.json): an operator of every park. */
export const devToken = 'eipt_dev-automation-token';

export const cadenceSeconds = 2;

/**
 * pH 4.6 at the WWTP outlet from 8 s to 24 s: the ww-ph-range rule (3 samples
 * outside 6..9) fires, then resolves when the pH is back. Nothing else breaches.
 */
export const scenario = `
- { at: "+8s", meter: wwtp-sparing-outlet, metric: ph, set: 4.6, for: "16s" }
`;

export interface ExpectedAlert {
  ruleId: string;
  meter: string;
  /** Every state the alert passes through, in order. */
  states: string[];
}

export const expectedAlerts: ExpectedAlert[] = [
  { ruleId: 'ww-ph-range', meter: 'wwtp-sparing-outlet', states: ['firing', 'resolved'] },
];

export function makeE2ePark(): E2ePark {
  const park = `e2e-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'eip-e2e-'));
  const registry = JSON.parse(readFileSync(join(repoRoot, 'shared/parks/demo-park.json'), 'utf8')) as { parks: Array<{ id: string; tenants: Array<{ meters: Array<{ cadenceSeconds: number }> }> }> };
  const p = registry.parks[0]!;
  p.id = park;
  for (const t of p.tenants) for (const m of t.meters) m.cadenceSeconds = cadenceSeconds;
  const registryPath = join(dir, 'registry.json');
  writeFileSync(registryPath, JSON.stringify(registry));
  const scenarioPath = join(dir, 'scenario.yaml');
  writeFileSync(scenarioPath, scenario);
  return { park, registryPath, scenarioPath, dir };
}
