import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionAcks } from './connection-acks.ts';

test('an acknowledgement held past a reconnect is dropped; one of the current connection is sent', () => {
  const acks = new ConnectionAcks();
  const sent: string[] = [];
  const held = acks.wrap(() => sent.push('old'));
  acks.closed();
  const fresh = acks.wrap(() => sent.push('new'));
  held();
  fresh();
  assert.deepEqual(sent, ['new']);
  assert.equal(acks.dropped, 1);
});
