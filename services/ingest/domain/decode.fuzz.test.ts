/** Property-based fuzzing of decode (test/helpers/fuzz-properties.ts): seeded, FUZZ_SEED / FUZZ_RUNS to vary. */
import { describe, it } from 'node:test';
import { assertFuzz, fuzzNamed } from '../../../test/helpers/fuzz-properties.ts';

describe('fuzz: decode', () => {
  for (const p of fuzzNamed('decode:')) it(p.name, { timeout: 120000 }, () => assertFuzz(p));
});
