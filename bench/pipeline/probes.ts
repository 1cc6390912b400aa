/**
 * What the pipeline benchmarks read from outside the services: a process's CPU
 * time and memory from /proc, gauges from its /metrics page, every consumer
 * group's lag from Kafka, and the alerts the console streams to an operator.
 */
import { readFileSync } from 'node:fs';
import { cpuSeconds, machineBusySeconds } from '../lib.ts';
import { serverNames, type PrivateStack, type ServerName } from '../chaos/stack.ts';
import { Kafka, logLevel, type Admin } from 'kafkajs';


export interface ProcStats { cpuSeconds: number; rssMiB: number; peakRssMiB: number }

/** User plus system CPU seconds, current and peak resident set (VmRSS, VmHWM); NaN once the process is gone. */
export function procStats(pid: number): ProcStats {
  try {
    const cpu = cpuSeconds(pid);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { cpuSeconds: cpu, rssMiB: Math.round(kib('VmRSS') / 1024), peakRssMiB: Math.round(kib('VmHWM') / 1024) };
  } catch {
    return { cpuSeconds: NaN, rssMiB: NaN, peakRssMiB: NaN };
  }
}

export interface CpuSnapshot { at: number; machine: number; servers: Record<ServerName, number> }

/** The machine's busy CPU seconds and each private server's, now. */
export function cpuSnapshot(stack: Pick<PrivateStack, 'pid'>): CpuSnapshot {
  return { at: Date.now(), machine: machineBusySeconds(), servers: Object.fromEntries(serverNames.map((s) => [s, cpuSeconds(stack.pid(s))])) as Record<ServerName, number> };
}

/**
 * Where the machine's CPU went between two snapshots, per million readings: each
 * server, and the rest (the publisher, the bench, anything else running) once the
 * `accounted` seconds (the services measured) are taken out; busyCores is the
 * machine's mean number of busy cores. With every core busy, the rate is the
 * machine's, not one process's.
 */
export interface MachineCpu { servers: Record<ServerName, number>; rest: number; busyCores: number }

export function machineCpu(before: CpuSnapshot, after: CpuSnapshot, accounted: number, readings: number): MachineCpu {
  const perMillion = (seconds: number): number => Math.round((seconds / readings) * 1e6 * 10) / 10;
  const servers = Object.fromEntries(serverNames.map((s) => [s, after.servers[s] - before.servers[s]])) as Record<ServerName, number>;
  const machine = after.machine - before.machine;
  const rest = machine - accounted - serverNames.reduce((sum, s) => sum + servers[s], 0);
  return {
    servers: Object.fromEntries(serverNames.map((s) => [s, perMillion(servers[s])])) as Record<ServerName, number>,
    rest: perMillion(Math.max(0, rest)),
    busyCores: Math.round((machine / ((after.at - before.at) / 1000)) * 100) / 100,
  };
}

/** One gauge (summed over labels) from a Prometheus text page, NaN when absent. */
export function gauge(text: string, name: string): number {
  let sum = NaN;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum = (Number.isNaN(sum) ? 0 : sum) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function metricsPage(opsUrl: string): Promise<string> {
  try {
    return await (await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  } catch {
    return '';
  }
}

/** Lag of every consumer group on the cluster: records between its committed offsets and the partitions' ends. */
export class GroupLags {
  private readonly admin: Admin;
  constructor(brokers: string) {
    this.admin = new Kafka({ clientId: 'bench-lag', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  }
  connect(): Promise<void> { return this.admin.connect(); }
  disconnect(): Promise<void> { return this.admin.disconnect(); }

  async read(): Promise<Map<string, number>> {
    const { groups } = await this.admin.listGroups();
    const ends = new Map<string, { low: number; high: number }>();
    const out = new Map<string, number>();
    for (const { groupId } of groups) {
      let lag = 0;
      for (const t of await this.admin.fetchOffsets({ groupId })) {
        if (!ends.has(`${t.topic}/0`)) {
          for (const p of await this.admin.fetchTopicOffsets(t.topic)) ends.set(`${t.topic}/${p.partition}`, { low: Number(p.low), high: Number(p.high) });
        }
        for (const p of t.partitions) {
          const end = ends.get(`${t.topic}/${p.partition}`);
          if (!end) continue;
          const committed = Number(p.offset);
          // The ends were read a moment before this group's offsets: a commit since then is no lag.
          lag += Math.max(0, end.high - (committed >= 0 ? Math.max(committed, end.low) : end.low));
        }
      }
      out.set(groupId, lag);
    }
    return out;
  }

  /** Sum of the end offsets of a topic's partitions. */
  async endOffsets(topic: string): Promise<number> {
    return (await this.admin.fetchTopicOffsets(topic)).reduce((a, p) => a + Number(p.high), 0);
  }
}

export interface StreamedAlert { receivedAt: number; state: string; fingerprint: string; transition: number; readingTs: number | undefined }

/**
 * Follows the console's live alert stream (Server-Sent Events) as an API-token
 * caller would, recording when each alert frame arrives.
 */
export async function followAlerts(consoleUrl: string, park: string, token: string, onAlert: (a: StreamedAlert) => void): Promise<{ ready: Promise<void>; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(`${consoleUrl}/api/alerts/stream?park=${encodeURIComponent(park)}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`alert stream answered ${res.status}`);
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => { markReady = r; });
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        const receivedAt = Date.now();
        buf += decoder.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (frame.startsWith('event: ready')) markReady();
          if (!frame.startsWith('event: alert')) continue;
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (!data) continue;
          const v = JSON.parse(data) as { state: string; fingerprint: string; transition: number; provenance?: { window?: { end?: number } } };
          onAlert({ receivedAt, state: v.state, fingerprint: v.fingerprint, transition: v.transition, readingTs: v.provenance?.window?.end });
        }
      }
    } catch { /* closed */ }
  })();
  return { ready, close: () => abort.abort() };
}
