import { randomBytes } from 'node:crypto';

/** A topic name no other test run uses (Kafka topic names allow [a-zA-Z0-9._-]). */
export function randomTopic(prefix = 'test'): string {
  return `${prefix}.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`;
}

export function randomGroup(prefix = 'group'): string {
  return randomTopic(prefix);
}

/**
 * Resolves once predicate() is true; rejects after timeoutMs with the label, so a
 * hung test says what it was waiting for instead of timing out blind.
 */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000, label = 'condition', intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A promise with its resolve exposed, for gating a handler from the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** Like waitFor, for a value: resolves with the first defined result of fn(). */
export async function eventually<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, label = 'value', intervalMs = 20): Promise<T> {
  let value: T | undefined;
  await waitFor(async () => (value = await fn()) !== undefined, timeoutMs, label, intervalMs);
  return value as T;
}
