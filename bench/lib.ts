/** Helpers shared by the benchmarks. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = new URL('../', import.meta.url).pathname;

export function spawnTs(script: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [script, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with the first stdout line that satisfies pick. */
export function lineFrom(child: ChildProcess, pick: (line: string) => boolean = () => true): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (pick(line)) resolve(line);
      }
    });
    child.on('exit', (code) => reject(new Error(`process exited (${code}) before the expected line: ${err}`)));
  });
}

/** Peak resident set size of a process, in MiB (Linux VmHWM). */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** CPU time a process has used so far (user + system, all its threads), in seconds (Linux /proc, USER_HZ 100). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** CPU seconds the whole machine has spent busy since boot (every state of /proc/stat's first line but idle and iowait). */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  const n = ticks.map(Number);
  // user nice system idle iowait irq softirq steal (guest time is inside user already).
  return ((n[0] ?? 0) + (n[1] ?? 0) + (n[2] ?? 0) + (n[5] ?? 0) + (n[6] ?? 0) + (n[7] ?? 0)) / ticksPerSecond;
}

const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Sum of a counter over its labels in a Prometheus text page. */
export function counter(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** A quantile from a Prometheus histogram (summed over labels), interpolated linearly inside the bucket. */
export function histogramQuantile(text: string, name: string, q: number): number {
  return bucketsQuantile(histogramBuckets(text, name), q);
}

export type Buckets = ReadonlyMap<number, number>;

/** The cumulative buckets (le -> count) of a histogram in a Prometheus text page, summed over labels. */
export function histogramBuckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const key = le === '+Inf' ? Infinity : Number(le);
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** What was observed between two readings of the same histogram. */
export function bucketsDelta(before: Buckets, after: Buckets): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, n] of after) out.set(le, Math.max(0, n - (before.get(le) ?? 0)));
  return out;
}

/** A quantile from cumulative buckets, interpolated linearly inside the bucket (NaN when empty). */
export function bucketsQuantile(buckets: Buckets, q: number): number {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A command-line integer above zero, or exit 2 naming the flag, with the usage. */
export function positiveInt(name: string, raw: string, usage: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive integer, not "${raw}"\n${usage}`);
    process.exit(2);
  }
  return n;
}

/** A one-park, one-tenant registry of `meters` electricity meters under a fresh tag, written to dir/registry.json. */
export function writeBenchRegistry(dir: string, meters: number): { tag: string; park: string; registryPath: string } {
  const tag = randomBytes(3).toString('hex');
  const park = `bench-${tag}`;
  const registryPath = join(dir, 'registry.json');
  writeFileSync(registryPath, JSON.stringify({
    version: 1,
    parks: [{ id: park, name: 'bench', country: 'ID', timezone: 'Asia/Makassar', usedAreaHa: 100, emissionFactors: { grid: { kgCo2ePerKwh: 0.73, source: 'bench' } },
      tenants: [{ id: `bench-${tag}`, name: 'bench', sector: 'bench', supplySource: 'grid',
        meters: Array.from({ length: meters }, (_, i) => ({ id: `bm${i}-${tag}`, kind: 'electricity', cadenceSeconds: 60, metrics: ['active_power', 'active_energy_import'] })) }] }],
  }));
  return { tag, park, registryPath };
}

/**
 * The node flags a service's npm script starts it with (`exec node [flags] services/<name>/main.ts`),
 * so a bench measures the service as it runs; none for a service without such a script.
 */
export function serviceNodeArgs(name: string): string[] {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const main = `services/${name}/main.ts`;
  const script = Object.values(scripts).find((s) => s.split(/\s+/).includes(main));
  if (script === undefined) return [];
  const words = script.split(/\s+/);
  const from = words.indexOf('node');
  const to = words.indexOf(main);
  if (from < 0 || to < from) throw new Error(`package.json's script for ${name} is not "exec node [flags] ${main}": ${script}`);
  return words.slice(from + 1, to);
}

/**
 * Starts the servers of infra/stack.sh when one is not running. Servers already
 * running are left alone: `up` restarts a Mosquitto whose rendered accounts differ
 * from this checkout's, which would cut off everyone else sharing it.
 */
export function ensureSharedStack(log: (msg: string) => void): void {
  if (spawnSync('bash', ['infra/stack.sh', 'status'], { cwd: repoRoot, stdio: 'ignore' }).status === 0) return;
  log('starting Mosquitto, Kafka and InfluxDB (infra/stack.sh up)');
  const up = spawnSync('bash', ['infra/stack.sh', 'up'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], timeout: 30 * 60_000 });
  if (up.status !== 0) throw new Error(`infra/stack.sh up failed (${up.error?.message ?? `exit ${up.status}`})`);
}
