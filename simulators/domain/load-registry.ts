/**
 * The park registry of a load run: the base registry plus N synthetic meters
 * (`load-m0` ...), spread round-robin over the registry's tenants, and over
 * generated tenants (`load-t0` ...) once those would carry more than
 * maxMetersPerTenant each. Ingest and the brokers only accept meters and
 * tenants they find in the registry, so the services must read this registry
 * too: the CLI writes it with --write-registry.
 *
 * Idempotent: synthetic meters and generated tenants already in the base are
 * kept as they are, so a run on a written registry adds nothing.
 */
import type { Meter, ParkRegistry, Tenant } from '../../shared/contracts/park-registry.ts';

/** One MQTT connection per tenant: beyond this many meters a tenant more is generated. */
export const maxMetersPerTenant = 100;

export const loadMeterId = (i: number): string => `load-m${i}`;
export const loadTenantId = (j: number): string => `load-t${j}`;
const isLoadMeter = (id: string): boolean => /^load-m\d+$/.test(id);
const isLoadTenant = (id: string): boolean => /^load-t\d+$/.test(id);

export interface LoadRegistry {
  registry: ParkRegistry;
  /** The N meters a load run publishes for, in order. */
  meterIds: string[];
  /** Meters this call added (0 on a registry that already has them). */
  added: number;
  /** Tenants this call added. */
  addedTenants: string[];
}

export class LoadRegistryError extends Error {}

export function synthesiseLoadRegistry(base: ParkRegistry, meters: number): LoadRegistry {
  if (!Number.isInteger(meters) || meters < 1) throw new LoadRegistryError(`the number of load meters must be a positive integer, not ${meters}`);
  const registry = structuredClone(base);
  const firstPark = registry.parks[0]!;
  const tenants = registry.parks.flatMap((park) => park.tenants);
  // Real tenants lend their meters' shapes (kind, metrics, limits) to the synthetic ones.
  const models = tenants.filter((t) => !isLoadTenant(t.id) && t.meters.some((m) => !isLoadMeter(m.id)));
  if (models.length === 0) throw new LoadRegistryError('the registry has no tenant with a meter to model load meters on');
  const existing = new Set(tenants.flatMap((t) => t.meters.map((m) => m.id)));
  const slots = Math.max(models.length, Math.ceil(meters / maxMetersPerTenant));
  const addedTenants: string[] = [];

  const tenantOfSlot = (slot: number): { tenant: Tenant; model: Tenant } => {
    if (slot < models.length) return { tenant: models[slot]!, model: models[slot]! };
    const model = models[(slot - models.length) % models.length]!;
    const id = loadTenantId(slot - models.length);
    let tenant = tenants.find((t) => t.id === id);
    if (!tenant) {
      tenant = { id, name: `Load tenant ${slot - models.length} (generated, modelled on ${model.id})`, sector: model.sector, supplySource: model.supplySource, meters: [] };
      // Its supply source must be in the park's emission factors, so it joins the model's park.
      const park = registry.parks.find((p) => p.tenants.some((t) => t.id === model.id)) ?? firstPark;
      park.tenants.push(tenant);
      tenants.push(tenant);
      addedTenants.push(id);
    }
    return { tenant, model };
  };

  const meterIds: string[] = [];
  let added = 0;
  for (let i = 0; i < meters; i++) {
    const id = loadMeterId(i);
    meterIds.push(id);
    if (existing.has(id)) continue;
    const slot = i % slots;
    const { tenant, model } = tenantOfSlot(slot);
    const shapes = model.meters.filter((m) => !isLoadMeter(m.id));
    const shape = shapes[Math.floor(i / slots) % shapes.length]!;
    tenant.meters.push(synthesiseMeter(shape, id));
    added++;
  }
  return { registry, meterIds, added, addedTenants };
}

function synthesiseMeter(shape: Meter, id: string): Meter {
  // A SPARING station id belongs to one real outlet: a copy must not claim it.
  const { sparingUid: _uid, ...rest } = shape;
  return { ...structuredClone(rest), id };
}
