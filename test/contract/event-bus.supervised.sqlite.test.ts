/**
 * The supervised bus (shared/runtime/supervised-bus.ts) is the event-bus port
 * too: the contract holds through it unchanged. Its supervisor records failures
 * instead of ending the test process.
 */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteBus } from '../../shared/adapters/sqlite-bus/index.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { eventBusContract } from '../../shared/ports/event-bus.contract.ts';
import { StageMonitor } from '../../shared/runtime/stage-monitor.ts';
import { supervisedBus } from '../../shared/runtime/supervised-bus.ts';
import { recordingSupervisor } from '../helpers/supervisor.ts';
import { randomTopic } from '../helpers/bus.ts';

const dir = mkdtempSync(join(tmpdir(), 'eip-supervised-bus-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const recording = recordingSupervisor();

eventBusContract('sqlite (3 partitions), supervised', () => {
  const raw = createSqliteBus({ path: join(dir, 'bus.sqlite'), logger: quietLogger('supervised-bus-test'), partitions: 3, retryPolicy: { initialMs: 20, maxMs: 200 } });
  const monitor = new StageMonitor({ stallTimeoutMs: 60_000 });
  return Promise.resolve({
    bus: supervisedBus(raw, { supervisor: recording, monitor }),
    async topic(options = {}) {
      const name = randomTopic();
      await raw.ensureTopics([{ name, compacted: options.compacted ?? false, retentionMs: -1 }]);
      return name;
    },
    cleanup: async () => {
      monitor.stop();
      await raw.close();
    },
  });
});
