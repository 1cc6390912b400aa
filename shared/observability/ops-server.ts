/**
 * The small HTTP server every service exposes for operations:
 *   GET /healthz  200 while the process is alive and not shutting down
 *   GET /readyz   200 only when every readiness check passes (503 with the failing ones)
 *   GET /metrics  Prometheus text exposition
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';

export type ReadinessCheck = () => Promise<boolean> | boolean;

export interface OpsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  logger: Logger;
  checks: Record<string, ReadinessCheck>;
  /** Per-check timeout: a hung dependency reads as not ready. */
  checkTimeoutMs?: number;
}

export interface OpsServer {
  readonly port: number;
  setShuttingDown(): void;
  close(): Promise<void>;
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  let shuttingDown = false;
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, JSON.stringify({ error: 'method not allowed' }));
    if (path === '/healthz') return reply(shuttingDown ? 503 : 200, JSON.stringify({ status: shuttingDown ? 'shutting-down' : 'ok' }));
    if (path === '/readyz') {
      void Promise.all(Object.entries(options.checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const)).then((results) => {
        const failing = results.filter(([, ok]) => !ok).map(([name]) => name);
        const ready = !shuttingDown && failing.length === 0;
        reply(ready ? 200 : 503, JSON.stringify({ ready, checks: Object.fromEntries(results), ...(shuttingDown && { shuttingDown }) }));
      });
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => reply(200, text, options.registry.contentType),
        (err: unknown) => { options.logger.error({ err }, 'metrics collection failed'); reply(500, 'metrics failed', 'text/plain'); },
      );
      return;
    }
    reply(404, JSON.stringify({ error: 'not found', paths: ['/healthz', '/readyz', '/metrics'] }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ host: options.host, port }, 'ops server listening (/healthz /readyz /metrics)');
  return {
    port,
    setShuttingDown: () => { shuttingDown = true; },
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
