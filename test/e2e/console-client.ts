/** The console API as the end-to-end tests use it: the development operator token, JSON in and out. */
import assert from 'node:assert/strict';
import type { AlertDetail, AlertList, AlertView } from '../../services/console/api/schemas.ts';
import { waitFor } from '../helpers/bus.ts';
import { devToken, type ExpectedAlert } from './e2e-park.ts';

export class ConsoleClient {
  readonly baseUrl: string;
  private readonly token: string;
  constructor(baseUrl: string, token = devToken) {
    this.baseUrl = baseUrl;
    this.token = token;
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(new URL(path, this.baseUrl), { headers: { authorization: `Bearer ${this.token}` } });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async post<T>(path: string, body: object): Promise<{ status: number; body: T }> {
    const res = await fetch(new URL(path, this.baseUrl), { method: 'POST', headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** Every alert of the park, whatever its state. */
  async alerts(park: string): Promise<AlertView[]> {
    return (await this.get<AlertList>(`/api/alerts?park=${park}&state=all&limit=5000`)).alerts;
  }

  detail(fingerprint: string): Promise<AlertDetail> {
    return this.get<AlertDetail>(`/api/alerts/${fingerprint}`);
  }
}

/**
 * Waits until every expected alert reached its last state, then for `settleMs`
 * more so that late extras would show, and checks that exactly the expected
 * alerts exist, each having passed through exactly the expected states.
 */
export async function assertExactAlerts(client: ConsoleClient, park: string, expected: ExpectedAlert[], timeoutMs: number, settleMs: number): Promise<AlertDetail[]> {
  const key = (a: { ruleId: string; meter?: string | undefined }) => `${a.ruleId}@${a.meter ?? '-'}`;
  await waitFor(async () => {
    const alerts = await client.alerts(park);
    return expected.every((e) => alerts.some((a) => key(a) === key(e) && a.state === e.states.at(-1)));
  }, timeoutMs, `alerts ${expected.map((e) => `${key(e)} ${e.states.at(-1)}`).join(', ')}`, 500);
  await new Promise((r) => setTimeout(r, settleMs));
  const alerts = await client.alerts(park);
  assert.deepEqual(alerts.map(key).sort(), expected.map(key).sort(), 'exactly the expected alerts, no others');
  const details = await Promise.all(alerts.map((a) => client.detail(a.fingerprint)));
  for (const e of expected) {
    const d = details.find((x) => key(x) === key(e))!;
    assert.deepEqual(d.history.map((h) => h.state), e.states, `${key(e)} went through ${e.states.join(' -> ')} once`);
    assert.deepEqual(d.history.map((h) => h.transition), e.states.map((_, i) => i + 1), 'transitions numbered without gaps or repeats');
  }
  return details;
}
