import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { datedVersions, instantMs, versionAt, versionIssues } from './validity.ts';
import { factorInForce, limitInForce, parseParkRegistry } from './park-registry.ts';

const t = (iso: string) => Date.parse(iso);

describe('instantMs', () => {
  const cases: Array<[string, string, number]> = [
    ['a date is midnight in the park time zone (UTC+8)', '2026-11-15', t('2026-11-14T16:00:00Z')],
    ['a date-time with Z', '2026-11-15T12:00:00Z', t('2026-11-15T12:00:00Z')],
    ['a date-time with an offset', '2026-11-15T12:00+08:00', t('2026-11-15T04:00:00Z')],
    ['fractions of a second', '2026-11-15T12:00:00.250-01:30', t('2026-11-15T13:30:00.250Z')],
    ['no such day', '2026-02-30', Number.NaN],
    ['no such day in a date-time', '2026-02-30T00:00:00Z', Number.NaN],
    ['no such month', '2026-13-01', Number.NaN],
    ['a local time without an offset is ambiguous', '2026-11-15T12:00:00', Number.NaN],
    ['not a date', 'next Tuesday', Number.NaN],
  ];
  for (const [name, s, want] of cases) it(name, () => assert.deepEqual(instantMs(s, 'Asia/Makassar'), want));

  it('reads a date at local midnight across a DST change (Europe/Berlin)', () => {
    assert.equal(instantMs('2026-03-29', 'Europe/Berlin'), t('2026-03-28T23:00:00Z'));
    assert.equal(instantMs('2026-03-30', 'Europe/Berlin'), t('2026-03-29T22:00:00Z'));
  });
});

describe('versionAt', () => {
  const v = (fromMs: number, toMs: number, name: string) => ({ fromMs, toMs, name });
  const versions = [v(10, 20, 'a'), v(20, 30, 'b'), v(40, Number.POSITIVE_INFINITY, 'c')];
  const cases: Array<[string, number, string | undefined]> = [
    ['before the first version', 9, undefined],
    ['at the first from (inclusive)', 10, 'a'],
    ['inside the first', 19.999, 'a'],
    ['at a to (exclusive): the next version', 20, 'b'],
    ['in a gap between versions', 35, undefined],
    ['at the start of an open-ended version', 40, 'c'],
    ['long after, an open-ended version still holds', 1e15, 'c'],
  ];
  for (const [name, at, want] of cases) it(name, () => assert.equal(versionAt(versions, at)?.name, want));

  it('the undated form is in force at any time', () => {
    const [always] = datedVersions({ max: 1, source: 'permit' }, 'UTC');
    for (const at of [-1e15, 0, Date.now(), 1e15]) assert.equal(versionAt([always!], at), always);
    assert.equal(always!.reference, 'permit');
  });

  it('finds the one version among many (binary search agrees with a scan)', () => {
    const many = Array.from({ length: 50 }, (_, i) => v(i * 10, i * 10 + (i % 3 === 0 ? 5 : 10), String(i)));
    for (let at = -5; at < 510; at += 0.5) {
      const scan = many.find((x) => at >= x.fromMs && at < x.toMs);
      assert.equal(versionAt(many, at), scan, `at ${at}`);
    }
  });
});

describe('versionIssues', () => {
  const tz = 'UTC';
  it('accepts adjacent versions (to of one = from of the next)', () => {
    assert.deepEqual(versionIssues([{ from: '2026-01-01', to: '2026-06-01' }, { from: '2026-06-01' }], tz), []);
  });
  it('refuses an overlap, naming both versions', () => {
    const issues = versionIssues([{ from: '2026-01-01', to: '2026-06-02' }, { from: '2026-06-01' }], tz);
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0]!.path, [1, 'from']);
    assert.match(issues[0]!.message, /overlaps version 0 \(from 2026-01-01 to 2026-06-02\)/);
  });
  it('refuses an overlap hidden behind a shorter version', () => {
    const issues = versionIssues([{ from: '2026-01-01' }, { from: '2026-02-01', to: '2026-03-01' }, { from: '2026-04-01', to: '2026-05-01' }], tz);
    assert.deepEqual(issues.map((i) => i.path), [[1, 'from'], [2, 'from']]);
  });
  it('refuses from at or after to', () => {
    assert.deepEqual(versionIssues([{ from: '2026-06-01', to: '2026-06-01' }], tz).map((i) => i.path), [[0, 'to']]);
    assert.match(versionIssues([{ from: '2026-06-02', to: '2026-06-01' }], tz)[0]!.message, /must be after from/);
  });
});

