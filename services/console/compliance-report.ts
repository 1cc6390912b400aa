/**
 * npm run report -- --park ID --month YYYY-MM [--tenant ID] [--out DIR] [--format pdf|zip|both]
 * Writes the compliance pack the console serves, from the same configuration
 * (BUS, TIMESERIES and their settings, PARK_REGISTRY). Without the console's
 * read model it reads the alert history from the time-series store alone,
 * which the rules' outputs stage writes every transition to.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBus, createStore } from '../../shared/adapters/select.ts';
import { loadParkRegistry } from '../../shared/contracts/park-registry.ts';
import { defaultMinCompleteness } from '../../shared/contracts/completeness.ts';
import { loadConfig } from '../../shared/config/env.ts';
import { createLogger } from '../../shared/observability/logger.ts';
import { zipTables } from './compliance/pack-csv.ts';
import { isMonth, monthOf } from './compliance/pack-period.ts';
import { renderPackPdf } from './compliance/pack-pdf.ts';
import { loadPack } from './compliance/pack-sources.ts';
import { packTables } from './compliance/pack-tables.ts';
import { reportConfigSchema } from './config.ts';

export const help = `usage: npm run report -- --park ID [--month YYYY-MM] [--tenant ID] [--out DIR] [--format pdf|zip|both]

Writes the auditor's compliance pack of a park, or one tenant, for a calendar month in the
park's time zone: exceedance hours per parameter against the permit in force, completeness
per stream per day, every alert with its provenance and who acknowledged or resolved it,
and the submissions sent with their receipts.

  --park ID            the park (from PARK_REGISTRY)
  --month YYYY-MM      the month (default: the current month in the park's zone)
  --tenant ID          one tenant of the park (default: the whole park)
  --out DIR            folder to write to (default: the current folder), created if missing
  --format F           pdf, zip (one CSV per table) or both (default: both)
  --min-completeness N an hour below this share of its expected records is incomplete (default ${defaultMinCompleteness})

Reads the console's configuration from the environment (BUS, KAFKA_*, TIMESERIES, INFLUX_*,
DATA_DIR, PARK_REGISTRY; see services/console/README.md). Progress goes to stderr, the
written file names to stdout.
`;

class UsageError extends Error {}

export async function main(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void, now: () => number = Date.now): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        park: { type: 'string' }, month: { type: 'string' }, tenant: { type: 'string' }, out: { type: 'string' },
        format: { type: 'string' }, 'min-completeness': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`report: ${(e as Error).message}\n${help}`);
    return 2;
  }
  if (values.help) {
    out(help);
    return 0;
  }
  const started = now();
  const step = (s: string): void => err(`report: ${s} (${((now() - started) / 1000).toFixed(1)} s)\n`);
  try {
    const parkId = values.park as string | undefined;
    if (parkId === undefined) throw new UsageError('--park is required');
    const format = (values.format as string | undefined) ?? 'both';
    if (!['pdf', 'zip', 'both'].includes(format)) throw new UsageError(`--format must be pdf, zip or both, not "${format}"`);
    const minText = values['min-completeness'] as string | undefined;
    const minCompleteness = minText === undefined ? defaultMinCompleteness : Number(minText);
    if (!(minCompleteness >= 0 && minCompleteness <= 1)) throw new UsageError('--min-completeness must be a number from 0 to 1');
    const config = loadConfig(reportConfigSchema, env, 'report', { warn: err });
    const registry = loadParkRegistry(config.PARK_REGISTRY);
    const park = registry.park(parkId);
    if (!park) throw new UsageError(`no park ${parkId} in ${config.PARK_REGISTRY}`);
    const tenantId = values.tenant as string | undefined;
    const tenant = tenantId === undefined ? undefined : park.tenants.find((t) => t.id === tenantId);
    if (tenantId !== undefined && !tenant) throw new UsageError(`no tenant ${tenantId} in park ${park.id}`);
    const month = (values.month as string | undefined) ?? monthOf(now(), park.timezone);
    if (!isMonth(month)) throw new UsageError(`--month must be YYYY-MM (1970-2200), not "${month}"`);
    const logger = createLogger('report', 'warn', { write: (line) => err(line.endsWith('\n') ? line : `${line}\n`) });
    const bus = createBus(config, 'console-report', logger);
    const store = createStore(config, logger);
    try {
      step(`reading ${park.id}${tenant ? ` / ${tenant.id}` : ''} ${month}`);
      const { pack, unreadableSubmissions } = await loadPack({ store, bus, now }, { park, tenant, month, minCompleteness, progress: step });
      if (unreadableSubmissions > 0) step(`skipped ${unreadableSubmissions} submission records that are not the contract's`);
      const dir = (values.out as string | undefined) ?? '.';
      mkdirSync(dir, { recursive: true });
      const name = `compliance-pack-${park.id}${tenant ? `-${tenant.id}` : ''}-${month}`;
      if (format !== 'pdf') {
        const file = join(dir, `${name}.zip`);
        writeFileSync(file, zipTables(packTables(pack), pack.generatedAt));
        out(`${file}\n`);
      }
      if (format !== 'zip') {
        step('drawing the PDF');
        const file = join(dir, `${name}.pdf`);
        writeFileSync(file, await renderPackPdf(pack));
        out(`${file}\n`);
      }
      step(`done: ${pack.exceedances.summary.reduce((a, r) => a + r.exceeded, 0)} exceedance hours, ${pack.completeness.length} stream days, ${pack.alerts.alerts.length} alerts, ${pack.submissions.length} submissions`);
      return 0;
    } finally {
      await bus.close();
      await store.close();
    }
  } catch (e) {
    err(`report: ${(e as Error).message}\n${e instanceof UsageError ? 'run with --help for usage\n' : ''}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2), process.env, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
}
