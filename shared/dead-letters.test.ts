import { it } from 'node:test';
import assert from 'node:assert/strict';
import { deadLetterMessage, parseRecord, recordSource } from './dead-letters.ts';
import { readingBatchEventSchema, deadLetterSchema } from './contracts/events.ts';

it('reads a consumed record against its schema and says why it cannot', () => {
  assert.deepEqual(parseRecord(null, readingBatchEventSchema, 'readings event v1'), { ok: false, detail: 'empty record' });
  const notJson = parseRecord(Buffer.from('{"v":'), readingBatchEventSchema, 'readings event v1');
  assert.ok(!notJson.ok && notJson.detail.startsWith('not JSON'));
  const wrong = parseRecord(Buffer.from('{"v":1}'), readingBatchEventSchema, 'readings event v1');
  assert.ok(!wrong.ok && /^readings event v1: park: /.test(wrong.detail), !wrong.ok ? wrong.detail : '');
  const good = { v: 1, park: 'p', tenant: 't', meter: 'm', seq: 1, receivedAt: 1, simulated: false, readings: [{ metric: 'ph', unit: 'pH', value: 7, ts: 1 }] };
  assert.deepEqual(parseRecord(Buffer.from(JSON.stringify(good)), readingBatchEventSchema, 'x'), { ok: true, value: good });
});

it('turns a refusal into a dead letter keyed by the stage, with the raw payload', () => {
  const m = deadLetterMessage({ stage: 'rules', reason: 'bad-event', detail: 'not JSON', source: recordSource('eip.readings.v1', 2, '41'), payload: Buffer.from('{"v":'), receivedAt: 5 });
  assert.equal(m.topic, 'eip.deadletter.v1');
  assert.equal(m.key, 'rules');
  const dl = deadLetterSchema.parse(JSON.parse(String(m.value)));
  assert.equal(dl.source, 'eip.readings.v1/2@41');
  assert.equal(Buffer.from(dl.payloadBase64, 'base64').toString(), '{"v":');
});
