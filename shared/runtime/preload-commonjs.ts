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

/**
 * Loads the module `specifier` resolves to from `from` and swaps its exports
 * for `make(original)`, so the replacement can hand the cases it does not cover
 * to the original. False when one of `dependents` (files that require it and
 * keep what they got) is loaded already.
 */
export function wrapCommonJs<T>(from: string, specifier: string, dependents: readonly string[], make: (original: T) => T): boolean {
  const require = createRequire(from);
  const file = require.resolve(specifier);
  if (dependents.some((d) => require.cache[require.resolve(d)] !== undefined)) return false;
  const module = require.cache[file] ?? (require(file), require.cache[file]);
  if (!module) return false;
  module.exports = make(module.exports as T);
  return true;
}
