import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../shared/observability/metrics.ts';
import type { EngineCounters } from './domain/index.ts';
import { registerNotJudged } from './metrics.ts';

describe('eip_rules_not_judged_total', () => {
  it('reads the engine counters at each scrape, one series per reason', async () => {
    const registry = new Registry();
    const counters: EngineCounters = { duplicates: 0, noO2: 0, incomplete: 0, foreign: 0, unstorable: 0 };
    registerNotJudged(registry, counters);
    counters.incomplete = 3;
    counters.noO2 = 1;
    const text = await registry.metrics();
    assert.match(text, /eip_rules_not_judged_total\{reason="incomplete"\} 3/);
    assert.match(text, /eip_rules_not_judged_total\{reason="no-o2"\} 1/);
    counters.incomplete = 5;
    assert.match(await registry.metrics(), /eip_rules_not_judged_total\{reason="incomplete"\} 5/);
  });
});
