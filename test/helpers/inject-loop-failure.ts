/**
 * Fault injection for process-level tests, loaded with `node --import` ahead of
 * a service's main.ts: EIP_TEST_INJECT_FAILURE names the loop whose next turn
 * throws an error no loop expects (or, for aggregator-retriable, a retriable
 * one that never stops). Modules are shared by URL, so the service
 * runs the patched classes. Never loaded outside tests.
 */
import { EipError } from '../../shared/errors.ts';
import { Spool } from '../../services/ingest/spool.ts';
import { WindowAggregator } from '../../services/aggregator/domain/window-aggregator.ts';

const target = process.env.EIP_TEST_INJECT_FAILURE;
if (target === 'ingest-drain') {
  Spool.prototype.take = () => { throw new RangeError('injected: the drain loop met an error it does not handle'); };
} else if (target === 'aggregator-handler') {
  WindowAggregator.prototype.record = () => { throw new TypeError('injected: the aggregator handler met an error it does not handle'); };
} else if (target === 'aggregator-retriable') {
  // Expected by the loop, so retried for ever: a stall, not a failure.
  WindowAggregator.prototype.record = () => { throw new EipError('UNAVAILABLE', 'injected: a dependency of the aggregator never comes back'); };
} else if (target !== undefined) {
  throw new Error(`EIP_TEST_INJECT_FAILURE: unknown target ${target}`);
}
