/**
 * npm run registry -- declare-change ...
 * Edits the park registry file. declare-change adds a dated meter swap or
 * register reset to a meter's registerChanges, so the aggregator books
 * consumption exactly across it and the register rules do not alert on it.
 * The file is validated before and after, the rest of its text is kept as it
 * was, and it is replaced whole (a temporary file renamed over it).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { demoParkPath, formatIssues, parseParkRegistry, registerChangeSchema, type RegisterChange } from '../shared/contracts/park-registry.ts';
import { indentAt, membersAt, spanAt, startsLine } from './json-spans.ts';

export const help = `usage: npm run registry -- declare-change --meter ID --metric METRIC --at TIME --kind swap|reset
         --old-final N --new-initial N --reference TEXT [--file FILE]

declare-change: a meter swap or a register reset, dated, in the park registry. The aggregator
then books the old register up to --old-final and the new one from --new-initial, nothing
in between, and marks the window declared-swap or declared-reset; the register rules do not
alert on it.

  --meter ID          the meter's id in the registry
  --metric METRIC     the cumulative metric whose register changed (e.g. active_energy_import)
  --at TIME           ISO 8601 with a zone (2026-11-27T10:00:00+08:00); readings at or after it
                      are the new register's
  --kind swap|reset   swap: another meter or register; reset: the same register restarted
  --old-final N       the old register's last value, in the metric's canonical unit (kWh, m3, ...)
  --new-initial N     the new register's value at --at, same unit
  --reference TEXT    the work order, protocol or ticket that documents the change
  --file FILE         the park registry (default: $PARK_REGISTRY, else shared/parks/demo-park.json)

The registry must be valid before and after; a second declaration of the same meter, metric
and time is refused. Services read the registry at start: restart them to apply it.
`;

export class UsageError extends Error {}

interface Located {
  path: Array<string | number>;
  meter: Record<string, unknown>;
}

function locateMeter(raw: unknown, meterId: string): Located | undefined {
  const parks = (raw as { parks?: unknown }).parks;
  if (!Array.isArray(parks)) return undefined;
  for (const [pi, park] of parks.entries()) {
    const tenants = (park as { tenants?: unknown }).tenants;
    if (!Array.isArray(tenants)) continue;
    for (const [ti, tenant] of tenants.entries()) {
      const meters = (tenant as { meters?: unknown }).meters;
      if (!Array.isArray(meters)) continue;
      const mi = meters.findIndex((m) => (m as { id?: unknown }).id === meterId);
      if (mi >= 0) return { path: ['parks', pi, 'tenants', ti, 'meters', mi], meter: meters[mi] as Record<string, unknown> };
    }
  }
  return undefined;
}

/** One change per line, in the registry's `{ "key": value }` style. */
function renderChanges(changes: readonly RegisterChange[], indent: string): string {
  const one = (c: RegisterChange) => `{ ${Object.entries(c).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')} }`;
  return `[\n${changes.map((c) => `${indent}  ${one(c)}`).join(',\n')}\n${indent}]`;
}

/**
 * The registry text with `change` added to the meter's registerChanges (in time
 * order). Only the meter's registerChanges is rewritten; the rest of the text is
 * kept byte for byte (or, should that not give the same document, the whole file
 * is written as 2-space JSON).
 */
export function declareChange(text: string, source: string, meterId: string, change: RegisterChange): string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    parseParkRegistry(raw, source);
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (before the change: fix it first)`);
  }
  const at = locateMeter(raw, meterId);
  if (!at) throw new UsageError(`no meter ${meterId} in ${source}`);
  const existing = (at.meter.registerChanges ?? []) as RegisterChange[];
  const dup = existing.find((c) => c.metric === change.metric && Date.parse(c.at) === Date.parse(change.at));
  if (dup) throw new UsageError(`${meterId} ${change.metric} already has a change declared at ${dup.at} (${dup.kind}, ${dup.reference})`);
  const changes = [...existing, change].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const next = structuredClone(raw) as Record<string, unknown>;
  (locateMeter(next, meterId)!.meter).registerChanges = changes;
  try {
    parseParkRegistry(next, source);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  const meterSpan = spanAt(text, at.path)!;
  const members = membersAt(text, meterSpan.start);
  const last = members[members.length - 1]!;
  const current = members.find((m) => m.key === 'registerChanges');
  // A member on its own line gives the indentation of the meter's properties.
  const propIndent = startsLine(text, last.memberStart) ? indentAt(text, last.memberStart) : `${indentAt(text, meterSpan.start)}  `;
  const rendered = renderChanges(changes, propIndent);
  const edited = current
    ? text.slice(0, current.start) + rendered + text.slice(current.end)
    : `${text.slice(0, last.end)},\n${propIndent}"registerChanges": ${rendered}${text.slice(last.end)}`;
  let same: boolean;
  try {
    same = isDeepStrictEqual(JSON.parse(edited), next);
  } catch {
    same = false;
  }
  return same ? edited : `${JSON.stringify(next, null, 2)}\n`;
}

/** Written whole to a temporary file beside it, flushed, then renamed: a reader sees the old file or the new one. */
export function writeAtomically(path: string, text: string): void {
  const mode = statSync(path).mode & 0o777;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

const numberPattern = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

function numberOption(name: string, v: string): number {
  const n = Number(v);
  if (!numberPattern.test(v.trim()) || !Number.isFinite(n)) throw new UsageError(`--${name}: ${JSON.stringify(v)} is not a finite number`);
  return n;
}

const required = ['meter', 'metric', 'at', 'kind', 'old-final', 'new-initial', 'reference'] as const;

export function main(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): number {
  let values: Partial<Record<(typeof required)[number] | 'file', string>> & { help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        meter: { type: 'string' }, metric: { type: 'string' }, at: { type: 'string' }, kind: { type: 'string' },
        'old-final': { type: 'string' }, 'new-initial': { type: 'string' }, reference: { type: 'string' },
        file: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`registry: ${(e as Error).message}\n${help}`);
    return 2;
  }
  if (values.help) {
    out(help);
    return 0;
  }
  try {
    if (positionals.length !== 1 || positionals[0] !== 'declare-change') throw new UsageError(`unknown or missing command: ${positionals.join(' ') || '(none)'}; the command is declare-change`);
    const missing = required.filter((k) => values[k] === undefined);
    if (missing.length) throw new UsageError(`declare-change needs ${missing.map((k) => `--${k}`).join(', ')}`);
    const parsed = registerChangeSchema.safeParse({
      at: values.at, metric: values.metric, kind: values.kind,
      oldFinal: numberOption('old-final', values['old-final']!), newInitial: numberOption('new-initial', values['new-initial']!), reference: values.reference,
    });
    if (!parsed.success) throw new UsageError(`the declaration is invalid: ${formatIssues(parsed.error)}`);
    const file = values.file ?? env.PARK_REGISTRY ?? demoParkPath;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    const edited = declareChange(text, file, values.meter!, parsed.data);
    writeAtomically(file, edited);
    const c = parsed.data;
    err(`registry: declared ${c.kind} of ${values.meter!} ${c.metric} at ${c.at} (${c.oldFinal} -> ${c.newInitial}, ${c.reference}) in ${file}; restart the services to apply it\n`);
    return 0;
  } catch (e) {
    err(`registry: ${(e as Error).message}\n${e instanceof UsageError ? 'run with --help for usage\n' : ''}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = main(process.argv.slice(2), process.env, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
}
