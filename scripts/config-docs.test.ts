import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { documented, render } from './config-docs.ts';

const root = new URL('../', import.meta.url).pathname;

it('every service README carries the configuration table generated from its schema', () => {
  for (const { readme, schema } of documented) {
    const text = readFileSync(root + readme, 'utf8');
    assert.equal(render(text, schema), text, `${readme} is stale: run node scripts/config-docs.ts`);
  }
});
