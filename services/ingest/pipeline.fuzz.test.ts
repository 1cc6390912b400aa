/** Property-based fuzzing of the ingest pipeline (test/helpers/fuzz-properties.ts): seeded, FUZZ_SEED / FUZZ_RUNS to vary. */
import { describe, it } from 'node:test';
import { assertFuzz, fuzzNamed } from '../../test/helpers/fuzz-properties.ts';

describe('fuzz: the ingest pipeline', () => {
  for (const p of fuzzNamed('ingest pipeline')) it(p.name, { timeout: 300000 }, () => assertFuzz(p));
});
