/**
 * InfluxDB over HTTPS: the store verifies the server with the CA it is given
 * (INFLUX_CA_FILE), for writes and /health alike, and refuses a server its CA
 * did not sign. The server is an in-process HTTPS stand-in answering the two
 * endpoints, with certificates from infra/dev-tls.sh.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInfluxStore } from './influx-store.ts';
import { readTlsFiles } from '../tls-files.ts';
import { quietLogger } from '../../observability/logger.ts';

const root = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'eip-influx-tls-'));
const otherCa = mkdtempSync(join(tmpdir(), 'eip-influx-tls-other-'));
const logger = quietLogger('influx-https-test');

describe('InfluxDB store over HTTPS', () => {
  let server: Server;
  let url: string;
  const writes: string[] = [];

  before(async () => {
    for (const d of [dir, otherCa]) {
      const res = spawnSync('bash', [join(root, 'infra/dev-tls.sh'), d], { encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
    }
    server = createServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        if (req.url === '/health') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'pass' }));
        } else if (req.url?.startsWith('/api/v2/write')) {
          writes.push(body);
          res.writeHead(204).end();
        } else res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const d of [dir, otherCa]) rmSync(d, { recursive: true, force: true });
  });

  const store = (caDir?: string) => createInfluxStore({ url, token: 't', org: 'eip', bucket: 'telemetry', timeoutMs: 3_000, logger, ...(caDir && { tls: readTlsFiles({ INFLUX_CA_FILE: join(caDir, 'ca.crt') }, 'INFLUX') }) });
  const reading = { park: 'p', tenant: 't', meter: 'm', metric: 'ph', value: 7, unit: 'pH', ts: Date.now() };

  it('answers ping and stores a write when the CA signed the server', async () => {
    const s = store(dir);
    try {
      assert.equal(await s.ping(), true);
      await s.writeReadings([reading]);
      assert.equal(writes.length, 1);
      assert.match(writes[0] ?? '', /^reading,/);
    } finally {
      await s.close();
    }
  });

  it('refuses a server its CA did not sign, and one the system does not trust', async () => {
    for (const s of [store(otherCa), store()]) {
      try {
        assert.equal(await s.ping(), false);
        await assert.rejects(s.writeReadings([reading]));
      } finally {
        await s.close();
      }
    }
    assert.equal(writes.length, 1, 'nothing more reached the server');
  });
});
