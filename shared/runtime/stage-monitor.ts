/**
 * A service's stages under progress watch: each stage names a sampler of
 * (pending, processed); the monitor samples them on a timer and whenever
 * /metrics or /readyz is read, so the backlog gauges are current when scraped
 * and a stall shows in readiness with its stage, pending count and since when.
 */
import type { Registry } from 'prom-client';
import { Gauge } from '../observability/metrics.ts';
import type { CheckOutcome } from '../observability/ops-server.ts';
import { ProgressWatchdog, type ProgressSample } from './progress-watchdog.ts';

export interface StageStatus {
  stage: string;
  stalled: boolean;
  pending: number;
  /** Epoch ms of the last progress (or of the last moment with nothing pending). */
  progressAt: number;
}

export interface StageMonitorOptions {
  /** A stage with work pending and no progress for this long is stalled; 0 turns detection off. */
  stallTimeoutMs: number;
  /** Gauges eip_stage_* are registered here, collected at each scrape. */
  registry?: Registry;
  /** Sampling between scrapes, so a short idle spell just before a stall is not missed. Default: a quarter of the timeout, at most 1 s. */
  sampleIntervalMs?: number;
  now?: () => number;
}

interface Watched {
  sample: () => ProgressSample;
  watchdog: ProgressWatchdog;
}

export class StageMonitor {
  private readonly stages = new Map<string, Watched>();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout | undefined;

  private readonly o: StageMonitorOptions;
  constructor(o: StageMonitorOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    const interval = o.sampleIntervalMs ?? Math.min(1_000, Math.max(10, Math.floor(o.stallTimeoutMs / 4)));
    if (interval > 0 && o.stallTimeoutMs > 0) {
      this.timer = setInterval(() => this.sample(), interval);
      this.timer.unref();
    }
    if (o.registry) this.registerGauges(o.registry);
  }

  /** Watches a stage; returns the function that stops watching it. A name in use is replaced. */
  add(stage: string, sample: () => ProgressSample): () => void {
    const watched: Watched = { sample, watchdog: new ProgressWatchdog(this.o.stallTimeoutMs) };
    this.stages.set(stage, watched);
    return () => {
      if (this.stages.get(stage) === watched) this.stages.delete(stage);
    };
  }

  /** Samples every stage now. A sampler that throws reads as nothing pending: it is a gauge, not a loop. */
  sample(): StageStatus[] {
    const now = this.now();
    return [...this.stages].map(([stage, w]) => {
      let s: ProgressSample;
      try {
        s = w.sample();
      } catch {
        s = { pending: 0, processed: 0 };
      }
      const status = w.watchdog.observe(s, now);
      return { stage, ...status };
    });
  }

  /** The readiness check: not ready while a stage is stalled, saying which, how much and since when. */
  readonly check = (): CheckOutcome => {
    const stalled = this.sample().filter((s) => s.stalled);
    if (stalled.length === 0) return true;
    const now = this.now();
    return {
      ok: false,
      reason: stalled.map((s) => `${s.stage}: ${s.pending} pending, no progress for ${Math.round((now - s.progressAt) / 1000)} s (since ${new Date(s.progressAt).toISOString()})`).join('; '),
      details: stalled.map((s) => ({ stage: s.stage, pending: s.pending, since: new Date(s.progressAt).toISOString() })),
    };
  };

  stop(): void {
    clearInterval(this.timer);
  }

  private registerGauges(registry: Registry): void {
    const sample = (): StageStatus[] => this.sample();
    const now = this.now;
    const r = { registers: [registry], labelNames: ['stage'] as const };
    new Gauge({
      name: 'eip_stage_pending', help: 'work a stage has pending (ingest: spooled messages; consumers: records behind the partition ends they last saw, in-flight batch included), sampled at scrape', ...r,
      collect() {
        this.reset();
        for (const s of sample()) this.set({ stage: s.stage }, s.pending);
      },
    });
    new Gauge({
      name: 'eip_stage_stalled', help: '1 while a stage has work pending and has made no progress for STALL_TIMEOUT_MS', ...r,
      collect() {
        this.reset();
        for (const s of sample()) this.set({ stage: s.stage }, s.stalled ? 1 : 0);
      },
    });
    new Gauge({
      name: 'eip_stage_seconds_since_progress', help: 'seconds since a stage last made progress or had nothing pending', ...r,
      collect() {
        this.reset();
        const at = now();
        for (const s of sample()) this.set({ stage: s.stage }, Math.max(0, at - s.progressAt) / 1000);
      },
    });
  }
}
