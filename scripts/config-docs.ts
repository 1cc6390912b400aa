/**
 * Writes each service's configuration table into its README between the markers
 *   <!-- config:start --> ... <!-- config:end -->
 * from the service's zod schema, so docs and defaults cannot drift.
 *   node scripts/config-docs.ts          rewrite the tables
 *   node scripts/config-docs.ts --check  exit 1 if a table is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { variablesMarkdown, type EnvSchema } from '../shared/config/env.ts';
import { ingestConfigSchema } from '../services/ingest/config.ts';
import { aggregatorConfigSchema } from '../services/aggregator/config.ts';
import { rulesConfigSchema } from '../services/rules/config.ts';
import { allInOneConfigSchema } from '../services/all-in-one/config.ts';
import { consoleConfigSchema } from '../services/console/config.ts';
import { reportingConfigSchema } from '../services/reporting/config.ts';

export const documented: Array<{ readme: string; schema: EnvSchema }> = [
  { readme: 'services/ingest/README.md', schema: ingestConfigSchema },
  { readme: 'services/aggregator/README.md', schema: aggregatorConfigSchema },
  { readme: 'services/rules/README.md', schema: rulesConfigSchema },
  { readme: 'services/all-in-one/README.md', schema: allInOneConfigSchema },
  { readme: 'services/console/README.md', schema: consoleConfigSchema },
  { readme: 'services/reporting/README.md', schema: reportingConfigSchema },
];

const root = new URL('../', import.meta.url).pathname;
const start = '<!-- config:start -->';
const end = '<!-- config:end -->';

export function render(text: string, schema: EnvSchema): string {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`missing ${start} ... ${end} markers`);
  return `${text.slice(0, a + start.length)}\n${variablesMarkdown(schema)}\n${text.slice(b)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { readme, schema } of documented) {
    const path = root + readme;
    const text = readFileSync(path, 'utf8');
    const next = render(text, schema);
    if (next === text) continue;
    if (check) {
      stale++;
      process.stderr.write(`${readme}: configuration table is stale; run node scripts/config-docs.ts\n`);
    } else {
      writeFileSync(path, next);
      process.stdout.write(`updated ${readme}\n`);
    }
  }
  process.exit(stale ? 1 : 0);
}
