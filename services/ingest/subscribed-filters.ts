/**
 * The filters an instance's session was last subscribed to, kept beside its
 * spool. A persistent session keeps every subscription it ever made, so when
 * INGEST_SCOPES shrinks (a scope moved to another instance) ingest must
 * unsubscribe what it no longer owns, or both instances would store that scope.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const subscribedFiltersFile = (spoolDir: string): string => join(spoolDir, 'subscriptions.json');

/** What was recorded; nothing when the file is missing or not a list of strings (it is only a hint). */
export function readSubscribedFilters(file: string): string[] {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(v) && v.every((f) => typeof f === 'string') ? v : [];
  } catch {
    return [];
  }
}

export function writeSubscribedFilters(file: string, filters: readonly string[]): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(filters));
  renameSync(`${file}.tmp`, file);
}

export const staleFilters = (previous: readonly string[], current: readonly string[]): string[] => previous.filter((f) => !current.includes(f));
