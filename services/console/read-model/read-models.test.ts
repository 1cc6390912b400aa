import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEvent } from '../../../shared/contracts/events.ts';
import { AlertBoard } from './alert-board.ts';
import { SilenceBook } from './silence-book.ts';
import { silenceInForce } from '../../../shared/contracts/silences.ts';
import { MeterHealthBook } from './meter-health.ts';
import { DeadLetterLog, parkOf } from './dead-letter-log.ts';

const ev = (over: Partial<AlertEvent>): AlertEvent => ({
  v: 1, fingerprint: 'f1', transition: 1, state: 'firing', previousState: null, severity: 'critical', ruleId: 'r', ruleVersion: 1,
  park: 'p', tenant: 't', meter: 'm', metric: 'ph', summary: 's', provenance: { values: [] }, at: 1_000, simulated: false, ...over,
});

describe('AlertBoard', () => {
  it('keeps the newest transition per fingerprint and drops replays and duplicates', () => {
    const b = new AlertBoard();
    assert.ok(b.apply(ev({ transition: 1, state: 'pending', at: 1_000 })));
    assert.ok(b.apply(ev({ transition: 2, state: 'firing', previousState: 'pending', at: 2_000 })));
    assert.equal(b.apply(ev({ transition: 2, state: 'firing', at: 2_000 })), undefined, 'duplicate');
    assert.equal(b.apply(ev({ transition: 1, state: 'pending', at: 1_000 })), undefined, 'replay');
    const got = b.get('f1')!;
    assert.equal(got.view.state, 'firing');
    assert.equal(got.view.since, 1_000, 'the episode started when it went pending');
    assert.equal(got.history.length, 2);
  });

  it('remembers who acknowledged until the episode ends, and starts a new episode after resolve', () => {
    const b = new AlertBoard();
    b.apply(ev({ transition: 1, at: 1_000 }));
    b.apply(ev({ transition: 2, state: 'acknowledged', by: 'olu', at: 2_000 }));
    b.apply(ev({ transition: 3, state: 'firing', severity: 'critical', at: 3_000 }));
    assert.equal(b.get('f1')!.view.acknowledgedBy, 'olu', 'an escalation keeps the acknowledgement on record');
    b.apply(ev({ transition: 4, state: 'resolved', by: 'ada', at: 4_000 }));
    assert.equal(b.get('f1')!.view.resolvedBy, 'ada');
    const again = b.apply(ev({ transition: 5, state: 'firing', at: 9_000 }))!;
    assert.equal(again.since, 9_000);
    assert.equal(again.acknowledgedBy, undefined);
    assert.equal(again.resolvedBy, undefined);
  });

  it('caps the history per alert', () => {
    const b = new AlertBoard(3);
    for (let i = 1; i <= 10; i++) b.apply(ev({ transition: i, state: i % 2 ? 'firing' : 'resolved' }));
    assert.deepEqual(b.get('f1')!.history.map((h) => h.transition), [8, 9, 10]);
  });

  it('filters and orders: most severe first, then newest', () => {
    const b = new AlertBoard();
    b.apply(ev({ fingerprint: 'a', severity: 'warning', at: 5 }));
    b.apply(ev({ fingerprint: 'b', severity: 'critical', at: 1 }));
    b.apply(ev({ fingerprint: 'c', severity: 'critical', at: 3, park: 'q' }));
    b.apply(ev({ fingerprint: 'd', severity: 'info', state: 'resolved', at: 9 }));
    const order = (f: Parameters<AlertBoard['list']>[0]) => b.list(f).alerts.map((a) => a.fingerprint);
    assert.deepEqual(order({}), ['c', 'b', 'a', 'd']);
    assert.deepEqual(order({ parks: new Set(['p']), states: ['firing'] }), ['b', 'a']);
    assert.deepEqual(order({ severities: ['warning', 'info'] }), ['a', 'd']);
    assert.deepEqual(order({ from: 3, to: 9 }), ['c', 'a']);
    assert.equal(b.list({}, 2).total, 4);
    assert.deepEqual(b.openCounts('p'), { critical: 1, warning: 1, 'data-quality': 0, info: 0 });
    b.apply(ev({ fingerprint: 'b', transition: 2, state: 'resolved', at: 10 }));
    assert.deepEqual(b.openCounts('p'), { critical: 0, warning: 1, 'data-quality': 0, info: 0 }, 'a resolved alert leaves the open counts');
    assert.equal(b.openFor('m', new Set(['r']))?.fingerprint, 'a');
  });
});

