/**
 * A stand-in for the regulators' receivers, for tests and the demo: SPARING
 * (`POST /sparing`, `{"token": <HS256 JWT>}` signed with the station's secret)
 * and SISPEK-style hourly averages (`POST /sispek`, JSON). It verifies the
 * signature and the schema, dedups on the Idempotency-Key header (a repeated
 * key gets its first receipt again and is not recorded twice), can be told to
 * fail, and lists what it accepted (`GET /submissions`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { sispekBodySchema, sparingPayloadSchema, sparingRequestSchema } from '../../services/reporting/domain/bodies.ts';
import { verifyHs256 } from '../../services/reporting/domain/jwt.ts';

/** ok; unavailable: 503 to everything; timeout: takes the delivery and never answers (a lost acknowledgement); refuse: 401 to everything. */
export const receiverModes = ['ok', 'unavailable', 'timeout', 'refuse'] as const;
export type ReceiverMode = (typeof receiverModes)[number];

export interface Accepted {
  kind: 'sparing' | 'sispek';
  idempotencyKey: string | null;
  station: string;
  receipt: string;
  receivedAt: number;
  body: unknown;
  /** SPARING: the token as posted, so a test can verify it on its own. */
  token?: string;
}

export interface Refusal {
  kind: 'sparing' | 'sispek' | 'unknown';
  status: number;
  reason: string;
  receivedAt: number;
}

export interface ReceiverOptions {
  host?: string;
  port?: number;
  /** The station's secret, by SPARING uid; undefined: refused as unknown. */
  secretOf: (uid: string) => string | undefined;
  mode?: ReceiverMode;
  maxBodyBytes?: number;
  now?: () => number;
}

export interface Receiver {
  url: string;
  port: number;
  setMode(mode: ReceiverMode): void;
  accepted(): Accepted[];
  refused(): Refusal[];
  /** Deliveries whose key had been accepted already. */
  duplicates(): number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve('too-large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const send = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

function issues(error: z.ZodError): string {
  return error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

export async function startReceiver(o: ReceiverOptions): Promise<Receiver> {
  let mode: ReceiverMode = o.mode ?? 'ok';
  const now = o.now ?? Date.now;
  const accepted: Accepted[] = [];
  const refused: Refusal[] = [];
  const byKey = new Map<string, Accepted>();
  let duplicates = 0;
  const held = new Set<ServerResponse>();

  const refuse = (res: ServerResponse, kind: Refusal['kind'], status: number, reason: string): void => {
    refused.push({ kind, status, reason, receivedAt: now() });
    send(res, status, { error: reason });
  };

  const accept = (res: ServerResponse, kind: Accepted['kind'], key: string | null, station: string, body: unknown, token?: string): void => {
    const seen = key === null ? undefined : byKey.get(key);
    if (seen) {
      duplicates++;
      if (mode === 'timeout') return hold(res);
      return send(res, 200, { receipt: seen.receipt, duplicate: true });
    }
    const entry: Accepted = { kind, idempotencyKey: key, station, receipt: `rcpt-${accepted.length + 1}`, receivedAt: now(), body, ...(token !== undefined && { token }) };
    accepted.push(entry);
    if (key !== null) byKey.set(key, entry);
    if (mode === 'timeout') return hold(res);
    send(res, 200, { receipt: entry.receipt, duplicate: false });
  };

  const hold = (res: ServerResponse): void => {
    held.add(res);
    res.on('close', () => held.delete(res));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (req.method === 'GET' && path === '/submissions') return send(res, 200, { accepted, refused, duplicates });
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true, mode });
    if (req.method === 'POST' && path === '/mode') {
      const raw = await readBody(req, 1000);
      const wanted = raw === 'too-large' ? undefined : (JSON.parse(raw.toString() || '{}') as { mode?: unknown }).mode;
      if (!receiverModes.includes(wanted as ReceiverMode)) return send(res, 400, { error: `mode must be one of ${receiverModes.join(', ')}` });
      mode = wanted as ReceiverMode;
      return send(res, 200, { mode });
    }
    const kind = path === '/sparing' ? 'sparing' : path === '/sispek' ? 'sispek' : undefined;
    if (req.method !== 'POST' || kind === undefined) return refuse(res, 'unknown', 404, `no ${req.method ?? ''} ${path} here`);
    const raw = await readBody(req, o.maxBodyBytes ?? 1_000_000);
    if (mode === 'unavailable') return send(res, 503, { error: 'unavailable (stand-in receiver told to fail)' });
    if (mode === 'refuse') return refuse(res, kind, 401, 'refused (stand-in receiver told to refuse)');
    if (raw === 'too-large') return refuse(res, kind, 413, 'body too large');
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(res, kind, 400, 'body is not JSON');
    }
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    if (kind === 'sispek') {
      const body = sispekBodySchema.safeParse(json);
      if (!body.success) return refuse(res, kind, 422, `schema: ${issues(body.error)}`);
      return accept(res, kind, key, body.data.stack, body.data);
    }
    const request = sparingRequestSchema.safeParse(json);
    if (!request.success) return refuse(res, kind, 422, `schema: ${issues(request.error)}`);
    // The uid is read before the signature is checked only to pick the secret; nothing else of it is trusted yet.
    let uid: unknown;
    try {
      uid = (JSON.parse(Buffer.from(request.data.token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { uid?: unknown }).uid;
    } catch {
      return refuse(res, kind, 401, 'token is not a JWT');
    }
    const secret = typeof uid === 'string' ? o.secretOf(uid) : undefined;
    if (secret === undefined) return refuse(res, kind, 401, 'unknown station');
    const verified = verifyHs256(request.data.token, secret);
    if (!verified.ok) return refuse(res, kind, 401, `token refused: ${verified.reason}`);
    const payload = sparingPayloadSchema.safeParse(verified.payload);
    if (!payload.success) return refuse(res, kind, 422, `schema: ${issues(payload.error)}`);
    accept(res, kind, key, payload.data.uid, payload.data, request.data.token);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => { if (!res.headersSent) send(res, 500, { error: err instanceof Error ? err.message : String(err) }); });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`, port,
    setMode: (m) => { mode = m; },
    accepted: () => accepted.slice(),
    refused: () => refused.slice(),
    duplicates: () => duplicates,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
