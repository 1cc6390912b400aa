/** The stall detector and the stage monitor, on an injected clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ProgressWatchdog } from './progress-watchdog.ts';
import { StageMonitor } from './stage-monitor.ts';

describe('ProgressWatchdog', () => {
  it('calls a backlog stalled only once its counter has not moved for the timeout', () => {
    const w = new ProgressWatchdog(60_000);
    assert.equal(w.observe({ pending: 5, processed: 0 }, 0).stalled, false, 'the first sample starts the clock');
    assert.equal(w.observe({ pending: 5, processed: 0 }, 59_999).stalled, false);
    const s = w.observe({ pending: 2001, processed: 0 }, 60_000);
    assert.deepEqual(s, { stalled: true, pending: 2001, progressAt: 0 });
    assert.equal(w.observe({ pending: 2001, processed: 1 }, 60_001).stalled, false, 'one message drained is progress');
    assert.equal(w.observe({ pending: 2001, processed: 1 }, 120_000).stalled, false);
    assert.equal(w.observe({ pending: 2001, processed: 1 }, 120_001).stalled, true);
  });

  it('does not call a growing backlog stalled while work gets done (overload is not a stall)', () => {
    const w = new ProgressWatchdog(1_000);
    for (let t = 0; t <= 10_000; t += 500) assert.equal(w.observe({ pending: t, processed: t / 10 }, t).stalled, false, `t=${t}`);
  });

  it('is never stalled with nothing pending, however long the counter stands still', () => {
    const w = new ProgressWatchdog(1_000);
    w.observe({ pending: 0, processed: 7 }, 0);
    assert.equal(w.observe({ pending: 0, processed: 7 }, 100_000).stalled, false);
    // Work arrives after a long idle spell: counted from the last sample that saw nothing pending, not from the last progress.
    assert.equal(w.observe({ pending: 3, processed: 7 }, 100_500).stalled, false);
    assert.equal(w.observe({ pending: 3, processed: 7 }, 101_000).stalled, true);
  });

  it('treats a counter that went down (a restarted source) as movement, and non-finite pending as none', () => {
    const w = new ProgressWatchdog(1_000);
    w.observe({ pending: 4, processed: 10 }, 0);
    assert.equal(w.observe({ pending: 4, processed: 2 }, 5_000).stalled, false);
    assert.equal(w.observe({ pending: Number.NaN, processed: 2 }, 9_000).stalled, false);
  });

  it('never stalls with the timeout 0 (off)', () => {
    const w = new ProgressWatchdog(0);
    w.observe({ pending: 9, processed: 0 }, 0);
    assert.equal(w.observe({ pending: 9, processed: 0 }, 1e9).stalled, false);
  });
});

describe('StageMonitor', () => {
  it('reports a stalled stage in readiness with its name, pending count and since when, and clears when it moves', () => {
    let now = Date.UTC(2026, 11, 1, 12);
    const start = now;
    const spool = { pending: 1, processed: 0 };
    const m = new StageMonitor({ stallTimeoutMs: 60_000, now: () => now, sampleIntervalMs: 0 });
    m.add('ingest:spool', () => spool);
    m.add('consumer:aggregator', () => ({ pending: 0, processed: 0 }));
    assert.equal(m.check(), true);
    now += 30_000;
    spool.pending = 2001;
    assert.equal(m.check(), true, 'not yet');
    now += 30_000;
    const out = m.check();
    assert.notEqual(out, true);
    assert.ok(typeof out === 'object' && !out.ok);
    assert.equal(out.reason, `ingest:spool: 2001 pending, no progress for 60 s (since ${new Date(start).toISOString()})`);
    assert.deepEqual(out.details, [{ stage: 'ingest:spool', pending: 2001, since: new Date(start).toISOString() }]);
    spool.processed = 1;
    assert.equal(m.check(), true);
    m.stop();
  });

  it('keeps the backlog gauges current at every scrape, whoever else updates them', async () => {
    let now = 0;
    const registry = new Registry();
    const stage = { pending: 1, processed: 0 };
    const m = new StageMonitor({ stallTimeoutMs: 10_000, registry, now: () => now, sampleIntervalMs: 0 });
    const remove = m.add('ingest:spool', () => stage);
    const read = async (name: string): Promise<number | undefined> => (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.stage === 'ingest:spool')?.value;
    assert.equal(await read('eip_stage_pending'), 1);
    stage.pending = 2001;
    now = 10_000;
    assert.equal(await read('eip_stage_pending'), 2001, 'no drain loop needed to move it');
    assert.equal(await read('eip_stage_stalled'), 1);
    assert.equal(await read('eip_stage_seconds_since_progress'), 10);
    remove();
    assert.equal(await read('eip_stage_pending'), undefined, 'a stage no longer watched is dropped');
    m.stop();
  });

  it('reads a sampler that throws as nothing pending rather than failing the scrape', () => {
    const m = new StageMonitor({ stallTimeoutMs: 1, now: () => 0, sampleIntervalMs: 0 });
    m.add('broken', () => { throw new Error('gone'); });
    assert.deepEqual(m.sample(), [{ stage: 'broken', stalled: false, pending: 0, progressAt: 0 }]);
  });
});
