import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

/** Test helpers for the time-series adapters: environment, temp files, a scripted fake InfluxDB. */

export interface InfluxEnv {
  url: string;
  token: string;
  org: string;
  bucket: string;
  aggregatesBucket: string;
}

/** The real InfluxDB the contract runs against; defaults match infra/influxdb. */
export function influxEnv(env: NodeJS.ProcessEnv = process.env): InfluxEnv {
  const bucket = env.INFLUX_BUCKET ?? 'telemetry';
  return {
    url: env.INFLUX_URL ?? 'http://127.0.0.1:8086',
    token: env.INFLUX_TOKEN ?? 'eip-dev-token',
    org: env.INFLUX_ORG ?? 'eip',
    bucket,
    aggregatesBucket: env.INFLUX_AGGREGATES_BUCKET ?? `${bucket}_downsampled`,
  };
}

export async function tempDir(prefix = 'eip-ts-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  return port;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeAnswer {
  status: number;
  headers?: OutgoingHttpHeaders;
  body?: string;
  /** Answer after this long. */
  delayMs?: number;
}

export interface FakeInflux {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 that answers each request as `answer` says, for the
 * status codes a real InfluxDB cannot be made to send on demand (429, 503, 413).
 * 'hang' never answers.
 */
export async function fakeInflux(answer: (req: RecordedRequest, index: number) => FakeAnswer | 'hang'): Promise<FakeInflux> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      const a = answer(recorded, requests.length - 1);
      if (a === 'hang') return;
      setTimeout(() => {
        res.writeHead(a.status, a.headers);
        res.end(a.body);
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls until `check` stops throwing, for stores whose reads may lag a write. */
export async function waitFor<T>(check: () => Promise<T>, { timeoutMs = 5_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
