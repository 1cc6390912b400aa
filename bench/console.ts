/**
 * Console benchmark, in one process on the embedded adapters (the console's own
 * cost, not Kafka's). Prints JSON lines on stdout, progress on stderr:
 *   1. console-board: N alerts folded from the bus into the board (records/s),
 *      the heap they take, and GET /api/alerts (500 newest of the park) latency;
 *   2. console-stream: C Server-Sent Events clients (each first gets the N-alert
 *      snapshot), then T alert transitions published on the bus at R a second:
 *      latency from publish to each client's receipt, delivered events/s.
 *
 *   npm run bench:console [-- --alerts 20000 --clients 50 --transitions 2000 --rate 200]
 */
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { topics } from '../shared/contracts/kafka-topics.ts';
import type { AlertEvent } from '../shared/contracts/events.ts';
import { startTestConsole, password } from '../services/console/testing.ts';

const { values } = parseArgs({ options: { alerts: { type: 'string' }, clients: { type: 'string' }, transitions: { type: 'string' }, rate: { type: 'string' }, help: { type: 'boolean' } } });
if (values.help) {
  process.stdout.write('npm run bench:console [-- --alerts 20000 --clients 50 --transitions 2000 --rate 200]\n');
  process.exit(0);
}
const alerts = Number(values.alerts ?? 20_000);
const clients = Number(values.clients ?? 50);
const transitions = Number(values.transitions ?? 2_000);
const rate = Number(values.rate ?? 200);
const log = (msg: string): void => { process.stderr.write(`bench:console: ${msg}\n`); };
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};
const event = (i: number, transition: number, at: number): AlertEvent => ({
  v: 1, fingerprint: `fp-${i}`, transition, state: transition % 2 ? 'firing' : 'acknowledged', previousState: null, severity: i % 3 ? 'warning' : 'critical',
  ruleId: 'ww-ph-range', ruleVersion: 1, park: 'park-a', tenant: 'park-a-smelter', meter: 'park-a-outlet', metric: 'ph',
  summary: `pH ${i}`, provenance: { values: [5.1, 5.0, 4.9], threshold: 6 }, at, simulated: true,
});

const c = await startTestConsole();
try {
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < alerts; i += 1_000) {
    await c.bus.publish(Array.from({ length: Math.min(1_000, alerts - i) }, (_, k) => event(i + k, 1, Date.now())).map((e) => ({ topic: topics.alerts.name, key: e.fingerprint, value: JSON.stringify(e) })));
  }
  while (c.models.alerts.size < alerts) await new Promise((r) => setTimeout(r, 10));
  const foldSeconds = (performance.now() - t0) / 1000;
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const signIn = await c.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'olu', password: password('olu') } });
  const cookie = `eip_session=${signIn.cookies.find((k) => k.name === 'eip_session')!.value}`;
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    const res = await c.app.inject({ method: 'GET', url: '/api/alerts?park=park-a&limit=500', headers: { cookie } });
    if (res.statusCode !== 200) throw new Error(res.body);
    lat.push(performance.now() - s);
  }
  process.stdout.write(`${JSON.stringify({
    bench: 'console-board', alerts, publishAndFoldPerSecond: Math.round(alerts / foldSeconds),
    heapMiB: heapBefore && global.gc ? Math.round(((heapAfter - heapBefore) / 2 ** 20) * 10) / 10 : null,
    listLatencyMs: { p50: pct(lat, 50), p99: pct(lat, 99) }, listLimit: 500,
  })}\n`);
  log('board done; opening streams');

  await c.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (c.app.server.address() as AddressInfo).port;
  const latencies: number[] = [];
  let delivered = 0;
  const readers = await Promise.all(Array.from({ length: clients }, async () => {
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/api/alerts/stream?park=park-a`, { headers: { cookie }, signal: ac.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let buf = '';
    let ready = false;
    let resolveReady!: () => void;
    const readyP = new Promise<void>((r) => { resolveReady = r; });
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done || !value) return;
        buf += Buffer.from(value).toString('utf8');
        let idx;
        while ((idx = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          if (chunk.startsWith('event: ready')) { ready = true; resolveReady(); continue; }
          if (!ready || !chunk.startsWith('event: alert')) continue;
          const data = chunk.slice(chunk.indexOf('data: ') + 6);
          const e = JSON.parse(data) as { at: number };
          latencies.push(Date.now() - e.at);
          delivered++;
        }
      }
    })();
    await readyP;
    return ac;
  }));
  log(`${clients} streams ready (each got the ${alerts}-alert snapshot); publishing ${transitions} transitions`);
  const s0 = performance.now();
  // Paced in tenths of a second: alert transitions come in trickles, not floods.
  const step = Math.max(1, Math.round(rate / 10));
  for (let i = 0; i < transitions; i += step) {
    const tick = performance.now();
    await c.bus.publish(Array.from({ length: Math.min(step, transitions - i) }, (_, k) => event(i + k, 2, Date.now())).map((e) => ({ topic: topics.alerts.name, key: e.fingerprint, value: JSON.stringify(e) })));
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - tick))));
  }
  const deadline = Date.now() + 120_000;
  while (delivered < clients * transitions && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const seconds = (performance.now() - s0) / 1000;
  for (const ac of readers) ac.abort();
  process.stdout.write(`${JSON.stringify({
    bench: 'console-stream', clients, transitions, ratePerSecond: rate, delivered, expected: clients * transitions,
    eventsPerSecond: Math.round(delivered / seconds), latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99) },
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  })}\n`);
} finally {
  await c.close();
}
