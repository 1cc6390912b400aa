/**
 * The one place every partition-owning consumer of a service passes through:
 * a decorator of the event-bus port (either adapter) that
 *  - turns an unexpected error of a handler or an assignment hook into a
 *    failure of the process (supervisor.ts), where the adapters alone would
 *    redeliver the batch or call the hook again for ever;
 *  - watches each subscription's progress under the stage `consumer:<group>`
 *    (stage-monitor.ts): pending is how far the partitions held lag behind the
 *    ends the last batches reported, the batch in hand included; processed is
 *    the records whose handler resolved (and so were committed).
 */
import type { ConsumedBatch, EventBus, SubscribeOptions, Subscription } from '../ports/event-bus.ts';
import type { ProgressSample } from './progress-watchdog.ts';
import type { StageMonitor } from './stage-monitor.ts';
import { isExpectedLoopError, type Supervisor } from './supervisor.ts';

export interface SupervisedBusOptions {
  supervisor: Supervisor;
  monitor: StageMonitor;
}

/** Per subscription: where each partition held stands against its end, and the records handled. */
export class ConsumerProgress {
  private readonly partitions = new Map<string, { position: number; end: number }>();
  private processed = 0;

  delivered(batch: ConsumedBatch): void {
    const first = batch.messages[0];
    const last = batch.messages.at(-1);
    if (!first || !last) return;
    const key = `${batch.topic}/${batch.partition}`;
    const next = Number(last.offset) + 1;
    const end = Math.max(next, batch.highWatermark === undefined ? 0 : Number(batch.highWatermark));
    const p = this.partitions.get(key);
    if (p) p.end = Math.max(p.end, end);
    // The first batch seen tells where the committed position is.
    else this.partitions.set(key, { position: Number(first.offset), end });
  }

  handled(batch: ConsumedBatch): void {
    const last = batch.messages.at(-1);
    if (!last) return;
    const p = this.partitions.get(`${batch.topic}/${batch.partition}`);
    if (p) p.position = Math.max(p.position, Number(last.offset) + 1);
    this.processed += batch.messages.length;
  }

  /** The partitions went to another member (or the subscription stopped): their lag is no longer ours. */
  revoked(): void {
    this.partitions.clear();
  }

  sample(): ProgressSample {
    let pending = 0;
    for (const p of this.partitions.values()) pending += Math.max(0, p.end - p.position);
    return { pending, processed: this.processed };
  }
}

export function supervisedBus(bus: EventBus, o: SupervisedBusOptions): EventBus {
  const guard = async <T>(component: string, fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      // Expected ones are logged and retried by the adapter; anything else ends the process.
      if (!isExpectedLoopError(err)) o.supervisor.fail(component, err);
      throw err;
    }
  };
  return {
    publish: (messages) => bus.publish(messages),
    readCompacted: (topic) => bus.readCompacted(topic),
    partitionCount: (topic) => bus.partitionCount(topic),
    ping: () => bus.ping(),
    close: () => bus.close(),
    subscribe: async (options: SubscribeOptions): Promise<Subscription> => {
      const component = `consumer ${options.groupId}`;
      const progress = new ConsumerProgress();
      const { onAssigned, onRevoked } = options;
      const unwatch = o.monitor.add(`consumer:${options.groupId}`, () => progress.sample());
      let subscription: Subscription;
      try {
        subscription = await bus.subscribe({
          ...options,
          handleBatch: async (batch) => {
            progress.delivered(batch);
            const done = await guard(`${component} (${batch.topic}/${batch.partition})`, () => options.handleBatch(batch));
            progress.handled(batch);
            return done;
          },
          ...(onAssigned && { onAssigned: (assigned) => guard(`${component} onAssigned`, () => onAssigned(assigned)) }),
          onRevoked: async (revoked) => {
            progress.revoked();
            if (onRevoked) await guard(`${component} onRevoked`, () => onRevoked(revoked));
          },
        });
      } catch (err) {
        unwatch();
        throw err;
      }
      return {
        commitHeld: () => subscription.commitHeld(),
        stop: async () => {
          try {
            await subscription.stop();
          } finally {
            unwatch();
          }
        },
      };
    },
  };
}
