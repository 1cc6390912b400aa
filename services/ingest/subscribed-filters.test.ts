import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSubscribedFilters, staleFilters, subscribedFiltersFile, writeSubscribedFilters } from './subscribed-filters.ts';

describe('subscribed filters record', () => {
  it('round-trips, and names what a narrower configuration no longer owns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eip-subs-'));
    try {
      const file = subscribedFiltersFile(dir);
      assert.deepEqual(readSubscribedFilters(file), [], 'nothing recorded yet');
      writeSubscribedFilters(file, ['eip/p/+/+/telemetry', 'eip/p/+/+/status']);
      const previous = readSubscribedFilters(file);
      assert.deepEqual(staleFilters(previous, ['eip/p/t/+/telemetry', 'eip/p/t/+/status']), ['eip/p/+/+/telemetry', 'eip/p/+/+/status']);
      assert.deepEqual(staleFilters(previous, previous), []);
      for (const junk of ['', 'not json', '{"a":1}', '[1,2]', 'null', '["ok",3]']) {
        writeFileSync(file, junk);
        assert.deepEqual(readSubscribedFilters(file), [], junk);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
