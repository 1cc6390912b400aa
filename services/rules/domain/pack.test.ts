import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EipError } from '../../../shared/errors.ts';
import { demoParkPath, loadParkRegistry } from '../../../shared/contracts/park-registry.ts';
import { compile } from './compile.ts';
import { RulesEngine } from './engine.ts';
import { defaultRulePackPath, parseRulePack, type PackIssue } from './pack.ts';
import { packText, registry, rule, states, T0, MIN } from './testing.ts';

const yamlRule = (body: string) => `version: 1
rules:
  - id: ww-cod-mean
    version: 1
    description: COD mean
    source: Permen LH 03/2010
${body}`;

function errorOf(text: string): { message: string; issues: PackIssue[] } {
  try {
    parseRulePack(text);
  } catch (err) {
    assert.ok(err instanceof EipError);
    assert.equal(err.code, 'CONFIG_INVALID');
    return { message: err.message, issues: (err.details?.issues as PackIssue[] | undefined) ?? [] };
  }
  assert.fail('expected the pack to be refused');
}

describe('rule pack validation: errors name the rule, the field and the line', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a window that is not an aggregate size', yamlRule('    kind: rolling\n    selector: { metric: cod }\n    input: aggregate\n    window: 2h\n    levels: { critical: {} }\n    limit: 100\n    params: { over: 1h }\n'),
      /rule "ww-cod-mean" \(line 10\): window: must be one of 1m, 15m, 1h, 1d/],
    ['an unknown kind', yamlRule('    kind: bogus\n    selector: { metric: cod }\n    levels: { critical: {} }\n'),
      /rule "ww-cod-mean" \(line 7\): kind: must be one of threshold, consecutive/],
    ['an unknown metric', yamlRule('    kind: threshold\n    selector: { metric: warp }\n    limit: 1\n    levels: { critical: {} }\n'),
      /rule "ww-cod-mean" \(line 8\): selector\.metric: unknown metric "warp"/],
    ['an unknown field (a typo)', yamlRule('    kind: threshold\n    selector: { metric: cod }\n    limit: 1\n    levels: { critical: {} }\n    hysterisis: { clearFraction: 0.9 }\n'),
      /rule "ww-cod-mean" \(line \d+\): unknown field "hysterisis"/],
    ['a bad duration', yamlRule('    kind: sustained\n    selector: { metric: cod }\n    limit: 1\n    levels: { critical: {} }\n    params: { duration: soon }\n'),
      /rule "ww-cod-mean" \(line 11\): params\.duration: must be a duration like 90s, 10m, 1h, 90d \(got "soon"\)/],
    ['a missing parameter', yamlRule('    kind: consecutive\n    selector: { metric: cod }\n    limit: 1\n    levels: { critical: {} }\n    params: {}\n'),
      /rule "ww-cod-mean" \(line 11\): params\.samples:/],
    ['a negative factor', yamlRule('    kind: threshold\n    selector: { metric: cod }\n    limit: 100\n    levels: { warning: { factor: -1 } }\n'),
      /rule "ww-cod-mean" \(line 10\): levels\.warning\.factor:/],
    ['no limit and no threshold', yamlRule('    kind: threshold\n    selector: { metric: cod }\n    levels: { critical: {} }\n'),
      /rule "ww-cod-mean" \(line \d+\): limit: is required/],
    ['a deadman level without after', yamlRule('    kind: deadman\n    selector: { meterKinds: [stack-cems] }\n    levels: { warning: { factor: 2 } }\n'),
      /rule "ww-cod-mean" \(line 9\): levels\.warning\.after: deadman levels need after/],
    ['a per-sample kind on aggregates', yamlRule('    kind: consecutive\n    selector: { metric: cod }\n    input: aggregate\n    window: 1h\n    limit: 1\n    levels: { critical: {} }\n    params: { samples: 3 }\n'),
      /rule "ww-cod-mean" \(line 9\): input: kind consecutive works on readings only/],
    ['a budget on readings', yamlRule('    kind: budget\n    selector: { metric: water_intake }\n    limit: 1\n    levels: { warning: {} }\n    params: { period: day }\n'),
      /input: kind budget works on aggregates only/],
    ['aggregate input without a window', yamlRule('    kind: threshold\n    selector: { metric: cod }\n    input: aggregate\n    limit: 1\n    levels: { critical: {} }\n'),
      /rule "ww-cod-mean" \(line \d+\): window: is required with input: aggregate/],
    ['an override naming two scopes', yamlRule('    kind: threshold\n    selector: { metric: cod }\n    limit: 1\n    levels: { critical: {} }\n    overrides:\n      - { park: p1, meter: m-ww, limit: 2 }\n'),
      /rule "ww-cod-mean" \(line 12\): overrides\.0: an override names exactly one of park, tenant, meter/],
    ['an exceedance share level above 1', yamlRule('    kind: exceedance-share\n    selector: { metric: so2 }\n    limit: 550\n    levels: { critical: { threshold: 5 } }\n    params: { over: 90d }\n'),
      /levels\.critical\.threshold: exceedance-share levels need threshold, a share between 0 and 1/],
    ['a registry limit at tenant scope', yamlRule('    kind: budget\n    selector: { metric: water_intake, scope: tenant }\n    input: aggregate\n    window: 1h\n    limit: contracted-kw\n    levels: { warning: {} }\n    params: { period: day }\n'),
      /limit: contracted-kw is a meter property/],
  ];
  for (const [name, text, expected] of cases) {
    it(`refuses ${name}`, () => assert.match(errorOf(text).message, expected));
  }

  it('names a rule without an id by its position, and reports duplicates', () => {
    const text = packText(rule({ id: 'dup' }), rule({ id: 'dup' }), { ...rule(), id: undefined });
    const { message } = errorOf(text);
    assert.match(message, /rule "#3"/);
    const { issues } = errorOf(`version: 1\nrules:\n  - ${JSON.stringify(rule({ id: 'dup' }))}\n  - ${JSON.stringify(rule({ id: 'dup' }))}\n`);
    assert.deepEqual(issues.map((i) => [i.ruleId, i.line, i.field]), [['dup', 4, 'id']]);
    assert.match(issues[0]!.message, /duplicate rule id "dup"/);
  });

  it('reports YAML syntax errors with line and column', () => {
    assert.throws(() => parseRulePack('version: 1\nrules: [1,\n'), /not valid YAML: line \d+, column \d+/);
  });

  it('lists every problem at once', () => {
    const { issues } = errorOf(yamlRule('    kind: threshold\n    selector: { metric: warp }\n    limit: 1\n    levels: { critical: { factor: 0 } }\n'));
    assert.equal(issues.length, 2);
  });

  it('accepts YAML merge keys for shared settings (anchors live under definitions)', () => {
    const pack = parseRulePack(`version: 1
definitions:
  wq: &wq
    version: 1
    source: Permen LH 03/2010
    kind: threshold
    levels: { critical: {} }
rules:
  - { <<: *wq, id: a, description: A, selector: { metric: cod }, limit: 100 }
  - { <<: *wq, id: b, description: B, selector: { metric: tss }, limit: 150 }
`);
    assert.deepEqual(pack.rules.map((r) => [r.id, r.kind, r.source]), [['a', 'threshold', 'Permen LH 03/2010'], ['b', 'threshold', 'Permen LH 03/2010']]);
  });
});

