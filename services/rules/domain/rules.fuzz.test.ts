/** Property-based fuzzing of the rules core (test/helpers/fuzz-properties.ts): seeded, FUZZ_SEED / FUZZ_RUNS to vary. */
import { describe, it } from 'node:test';
import { assertFuzz, fuzzNamed } from '../../../test/helpers/fuzz-properties.ts';

describe('fuzz: the rules core', () => {
  for (const p of fuzzNamed('rules')) it(p.name, { timeout: 120000 }, () => assertFuzz(p));
});