describe('dated limits and factors in the park registry', () => {
  const registry = (limits: unknown, factors: unknown = { grid: { kgCo2ePerKwh: 0.7, source: 'grid' } }) => ({
    version: 1,
    parks: [{
      id: 'p', name: 'P', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 1, emissionFactors: factors,
      tenants: [{ id: 't', name: 'T', sector: 's', supplySource: 'grid', meters: [{ id: 'm', kind: 'stack-cems', cadenceSeconds: 300, metrics: ['so2'], limits: { so2: limits } }] }],
    }],
  });
  const path = 'parks.0.tenants.0.meters.0.limits.so2';

  it('keeps the undated form valid: always in force', () => {
    const reg = parseParkRegistry(registry({ max: 550, source: 'permit' }));
    const park = reg.parks[0]!;
    const meter = park.tenants[0]!.meters[0]!;
    assert.equal(limitInForce(park, meter, 'so2', 0)?.value.max, 550);
    assert.equal(limitInForce(park, meter, 'so2', t('2099-01-01T00:00:00Z'))?.value.max, 550);
    assert.equal(factorInForce(park, 'grid', 0)?.value.kgCo2ePerKwh, 0.7);
  });

  it('resolves a revised permit and a revised factor by event time, dates at local midnight', () => {
    const reg = parseParkRegistry(registry(
      [{ max: 800, from: '2021-03-01', to: '2026-11-15', reference: 'PTek 17/2021' }, { max: 550, from: '2026-11-15', reference: 'PTek 17/2021 rev. 1' }],
      { grid: [{ kgCo2ePerKwh: 0.77, from: '2024-01-01', to: '2026-11-20T12:00:00+08:00', reference: 'EF 2023' }, { kgCo2ePerKwh: 0.73, from: '2026-11-20T12:00:00+08:00', reference: 'EF 2026' }] },
    ));
    const park = reg.parks[0]!;
    const meter = park.tenants[0]!.meters[0]!;
    const limit = (iso: string) => limitInForce(park, meter, 'so2', t(iso));
    assert.equal(limit('2021-02-28T15:59:59Z'), undefined); // before the first permit
    assert.equal(limit('2026-11-14T15:59:59Z')?.value.max, 800); // 23:59:59 local on the 14th
    assert.equal(limit('2026-11-14T16:00:00Z')?.value.max, 550); // local midnight of the 15th
    assert.equal(limit('2026-11-14T16:00:00Z')?.reference, 'PTek 17/2021 rev. 1');
    assert.equal(factorInForce(park, 'grid', t('2026-11-20T03:59:59Z'))?.value.kgCo2ePerKwh, 0.77);
    assert.equal(factorInForce(park, 'grid', t('2026-11-20T04:00:00Z'))?.value.kgCo2ePerKwh, 0.73);
  });

  const refused: Array<[string, unknown, unknown, RegExp]> = [
    ['overlapping permit versions', [{ max: 800, from: '2021-03-01', to: '2026-11-16', reference: 'a' }, { max: 550, from: '2026-11-15', reference: 'b' }], undefined, new RegExp(`${path.replaceAll('.', '\\.')}\\.1\\.from: overlaps version 0`)],
    ['from after to', [{ max: 800, from: '2026-11-15', to: '2026-11-01', reference: 'a' }], undefined, new RegExp(`${path.replaceAll('.', '\\.')}\\.0\\.to: to \\(2026-11-01\\) must be after from`)],
    ['a version without from in a list', [{ max: 800, reference: 'a' }], undefined, /limits\.so2\.0\.from: a version in a list needs from/],
    ['a version in a list without its reference', [{ max: 800, from: '2026-11-15' }], undefined, /limits\.so2\.0\.reference: a dated version needs the reference/],
    ['a limit that is neither an object nor a list', '550', undefined, /limits\.so2: must be a limit \(\{min, max, source\}\) object, or a list of dated versions/],
    ['a single dated limit without its reference', { max: 800, from: '2026-11-15', source: 'permit' }, undefined, /limits\.so2\.reference: a dated version needs the reference/],
    ['a to without a from', { max: 800, to: '2026-11-15', source: 'permit' }, undefined, /limits\.so2\.to: to needs a from/],
    ['a date that does not exist', [{ max: 800, from: '2026-02-30', reference: 'a' }], undefined, /limits\.so2\.0\.from: "2026-02-30" is not a real date/],
    ['a local time without an offset', [{ max: 800, from: '2026-11-15T12:00:00', reference: 'a' }], undefined, /limits\.so2\.0\.from: an ISO 8601 date \(YYYY-MM-DD, midnight in the park's time zone\) or date-time with an offset/],
    ['a version with no bound', [{ from: '2026-11-15', reference: 'a' }], undefined, /limits\.so2\.0: a limit needs min, max or dailyMaxPerUsedHa/],
    ['overlapping factor versions', { max: 1, source: 'p' }, { grid: [{ kgCo2ePerKwh: 0.7, from: '2026-01-01', reference: 'a' }, { kgCo2ePerKwh: 0.6, from: '2026-06-01', reference: 'b' }] }, /parks\.0\.emissionFactors\.grid\.1\.from: overlaps version 0 \(from 2026-01-01\)/],
  ];
  for (const [name, limits, factors, message] of refused) {
    it(`refuses ${name}, naming the path`, () => {
      assert.throws(() => parseParkRegistry(registry(limits, factors)), message);
    });
  }

  it('refuses a park time zone that does not exist, naming it, before reading any date in it', () => {
    const bad = registry([{ max: 800, from: '2026-11-15', reference: 'a' }]);
    bad.parks[0]!.timezone = 'Mars/Olympus_Mons';
    assert.throws(() => parseParkRegistry(bad), /parks\.0\.timezone: "Mars\/Olympus_Mons" is not an IANA time zone/);
  });

  it('accepts a single dated version (a permit in force from a date)', () => {
    const reg = parseParkRegistry(registry({ max: 550, from: '2026-11-15', reference: 'PTek 1', source: 'permit' }));
    const park = reg.parks[0]!;
    assert.equal(limitInForce(park, park.tenants[0]!.meters[0]!, 'so2', t('2026-11-14T00:00:00Z')), undefined);
    assert.equal(limitInForce(park, park.tenants[0]!.meters[0]!, 'so2', t('2026-11-15T00:00:00Z'))?.value.max, 550);
  });
});