describe('the default rule pack', () => {
  const demo = loadParkRegistry(demoParkPath);
  const pack = parseRulePack(readFileSync(defaultRulePackPath, 'utf8'), defaultRulePackPath);

  it('loads, and every rule cites its source', () => {
    assert.ok(pack.rules.length >= 18);
    for (const r of pack.rules) assert.ok(r.source.length > 5, r.id);
  });

  it('resolves limits from the demo registry (permits stay configuration)', () => {
    const { bindings } = compile(pack, demo);
    const find = (ruleId: string, meterOrTenant: string) => bindings.find((b) => b.rule.spec.id === ruleId && (b.scope.meter ?? b.scope.tenant) === meterOrTenant);
    const so2 = find('stack-so2-1h', 'snk-stack-rkef1');
    assert.equal(so2?.levels[0]?.t, 550);
    assert.equal(so2?.limits.at(-1)?.source, 'Persetujuan Teknis stack RKEF-1 (demo value)');
    assert.equal(so2?.o2Ref, 7);
    assert.equal(find('stack-pm-1h', 'cbr-stack-furnace')?.levels[0]?.t, 100);
    const ph = find('ww-ph-range', 'wwtp-sparing-outlet');
    assert.deepEqual([ph?.levels[0]?.lo, ph?.levels[0]?.hi], [6, 9]);
    const cod = find('ww-cod-mean', 'cbr-pretreat-outlet');
    assert.deepEqual(cod?.levels.map((l) => [l.sev, l.t]), [['warning', 80], ['critical', 100]]);
    assert.ok(Math.abs((find('ww-daily-discharge', 'wwtp-discharge')?.levels[0]?.t ?? 0) - 69.1 * 420) < 1e-6);
    assert.equal(find('elec-demand-near-contract', 'snk-elec-main')?.levels[0]?.t, 120000 * 0.9);
    const scope2 = find('scope2-budget', 'sulawesi-nickel');
    assert.equal(scope2?.levels[0]?.t, 80_000_000);
    assert.deepEqual(scope2?.factors.map((f) => f.kgCo2ePerKwh), [1.0]);
    assert.equal(find('scope2-budget', 'celebes-battery')?.factors.at(-1)?.kgCo2ePerKwh, 0.73);
    assert.equal(find('water-intake-budget', 'bugis-textile')?.levels[0]?.t, 2500);
    // The register rules judge with the meter's register profile: the rating, else a rate from contractedKw.
    assert.equal(find('meter-register-jump', 'snk-elec-main')?.register?.maxStepPerHour, 150000);
    assert.deepEqual([find('meter-register-fall', 'cbr-elec-main')?.register?.wrapRatePerHour, find('meter-register-fall', 'cbr-elec-main')?.register?.wrapRateSource], [9000, 'contracted-kw']);
    // NH3-N has no registry limit on the battery recycler's outlet: the regulation default applies.
    assert.equal(find('ww-nh3n-mean', 'wwtp-sparing-outlet')?.levels[0]?.t, 20);
  });

  it('skips (and says why) where the registry has no limit and the rule has no default', () => {
    const { skipped } = compile(pack, demo);
    assert.ok(!skipped.some((s) => s.ruleId.startsWith('meter-register-')), 'register rules need no limit: every electricity meter has a profile');
    assert.ok(skipped.some((s) => s.ruleId === 'scope2-budget' && s.scope.tenant === 'park-wwtp'));
  });

  it('fires the pH rule on the third consecutive out-of-range sample at the central outlet', () => {
    const e = new RulesEngine(pack, demo);
    const out = [7.5, 5.5, 5.4, 5.3].map((ph, i) => {
      const ts = T0 + i * 2 * MIN;
      return e.onReading({ v: 1, park: 'nusantara-eip', tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet', seq: i, receivedAt: ts, simulated: false, readings: [{ metric: 'ph', unit: 'pH', value: ph, ts }] }, ts);
    });
    assert.deepEqual(out.map(states), [[], [], [], ['firing:critical']]);
    assert.equal(out[3]?.[0]?.event.ruleId, 'ww-ph-range');
    assert.deepEqual(out[3]?.[0]?.event.provenance.values, [5.5, 5.4, 5.3]);
    assert.equal(out[3]?.[0]?.event.provenance.threshold, 6);
  });

  it('overrides per park, tenant and meter: the most specific wins', () => {
    const p = parseRulePack(packText(rule({
      selector: { metric: 'cod' }, limit: 100,
      overrides: [{ park: 'p1', limit: 90 }, { tenant: 't1', limit: 80, source: 'tenant permit 12/2025' }, { meter: 'm-ww2', disabled: true }],
    })));
    const { bindings } = compile(p, registry);
    assert.deepEqual(bindings.map((b) => [b.scope.meter, b.levels[0]?.t, b.limits[0]?.source]), [['m-ww', 80, 'tenant permit 12/2025']]);
  });
});
