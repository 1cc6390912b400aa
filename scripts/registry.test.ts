import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoParkPath, loadParkRegistry } from '../shared/contracts/park-registry.ts';
import { registerProfile } from '../shared/domain/register.ts';
import { declareChange, help, main } from './registry.ts';
import { spanAt } from './json-spans.ts';

const run = (args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } => {
  let out = '';
  let err = '';
  const code = main(args, env, (s) => { out += s; }, (s) => { err += s; });
  return { code, out, err };
};

const copy = (): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'eip-registry-')), 'park.json');
  copyFileSync(demoParkPath, file);
  chmodSync(file, 0o640);
  return file;
};

const swap = ['--meter', 'cbr-elec-main', '--metric', 'active_energy_import', '--at', '2026-11-20T09:30:00+08:00', '--kind', 'swap', '--old-final', '523411.6', '--new-initial', '0.2', '--reference', 'WO-2026-114'];

describe('npm run registry -- declare-change', () => {
  it('adds the declaration to the meter, keeps the rest of the file as it was, and the services read it', () => {
    const file = copy();
    const before = readFileSync(file, 'utf8');
    const r = run(['declare-change', '--file', file, ...swap]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /declared swap of cbr-elec-main active_energy_import .* restart the services to apply it/);
    const after = readFileSync(file, 'utf8');
    // Only the meter's text changed: everything before and after it is byte for byte the same.
    const meter = spanAt(before, ['parks', 0, 'tenants', 1, 'meters', 0])!;
    assert.equal(after.slice(0, meter.start), before.slice(0, meter.start));
    assert.ok(after.endsWith(before.slice(meter.end)));
    const entry = loadParkRegistry(file).meter('cbr-elec-main')!;
    assert.deepEqual(entry.meter.registerChanges, [{ at: '2026-11-20T09:30:00+08:00', metric: 'active_energy_import', kind: 'swap', oldFinal: 523411.6, newInitial: 0.2, reference: 'WO-2026-114' }]);
    assert.equal(registerProfile(entry.meter, 'active_energy_import').changes[0]?.at, Date.UTC(2026, 10, 20, 1, 30));
    assert.equal(statSync(file).mode & 0o777, 0o640, 'the file keeps its mode');
    assert.deepEqual(readdirSync(join(file, '..')), ['park.json'], 'no temporary file left');
  });

  it('keeps declarations in time order and refuses the same instant twice, in any zone', () => {
    const file = copy();
    assert.equal(run(['declare-change', '--file', file, ...swap]).code, 0);
    const earlier = ['--meter', 'cbr-elec-main', '--metric', 'active_energy_import', '--at', '2026-11-01T00:00:00Z', '--kind', 'reset', '--old-final', '100', '--new-initial', '0', '--reference', 'P-7'];
    assert.equal(run(['declare-change', '--file', file, ...earlier]).code, 0);
    const changes = loadParkRegistry(file).meter('cbr-elec-main')!.meter.registerChanges!;
    assert.deepEqual(changes.map((c) => c.reference), ['P-7', 'WO-2026-114']);
    const text = readFileSync(file, 'utf8');
    const again = swap.map((a) => (a === '2026-11-20T09:30:00+08:00' ? '2026-11-20T01:30:00Z' : a));
    const dup = run(['declare-change', '--file', file, ...again]);
    assert.equal(dup.code, 2);
    assert.match(dup.err, /already has a change declared at 2026-11-20T09:30:00\+08:00 \(swap, WO-2026-114\)/);
    assert.equal(readFileSync(file, 'utf8'), text, 'a refused declaration leaves the file untouched');
  });

  const refusals: Array<[string, string[], RegExp]> = [
    ['an unknown meter', ['--meter', 'no-such-meter'], /no meter no-such-meter/],
    ['an instantaneous metric', ['--metric', 'active_power'], /metric: must be a cumulative \(register\) metric/],
    ['a metric the meter does not have', ['--metric', 'gas_volume'], /registerChanges.0.metric: "gas_volume" is not one of the meter's metrics/],
    ['a time without a zone', ['--at', '2026-11-20T09:30:00'], /at: must be an ISO 8601 date and time with a zone/],
    ['an impossible date', ['--at', '2026-02-30T09:30:00Z'], /at: is not a valid date and time/],
    ['a kind other than swap or reset', ['--kind', 'rollover'], /kind:/],
    ['a reading that is not a number', ['--old-final', '12abc'], /--old-final: "12abc" is not a finite number/],
    ['an infinite reading', ['--new-initial', '1e999'], /--new-initial: "1e999" is not a finite number/],
    ['an empty reference', ['--reference', ''], /reference:/],
  ];
  for (const [name, over, message] of refusals) {
    it(`refuses ${name}, naming it, and leaves the file as it was`, () => {
      const file = copy();
      const args = [...swap];
      for (let i = 0; i < over.length; i += 2) args[args.indexOf(over[i]!) + 1] = over[i + 1]!;
      const r = run(['declare-change', '--file', file, ...args]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.equal(readFileSync(file, 'utf8'), readFileSync(demoParkPath, 'utf8'));
    });
  }

  it('needs every field, a known command, and a valid registry to start from', () => {
    const file = copy();
    assert.match(run(['declare-change', '--file', file, '--meter', 'cbr-elec-main']).err, /needs --metric, --at, --kind, --old-final, --new-initial, --reference/);
    assert.equal(run(['remove-change', '--file', file, ...swap]).code, 2);
    assert.equal(run(['declare-change', '--bogus', ...swap]).code, 2);
    writeFileSync(file, '{"version": 1, "parks": []}');
    assert.match(run(['declare-change', '--file', file, ...swap]).err, /invalid.*before the change/);
    writeFileSync(file, '{"version": 1,');
    assert.match(run(['declare-change', '--file', file, ...swap]).err, /not valid JSON/);
  });

  it('takes the registry from PARK_REGISTRY when no --file is given', () => {
    const file = copy();
    assert.equal(run(['declare-change', ...swap], { PARK_REGISTRY: file }).code, 0);
    assert.equal(loadParkRegistry(file).meter('cbr-elec-main')!.meter.registerChanges?.length, 1);
  });

  it('prints its help', () => {
    const r = run(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.out, help);
    assert.match(help, /Services read the registry at start: restart them to apply it/);
  });

  it('edits a registry written on one line too: the same document plus the declaration', () => {
    const registry = JSON.parse(readFileSync(demoParkPath, 'utf8')) as unknown;
    const compact = JSON.stringify(registry);
    const change = { at: '2026-11-20T01:30:00Z', metric: 'active_energy_import' as const, kind: 'reset' as const, oldFinal: 5, newInitial: 0, reference: 'P-1' };
    const edited = declareChange(compact, 'compact.json', 'wwtp-elec', change);
    const parsed = JSON.parse(edited) as { parks: Array<{ tenants: Array<{ meters: Array<{ id: string; registerChanges?: unknown }> }> }> };
    const meter = parsed.parks[0]!.tenants.flatMap((t) => t.meters).find((m) => m.id === 'wwtp-elec');
    assert.deepEqual(meter?.registerChanges, [change]);
  });
});