describe('SilenceBook', () => {
  const view = (over: Partial<AlertEvent> = {}) => ({ ...ev(over), since: 0, silenced: false });
  const silence = (id: string, matchers: object, startsAt: number, endsAt: number, recurrence?: { everyMs: number; durationMs: number }) =>
    ({ v: 1 as const, kind: 'silence' as const, commandId: `c-${id}`, by: 'olu', at: 0, silenceId: id, matchers, startsAt, endsAt, ...(recurrence && { recurrence }) });

  it('mutes matching alerts while in force, including recurring windows, and forgets unsilenced ones', () => {
    const book = new SilenceBook();
    book.apply(silence('s1', { park: 'p', ruleId: 'r' }, 100, 200));
    book.apply(silence('s2', { park: 'p', meter: 'other' }, 0, 10_000));
    book.apply(silence('night', { park: 'p', tenant: 't' }, 1_000, 100_000, { everyMs: 10_000, durationMs: 2_000 }));
    const cases: Array<[number, Partial<AlertEvent>, boolean]> = [
      [99, {}, false], [100, {}, true], [199, {}, true], [200, {}, false],
      [150, { ruleId: 'x' }, false],
      [11_500, { ruleId: 'x' }, true], [12_999, { ruleId: 'x' }, true], [13_000, { ruleId: 'x' }, false],
    ];
    for (const [t, over, muted] of cases) assert.equal(book.mutes(view(over), t), muted, `t=${t} ${JSON.stringify(over)}`);
    assert.ok(book.apply({ v: 1, kind: 'unsilence', commandId: 'u', by: 'olu', at: 0, silenceId: 's1' }));
    assert.equal(book.mutes(view(), 150), false);
    assert.deepEqual(book.current(300).map((s) => s.silenceId), ['s2', 'night']);
    book.prune(20_000);
    assert.deepEqual(book.current(0).map((s) => s.silenceId), ['night']);
  });

  it('treats the end of a silence as exclusive', () => {
    assert.equal(silenceInForce({ startsAt: 0, endsAt: 10 }, 10), false);
  });
});

describe('MeterHealthBook', () => {
  it('tells online, offline, deadman and unknown apart', () => {
    const h = new MeterHealthBook();
    assert.deepEqual(h.health('m'), { status: 'unknown', cause: 'none', lastSeen: null, statusAt: null });
    h.seen('m', 50);
    assert.equal(h.health('m').status, 'online');
    h.applyStatus({ v: 1, park: 'p', tenant: 't', meter: 'm', status: 'offline', cause: 'will', at: 100, simulated: false });
    h.applyStatus({ v: 1, park: 'p', tenant: 't', meter: 'm', status: 'online', cause: 'birth', at: 90, simulated: false });
    assert.deepEqual(h.health('m'), { status: 'offline', cause: 'will', lastSeen: 50, statusAt: 100 }, 'an older status does not win');
    h.seen('m', 40);
    assert.equal(h.lastSeen('m'), 50);
    assert.deepEqual(h.health('m', 70), { status: 'offline', cause: 'deadman', lastSeen: 50, statusAt: 70 });
  });
});

describe('DeadLetterLog', () => {
  it('keeps the newest letters up to its capacity and counts reasons', () => {
    const log = new DeadLetterLog(2);
    for (const [i, reason] of (['not-json', 'schema', 'schema'] as const).entries()) {
      log.add({ v: 1, reason, detail: String(i), stage: 'ingest', source: 'eip/p/t/m/telemetry', payloadBase64: Buffer.from([0xff, 0xfe, i]).toString('base64'), receivedAt: i });
    }
    assert.deepEqual(log.list(10).map((l) => l.detail), ['2', '1']);
    assert.equal(log.list(10)[0]!.payloadText, null, 'binary payloads are not shown as text');
    assert.deepEqual(log.byReason(), { 'not-json': 1, schema: 2 });
  });

  it('reads the park from MQTT sources only', () => {
    assert.equal(parkOf('eip/nusantara-eip/t/m/telemetry'), 'nusantara-eip');
    assert.equal(parkOf('eip.readings.v1/2@10'), null);
  });
});
