import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalise, metricCatalogue, metricNames } from './metric-catalogue.ts';
import { parseTimestamp, readingEnvelopeSchema, senmlPackSchema } from './payloads.ts';
import { parseMeterTopic, telemetryTopic, topicMatches, telemetryFilter, statusFilter, ingestFilters, ingestProbeTopic } from './mqtt-topics.ts';
import { mayPublish, maySubscribe, type MqttPrincipal } from './mqtt-acl.ts';
import { limitInForce, loadParkRegistry, demoParkPath, parseParkRegistry } from './park-registry.ts';
import { allTopics } from './kafka-topics.ts';
import { readingBatchEventSchema } from './events.ts';

describe('metric catalogue', () => {
  it('keeps canonical values as they are', () => {
    assert.deepEqual(normalise('active_energy_import', 'kWh', 12.5), { ok: true, metric: 'active_energy_import', unit: 'kWh', value: 12.5 });
  });
  it('converts the units meters really send', () => {
    const cases: Array<[string, string, number, number]> = [
      ['active_energy_import', 'Wh', 1500, 1.5],
      ['active_energy_import', 'MWh', 2, 2000],
      ['active_power', 'W', 2500, 2.5],
      ['power_factor', '%', 85, 0.85],
      ['water_flow', 'L/s', 10, 36],
      ['gas_energy', 'MMBTU', 1, 1.055056],
      ['so2', 'ppm', 100, (100 * 64.066) / 22.414],
      ['stack_temperature', 'K', 373.15, 100],
      ['co2e', 't CO2e', 1.2, 1200],
    ];
    for (const [metric, unit, value, expected] of cases) {
      const r = normalise(metric, unit, value);
      assert.ok(r.ok, `${metric} ${unit}`);
      assert.ok(Math.abs(r.value - expected) < 1e-9, `${metric} ${unit}: ${r.value} != ${expected}`);
    }
  });
  it('refuses unknown metrics and units with a reason that lists what is accepted', () => {
    assert.deepEqual(normalise('flux_capacitance', 'GW', 1.21), { ok: false, reason: 'unknown-metric', detail: 'unknown metric "flux_capacitance"' });
    const r = normalise('ph', 'mg/L', 7);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.reason === 'unknown-unit' && r.detail.includes('accepted: pH'));
  });
  it('refuses a conversion that overflows a double', () => {
    const r = normalise('active_energy_import', 'MWh', 1e306);
    assert.ok(!r.ok && r.reason === 'non-finite-value', JSON.stringify(r));
    assert.equal(normalise('active_energy_import', 'kWh', Number.MAX_VALUE).ok, true);
  });
  it('marks registers as cumulative and samples as instantaneous', () => {
    assert.equal(metricCatalogue.active_energy_import.kind, 'cumulative');
    assert.equal(metricCatalogue.water_intake.kind, 'cumulative');
    assert.equal(metricCatalogue.so2.kind, 'instantaneous');
    assert.ok(metricNames.length >= 20);
  });
});

describe('timestamps', () => {
  it('reads ISO 8601 with a zone, epoch seconds and epoch milliseconds', () => {
    assert.equal(parseTimestamp('2026-11-27T10:00:00Z'), Date.UTC(2026, 10, 27, 10));
    assert.equal(parseTimestamp('2026-11-27T18:00:00+08:00'), Date.UTC(2026, 10, 27, 10));
    assert.equal(parseTimestamp(1_764_237_600), 1_764_237_600_000);
    assert.equal(parseTimestamp(1_764_237_600_123), 1_764_237_600_123);
    assert.equal(parseTimestamp('1764237600'), 1_764_237_600_000);
  });
  it('reads epoch microseconds and nanoseconds by their magnitude, and never throws on extremes', () => {
    assert.equal(parseTimestamp(1_764_237_600_123_456), 1_764_237_600_123);
    assert.equal(parseTimestamp(Number('1764237600123456789')), 1_764_237_600_123);
    assert.equal(parseTimestamp(1e300), 1e294);
    assert.equal(parseTimestamp(Number.MAX_VALUE), Math.round(Number.MAX_VALUE / 1e6));
    assert.equal(parseTimestamp(Infinity), null);
  });
  it('refuses times without a zone and garbage', () => {
    assert.equal(parseTimestamp('2026-11-27T10:00:00'), null);
    assert.equal(parseTimestamp('yesterday'), null);
    assert.equal(parseTimestamp('2026-13-45T10:00:00Z'), null);
  });
});

