import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { loadParkRegistry, demoParkPath, parseParkRegistry, RegistryIndex } from '../../shared/contracts/park-registry.ts';
import { LoadRegistryError, maxMetersPerTenant, synthesiseLoadRegistry } from './load-registry.ts';

const demo = loadParkRegistry(demoParkPath).registry;
const demoTenants = demo.parks.flatMap((p) => p.tenants.map((t) => t.id));

const cases = [
  { meters: 1, generated: 0 },
  { meters: 7, generated: 0 },
  { meters: demoTenants.length * maxMetersPerTenant, generated: 0 },
  { meters: demoTenants.length * maxMetersPerTenant + 1, generated: 1 },
  { meters: 2345, generated: 24 - demoTenants.length },
];

for (const c of cases) {
  test(`${c.meters} load meters: spread evenly, at most ${maxMetersPerTenant} a tenant, ${c.generated} generated tenants, a registry the services accept`, () => {
    const out = synthesiseLoadRegistry(demo, c.meters);
    // The services parse it with the same schema (unique ids, known supply sources).
    const index = new RegistryIndex(parseParkRegistry(JSON.parse(JSON.stringify(out.registry))));
    assert.equal(out.meterIds.length, c.meters);
    assert.equal(new Set(out.meterIds).size, c.meters);
    assert.equal(out.added, c.meters);
    assert.equal(out.addedTenants.length, c.generated);

    const perTenant = new Map<string, number>();
    for (const id of out.meterIds) {
      const entry = index.meter(id);
      assert.ok(entry, id);
      perTenant.set(entry.tenant.id, (perTenant.get(entry.tenant.id) ?? 0) + 1);
      assert.equal(entry.meter.sparingUid, undefined);
    }
    const counts = [...perTenant.values()];
    assert.ok(Math.max(...counts) <= maxMetersPerTenant, `${Math.max(...counts)} on one tenant`);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `uneven: ${counts.join(',')}`);
    // The registry's own tenants are used before any is generated.
    assert.equal(perTenant.size, Math.min(c.meters, demoTenants.length + c.generated));
    for (const t of out.addedTenants) assert.match(t, /^load-t\d+$/);
    // The base meters are all still there, unchanged, and the input was not modified.
    for (const e of loadParkRegistry(demoParkPath).allMeters()) assert.deepEqual(index.meter(e.meter.id)?.meter, e.meter);
    assert.deepEqual(demo, loadParkRegistry(demoParkPath).registry);
  });
}

test('load meters take the shapes of their tenant\'s meters (or the model tenant\'s, for a generated one)', () => {
  const out = synthesiseLoadRegistry(demo, 1200);
  const index = new RegistryIndex(out.registry);
  const kinds = new Set<string>();
  for (const id of out.meterIds) {
    const { tenant, meter } = index.meter(id)!;
    const model = tenant.id.startsWith('load-t') ? demo.parks[0]!.tenants.find((t) => tenant.name.endsWith(`modelled on ${t.id})`))! : tenant;
    // The same meter but for its id (and a SPARING uid, which belongs to one real outlet).
    const { id: _id, ...shape } = meter;
    assert.ok(model.meters.some(({ id: _m, sparingUid: _uid, ...m }) => isDeepStrictEqual(m, shape)), `${id} on ${tenant.id} looks like none of ${model.id}'s meters`);
    kinds.add(meter.kind);
  }
  // Every kind of the demo park is represented.
  assert.deepEqual([...kinds].sort(), [...new Set(demo.parks[0]!.tenants.flatMap((t) => t.meters.map((m) => m.kind)))].sort());
});

test('idempotent: a registry written for N meters gains nothing on a second pass, and keeps them for fewer', () => {
  const first = synthesiseLoadRegistry(demo, 777);
  const again = synthesiseLoadRegistry(first.registry, 777);
  assert.equal(again.added, 0);
  assert.deepEqual(again.addedTenants, []);
  assert.deepEqual(again.registry, first.registry);
  const fewer = synthesiseLoadRegistry(first.registry, 300);
  assert.equal(fewer.added, 0);
  assert.deepEqual(fewer.meterIds, first.meterIds.slice(0, 300));
  const more = synthesiseLoadRegistry(first.registry, 800);
  assert.equal(more.added, 23);
  parseParkRegistry(more.registry);
});

test('refuses a count that is not a positive integer', () => {
  for (const n of [0, -1, 2.5, Number.NaN]) assert.throws(() => synthesiseLoadRegistry(demo, n), LoadRegistryError);
});
