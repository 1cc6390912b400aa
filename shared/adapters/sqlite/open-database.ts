import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * Opens (creating if needed) a SQLite file in WAL mode. synchronous=NORMAL
 * survives a crash of the process (not of the machine) at a fraction of the
 * cost of an fsync per commit. Several processes may share one file.
 */
export function openDatabase(path: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Adds the columns a table created by an older release lacks (CREATE TABLE IF
 * NOT EXISTS leaves an existing table as it was), so an embedded data folder
 * keeps working across an upgrade.
 */
export function addMissingColumns(db: SqliteDatabase, table: string, columns: Record<string, string>): void {
  const have = new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
  for (const [name, type] of Object.entries(columns)) {
    if (!have.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
  }
}