describe('payload schemas', () => {
  it('accepts a reading envelope and refuses one without readings', () => {
    assert.ok(readingEnvelopeSchema.safeParse({ v: 1, ts: 1, seq: 1, readings: [{ metric: 'ph', value: 7, unit: 'pH' }] }).success);
    assert.equal(readingEnvelopeSchema.safeParse({ v: 1, ts: 1, seq: 1, readings: [] }).success, false);
    assert.equal(readingEnvelopeSchema.safeParse({ v: 2, ts: 1, seq: 1, readings: [{ metric: 'ph', value: 7, unit: 'pH' }] }).success, false);
    assert.equal(readingEnvelopeSchema.safeParse({ v: 1, ts: 1, seq: -1, readings: [{ metric: 'ph', value: 7, unit: 'pH' }] }).success, false);
  });
  it('accepts SenML records', () => {
    assert.ok(senmlPackSchema.safeParse([{ bn: 'wwtp:', bt: 1_764_237_600, n: 'ph', u: 'pH', v: 7.1 }, { n: 'cod', u: 'mg/L', v: 40 }]).success);
    assert.equal(senmlPackSchema.safeParse([{ n: 'ph', v: 'seven' }]).success, false);
  });
  it('refuses a reading event with a non-finite value', () => {
    assert.equal(readingBatchEventSchema.safeParse({ v: 1, park: 'p', tenant: 't', meter: 'm', seq: 1, receivedAt: 1, readings: [{ metric: 'ph', unit: 'pH', value: Number.NaN, ts: 1 }] }).success, false);
    assert.ok(readingBatchEventSchema.safeParse({ v: 1, park: 'p', tenant: 't', meter: 'm', seq: 1, receivedAt: 1, readings: [{ metric: 'ph', unit: 'pH', value: 7, ts: 1 }] }).success);
  });
});

describe('MQTT topics', () => {
  it('builds and parses meter topics', () => {
    const topic = telemetryTopic('nusantara-eip', 'sulawesi-nickel', 'snk-stack-rkef1');
    assert.equal(topic, 'eip/nusantara-eip/sulawesi-nickel/snk-stack-rkef1/telemetry');
    assert.deepEqual(parseMeterTopic(topic), { kind: 'telemetry', park: 'nusantara-eip', tenant: 'sulawesi-nickel', meter: 'snk-stack-rkef1' });
    assert.equal(parseMeterTopic('eip/p/t/m/other'), null);
    assert.equal(parseMeterTopic('eip/p/t/telemetry'), null);
    assert.equal(parseMeterTopic('eip/P A R K/t/m/telemetry'), null);
  });
  it('matches wildcards', () => {
    assert.ok(topicMatches(telemetryFilter, 'eip/p/t/m/telemetry'));
    assert.ok(!topicMatches(telemetryFilter, 'eip/p/t/m/status'));
    assert.ok(topicMatches('eip/+/alerts/#', 'eip/p/alerts/critical'));
    assert.ok(!topicMatches('eip/+/alerts/#', 'eip/p/t/alerts'));
  });
  it('turns ingest scopes into plain filters, one park or one tenant each', () => {
    assert.deepEqual(ingestFilters(['+']), [telemetryFilter, statusFilter]);
    assert.deepEqual(ingestFilters(['park-a', 'park-b/tenant-c', 'park-a']), [
      'eip/park-a/+/+/telemetry', 'eip/park-a/+/+/status', 'eip/park-b/tenant-c/+/telemetry', 'eip/park-b/tenant-c/+/status',
    ]);
    for (const bad of ['', '#', 'park-a/#', 'a/b/c', 'Park', 'park a', '+/']) assert.throws(() => ingestFilters([bad]), /not an ingest scope/, bad);
  });
  it('gives each ingest instance one probe topic outside the meter scheme', () => {
    assert.equal(ingestProbeTopic('ingest-host-1'), 'ingest/probe/ingest-host-1');
    assert.equal(ingestProbeTopic('a/b+#c'), 'ingest/probe/a_b__c');
    assert.equal(parseMeterTopic(ingestProbeTopic('x')), null);
  });
});

