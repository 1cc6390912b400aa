/**
 * The console on real Kafka and InfluxDB with the real rules service: an alert
 * raised by rules shows up through the API; an operator's acknowledgement goes
 * through eip.alert-commands.v1 to rules and comes back as a transition naming
 * the operator; a viewer may look but not act; no credentials, no data.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createKafkaBus } from '../../shared/adapters/kafka/index.ts';
import { topics } from '../../shared/contracts/kafka-topics.ts';
import type { ReadingBatchEvent } from '../../shared/contracts/events.ts';
import { quietLogger } from '../../shared/observability/logger.ts';
import { influx, kafkaBrokers } from '../helpers/servers.ts';
import { startService, freePort, type ServiceProcess } from '../helpers/service-process.ts';
import { serviceGroups, startGroupsAtEnd } from '../helpers/kafka-groups.ts';
import { eventually } from '../helpers/bus.ts';
import { makeE2ePark, devToken } from '../e2e/e2e-park.ts';
import { ConsoleClient } from '../e2e/console-client.ts';
import type { AlertView, CommandAccepted } from '../../services/console/api/schemas.ts';

const minute = 60_000;

describe('console on real Kafka and InfluxDB, with the rules service', { timeout: 180_000 }, () => {
  const p = makeE2ePark();
  const run = `ctest-${randomBytes(4).toString('hex')}`;
  const bus = createKafkaBus({ brokers: kafkaBrokers, clientId: run, logger: quietLogger('console-test') });
  const services: ServiceProcess[] = [];
  after(async () => {
    for (const s of services.reverse()) await s.stop('SIGTERM');
    await bus.close();
    rmSync(p.dir, { recursive: true, force: true });
  });
  const common = {
    BUS: 'kafka', TIMESERIES: 'influxdb', KAFKA_BROKERS: kafkaBrokers.join(','), INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org,
    INFLUX_BUCKET: influx.bucket, INFLUX_AGGREGATES_BUCKET: `${influx.bucket}_downsampled`, PARK_REGISTRY: p.registryPath, DATA_DIR: p.dir,
  };

  it('shows the alert rules raised, sends the operator\'s acknowledgement to rules, and refuses viewers and strangers', async () => {
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    await startGroupsAtEnd(serviceGroups.rules(`${run}-rules`));
    services.push(await startService('rules', { ...common, RULES_GROUP: `${run}-rules`, ALERTS_MQTT: 'false', TICK_INTERVAL_MS: '1000' }, freePort()));
    services.push(await startService('console', { ...common, CONSOLE_PORT: String(port), CONSOLE_UI: 'false' }, freePort()));
    const t0 = Date.now() - 30 * minute;
    const reading = (seq: number, value: number): ReadingBatchEvent => ({
      v: 1, park: p.park, tenant: 'park-wwtp', meter: 'wwtp-sparing-outlet', seq, receivedAt: t0 + seq * 2 * minute, simulated: false,
      readings: [{ metric: 'ph', unit: 'pH', value, ts: t0 + seq * 2 * minute }],
    });
    await bus.publish([0, 1, 2].map((seq) => ({ topic: topics.readings.name, key: 'wwtp-sparing-outlet', value: JSON.stringify(reading(seq, 9.8)) })));

    const operator = new ConsoleClient(base, devToken);
    const alert = await eventually(async () => (await operator.alerts(p.park)).find((a) => a.ruleId === 'ww-ph-range' && a.state === 'firing'), 60_000, 'alert on the console', 250)
      .catch((err: unknown) => { throw new Error(`${(err as Error).message}\nrules:\n${services[0]!.output()}\nconsole:\n${services[1]!.output()}`); });
    assert.match(alert.summary, /above 9/);

    // Strangers and viewers.
    assert.equal((await fetch(`${base}/api/alerts`)).status, 401);
    const signIn = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'viewer', password: 'viewer-dev-secret' }) });
    assert.equal(signIn.status, 200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const viewerList = await fetch(`${base}/api/alerts?park=${p.park}`, { headers: { cookie } });
    assert.equal(viewerList.status, 200);
    const viewerAck = await fetch(`${base}/api/alerts/${alert.fingerprint}/acknowledge`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(viewerAck.status, 403);

    // The operator's acknowledgement: 202 at once, the transition when rules has applied it.
    const ack = await operator.post<CommandAccepted>(`/api/alerts/${alert.fingerprint}/acknowledge`, { comment: 'crew dispatched' });
    assert.equal(ack.status, 202);
    const acked = await eventually(async () => {
      const d = await operator.detail(alert.fingerprint);
      return d.state === 'acknowledged' ? d : undefined;
    }, 60_000, 'acknowledged by rules', 250);
    assert.equal(acked.acknowledgedBy, 'dev-automation');
    assert.deepEqual(acked.history.map((h) => [h.state, h.by ?? null]), [['firing', null], ['acknowledged', 'dev-automation']]);

    // Back in range: rules resolves it; the board keeps who acknowledged.
    await bus.publish([{ topic: topics.readings.name, key: 'wwtp-sparing-outlet', value: JSON.stringify(reading(3, 7.1)) }]);
    const resolved = await eventually(async () => {
      const a = (await operator.alerts(p.park)).find((x: AlertView) => x.fingerprint === alert.fingerprint && x.state === 'resolved');
      return a;
    }, 60_000, 'resolved', 250);
    assert.equal(resolved.acknowledgedBy, 'dev-automation');
  });

  it('ends a session on every console instance: sign-out on one, an admin\'s revocation on the other', async () => {
    const secret = randomBytes(24).toString('hex');
    const bases: string[] = [];
    for (let i = 0; i < 2; i++) {
      const port = freePort();
      services.push(await startService('console', { ...common, CONSOLE_PORT: String(port), CONSOLE_UI: 'false', CONSOLE_SESSION_SECRET: secret }, freePort()));
      bases.push(`http://127.0.0.1:${port}`);
    }
    const [a, b] = bases as [string, string];
    const signIn = async (base: string, username: string): Promise<string> => {
      const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: `${username}-dev-secret` }) });
      assert.equal(res.status, 200);
      return res.headers.get('set-cookie')!.split(';')[0]!;
    };
    const me = async (base: string, cookie: string): Promise<number> => (await fetch(`${base}/api/me`, { headers: { cookie } })).status;

    const viewer = await signIn(a, 'viewer');
    assert.equal(await me(b, viewer), 200, 'one signed cookie, any instance');
    assert.equal((await fetch(`${a}/api/session`, { method: 'DELETE', headers: { cookie: viewer } })).status, 204);
    assert.equal(await me(a, viewer), 401);
    await eventually(async () => ((await me(b, viewer)) === 401 ? true : undefined), 30_000, 'the other instance refuses the signed-out session', 250);

    const operator = await signIn(a, 'operator');
    const admin = await signIn(b, 'admin');
    assert.equal((await fetch(`${b}/api/users/operator/sessions`, { method: 'DELETE', headers: { cookie: admin } })).status, 200);
    assert.equal(await me(b, operator), 401);
    await eventually(async () => ((await me(a, operator)) === 401 ? true : undefined), 30_000, 'the instance that issued it refuses the revoked session', 250);
    assert.equal(await me(a, await signIn(a, 'operator')), 200, 'signing in again works');
  });
});
