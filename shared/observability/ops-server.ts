/**
 * The small HTTP server every service exposes for operations:
 *   GET /healthz  200 while the process is alive and not shutting down
 *   GET /readyz   200 only when every readiness check passes (503 with the failing ones,
 *                 and for each the reason it gave: which stage stalled, which loop failed)
 *   GET /metrics  Prometheus text exposition
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';

/** A check answers yes or no, or no with a reason (and details) shown in the /readyz body. */
export type CheckOutcome = boolean | { ok: boolean; reason?: string; details?: unknown };
export type ReadinessCheck = () => Promise<CheckOutcome> | CheckOutcome;

interface CheckResult {
  ok: boolean;
  reason?: string;
  details?: unknown;
}

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

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      Promise.resolve().then(check),
      new Promise<CheckResult>((resolve) => { timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs); }),
    ]);
    return typeof outcome === 'boolean' ? { ok: outcome } : { ok: outcome.ok === true, ...(outcome.reason !== undefined && { reason: outcome.reason }), ...(outcome.details !== undefined && { details: outcome.details }) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
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
        const failing = results.filter(([, r]) => !r.ok);
        const ready = !shuttingDown && failing.length === 0;
        const reasons = failing.filter(([, r]) => r.reason !== undefined).map(([name, r]) => [name, r.reason] as const);
        const details = failing.filter(([, r]) => r.details !== undefined).map(([name, r]) => [name, r.details] as const);
        reply(ready ? 200 : 503, JSON.stringify({
          ready,
          checks: Object.fromEntries(results.map(([name, r]) => [name, r.ok])),
          ...(reasons.length > 0 && { reasons: Object.fromEntries(reasons) }),
          ...(details.length > 0 && { details: Object.fromEntries(details) }),
          ...(shuttingDown && { shuttingDown }),
        }));
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
