import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kafkaError } from './errors.ts';
import { classifyWriteFailure } from '../../write-isolating.ts';

/** The shape of kafkajs' protocol errors, wrapped as a send that ran out of kafkajs' own retries wraps them. */
function protocolError(type: string, retriable: boolean): Error {
  const root = Object.assign(new Error(`broker said ${type}`), { name: 'KafkaJSProtocolError', type, retriable });
  return Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: root });
}

describe('kafkaError: what the broker refuses is isolated, what may pass is retried', () => {
  for (const [type, retriable, code, failure] of [
    ['MESSAGE_TOO_LARGE', false, 'TOO_LARGE', 'refused'],
    ['RECORD_LIST_TOO_LARGE', false, 'TOO_LARGE', 'refused'],
    ['INVALID_RECORD', false, 'REJECTED', 'refused'],
    ['CORRUPT_MESSAGE', true, 'REJECTED', 'refused'],
    ['INVALID_TIMESTAMP', false, 'REJECTED', 'refused'],
    ['NOT_LEADER_FOR_PARTITION', true, 'UNAVAILABLE', 'retriable'],
    ['TOPIC_AUTHORIZATION_FAILED', false, 'UNAUTHORIZED', 'blocked'],
    // kafkajs marks it retriable: a topic just created may not have reached every broker's metadata yet.
    ['UNKNOWN_TOPIC_OR_PARTITION', true, 'NOT_FOUND', 'retriable'],
  ] as const) {
    it(`${type} -> ${code}, ${failure}`, () => {
      const err = kafkaError(protocolError(type, retriable), 'publish');
      assert.equal(err.code, code);
      assert.equal(classifyWriteFailure(err), failure);
      assert.match(err.message, new RegExp(`broker said ${type}`));
    });
  }
});