describe('MQTT access rules', () => {
  const tenant: MqttPrincipal = { username: 'sulawesi-nickel', role: 'tenant', park: 'nusantara-eip', tenant: 'sulawesi-nickel' };
  it('lets a tenant publish only under its own topics', () => {
    assert.ok(mayPublish(tenant, 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/telemetry'));
    assert.ok(mayPublish(tenant, 'eip/nusantara-eip/sulawesi-nickel/snk-elec-main/status'));
    assert.ok(!mayPublish(tenant, 'eip/nusantara-eip/celebes-battery/cbr-elec-main/telemetry'));
    assert.ok(!mayPublish(tenant, 'eip/nusantara-eip/alerts/critical'));
    assert.ok(!maySubscribe(tenant, 'eip/+/+/+/telemetry'));
  });
  it('gives services their own rights', () => {
    const ingest: MqttPrincipal = { username: 'ingest', role: 'ingest' };
    assert.ok(maySubscribe(ingest, 'eip/+/+/+/telemetry'));
    for (const f of ingestFilters(['park-a', 'park-b/tenant-c'])) assert.ok(maySubscribe(ingest, f), f);
    assert.ok(!maySubscribe(ingest, 'eip/#'));
    assert.ok(!maySubscribe(ingest, 'eip/+/+/#'));
    assert.ok(!mayPublish(ingest, 'eip/p/t/m/telemetry'));
    assert.ok(mayPublish(ingest, ingestProbeTopic('i-1')) && maySubscribe(ingest, ingestProbeTopic('i-1')));
    assert.ok(!mayPublish(ingest, 'ingest/probe/a/b') && !mayPublish(tenant, ingestProbeTopic('i-1')) && !maySubscribe(tenant, ingestProbeTopic('i-1')));
    const rules: MqttPrincipal = { username: 'rules', role: 'rules' };
    assert.ok(mayPublish(rules, 'eip/p/alerts/critical'));
    const consoleUser: MqttPrincipal = { username: 'console', role: 'console' };
    assert.ok(maySubscribe(consoleUser, 'eip/+/alerts/#'));
    assert.ok(!maySubscribe(consoleUser, 'eip/+/+/+/telemetry'));
  });
});

describe('park registry', () => {
  it('loads the demo park: an Indonesian park with at least five tenants', () => {
    const index = loadParkRegistry(demoParkPath);
    const park = index.registry.parks[0]!;
    assert.equal(park.country, 'ID');
    assert.ok(park.tenants.length >= 5);
    const sectors = park.tenants.map((t) => t.sector);
    for (const s of ['nickel-smelter', 'battery-recycler', 'textile-mill', 'food-plant', 'central-wwtp']) assert.ok(sectors.includes(s), s);
    const sparing = index.meter('wwtp-sparing-outlet');
    assert.equal(sparing?.meter.cadenceSeconds, 120);
    assert.equal(limitInForce(park, sparing.meter, 'ph', Date.parse('2026-11-27T10:00:00Z'))?.value.min, 6);
    assert.equal(index.meter('snk-stack-rkef1')?.tenant.id, 'sulawesi-nickel');
  });
  it('names the bad field of an invalid registry', () => {
    const bad = { version: 1, parks: [{ id: 'p', name: 'P', country: 'ID', timezone: 'UTC', usedAreaHa: 1, emissionFactors: {}, tenants: [{ id: 't', name: 'T', sector: 's', supplySource: 'grid', meters: [{ id: 'm', kind: 'water', cadenceSeconds: 60, metrics: ['water_intake', 'unobtainium'] }] }] }] };
    assert.throws(() => parseParkRegistry(bad), /parks\.0\.tenants\.0\.meters\.0\.metrics\.1: unknown metric/);
    assert.throws(() => parseParkRegistry(bad), /supplySource: "grid" is not in the park's emissionFactors/);
  });
  it('refuses tenant ids that would pass for a service or a reserved topic segment', () => {
    const withTenant = (id: string) => ({ version: 1, parks: [{ id: 'p', name: 'P', country: 'ID', timezone: 'UTC', usedAreaHa: 1, emissionFactors: { grid: { kgCo2ePerKwh: 1, source: 's' } }, tenants: [{ id, name: 'T', sector: 's', supplySource: 'grid', meters: [{ id: 'm', kind: 'water', cadenceSeconds: 60, metrics: ['water_intake'] }] }] }] });
    for (const id of ['simulator', 'ingest', 'rules', 'console', 'alerts', 'eip']) {
      assert.throws(() => parseParkRegistry(withTenant(id)), /parks\.0\.tenants\.0\.id: reserved: a tenant id must not be one of/, id);
    }
    for (const id of ['$sys', '+', '#', 'a/b', 'a.b', 'a:b']) assert.throws(() => parseParkRegistry(withTenant(id)), /parks\.0\.tenants\.0\.id/, id);
    assert.equal(parseParkRegistry(withTenant('simulator-co')).parks[0]!.tenants[0]!.id, 'simulator-co');
  });
});

describe('Kafka topics', () => {
  it('are versioned and unique, compacted where state is kept', () => {
    const names = allTopics.map((t) => t.name);
    assert.equal(new Set(names).size, names.length);
    for (const t of allTopics) assert.match(t.name, /^eip\.[a-z-]+\.v\d+$/);
    assert.ok(allTopics.filter((t) => t.compacted).every((t) => t.retentionMs === -1));
    assert.ok(names.includes('eip.deadletter.v1') && names.includes('eip.readings.v1'));
  });
});
