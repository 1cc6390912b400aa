/**
 * The long fuzzing run: the same properties as the test suite
 * (test/helpers/fuzz-properties.ts), with many more cases. Prints JSON: cases
 * run per property, failures (with fast-check's seed and path to replay them),
 * seconds. Exit 1 when a property failed.
 *
 *   node bench/fuzz.ts --runs 100000 [--seed 20261127] [--only decode]
 */
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fuzzProperties, fuzzSettings, runsFor } from '../test/helpers/fuzz-properties.ts';
import { positiveInt } from './lib.ts';

const usage = `usage: bench/fuzz.ts [--runs N] [--seed S] [--only NAME-PREFIX]
  --runs N   cases per property (default 10000; the ingest pipeline makes 10 % of them,
             the aggregator 20 %, the rules 50 %: each of their cases is a whole run)
  --seed S   fast-check seed (default FUZZ_SEED or the suite's fixed seed)
  --only P   only properties whose name starts with P
`;

let values: { runs?: string; seed?: string; only?: string; help?: boolean };
try {
  ({ values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string', default: '' }, help: { type: 'boolean', short: 'h' } } }));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const runs = values.runs === undefined ? 10_000 : positiveInt('runs', values.runs, usage);
const seed = values.seed === undefined ? fuzzSettings().seed : Number(values.seed);
if (!Number.isInteger(seed)) {
  process.stderr.write(`--seed must be an integer, not "${values.seed}"\n${usage}`);
  process.exit(2);
}
const only = values.only ?? '';

const results: Array<{ property: string; cases: number; failed: boolean; seconds: number; failure?: string }> = [];
const started = performance.now();
for (const p of fuzzProperties.filter((x) => x.name.startsWith(only))) {
  const t0 = performance.now();
  const details = await fc.check(p.property(), { seed, numRuns: runsFor(p, runs) });
  const seconds = Math.round((performance.now() - t0) / 10) / 100;
  const entry: (typeof results)[number] = { property: p.name, cases: details.numRuns, failed: details.failed, seconds };
  if (details.failed) entry.failure = fc.defaultReportMessage(details)?.slice(0, 4000) ?? 'failed';
  results.push(entry);
  process.stderr.write(`${p.name}: ${details.numRuns} cases, ${details.failed ? 'FAILED' : 'ok'}, ${seconds} s\n`);
}
const failures = results.filter((r) => r.failed).length;
process.stdout.write(`${JSON.stringify({ seed, runs, properties: results, cases: results.reduce((s, r) => s + r.cases, 0), failures, seconds: Math.round((performance.now() - started) / 10) / 100 }, null, 2)}\n`);
process.exit(failures > 0 ? 1 : 0);
