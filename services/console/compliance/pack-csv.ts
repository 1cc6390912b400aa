/**
 * CSV (RFC 4180) of a pack table, and the zip of all of them. Cells are
 * hostile input (summaries, receipts, user names): quoted when needed, and a
 * text cell a spreadsheet would run as a formula is prefixed with a quote mark.
 */
import { strToU8, zipSync } from 'fflate';
import type { Cell, PackTable } from './pack-tables.ts';

const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(c: Cell): string {
  if (c === undefined || c === null) return '';
  if (typeof c === 'number') return Number.isFinite(c) ? String(c) : '';
  const s = typeof c === 'boolean' ? String(c) : FORMULA.test(c) ? `'${c}` : c;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(table: PackTable): string {
  const lines = [table.columns.map(csvCell).join(',')];
  for (const row of table.rows) lines.push(row.map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** One CSV file per table; entries dated at `mtime` so the same pack gives the same bytes. */
export function zipTables(tables: readonly PackTable[], mtime: number): Uint8Array {
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  // fflate stores DOS times, which start in 1980.
  const when = new Date(Math.max(mtime, Date.UTC(1980, 0, 2)));
  for (const t of tables) files[`${t.name}.csv`] = [strToU8(toCsv(t)), { mtime: when }];
  return zipSync(files, { level: 6 });
}
