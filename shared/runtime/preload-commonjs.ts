/**
 * Puts a replacement into the CommonJS module cache before a dependency loads
 * the original, for the few dependency internals whose cost ingest pays on
 * every message (see where it is used). The replacement must keep the
 * original's contract; each has a test comparing the two.
 */
import { createRequire, Module } from 'node:module';

/**
 * Caches `exports` as the module that `specifier` resolves to from the file
 * `from` (a URL or path). False when that file is loaded already: whoever
 * required it holds the original, so the replacement would be half applied.
 */
export function preloadCommonJs(from: string, specifier: string, exports: unknown): boolean {
  const require = createRequire(from);
  const file = require.resolve(specifier);
  const cached = require.cache[file];
  if (cached) return cached.exports === exports;
  const replacement = new Module(file);
  replacement.filename = file;
  replacement.loaded = true;
  replacement.exports = exports;
  require.cache[file] = replacement;
  return true;
}

/** The file a specifier resolves to from `from`, for tests. */
export const resolvedFrom = (from: string, specifier: string): string => createRequire(from).resolve(specifier);
