/** The Mosquitto configuration agrees with what ingest accepts and what its design needs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ingestConfigSchema } from '../../services/ingest/config.ts';
import { loadConfig } from '../../shared/config/env.ts';

const conf = readFileSync(new URL('./mosquitto.conf', import.meta.url), 'utf8');
const roles = readFileSync(new URL('./dynsec-roles.json', import.meta.url), 'utf8');

function option(name: string): string[] {
  return conf.split('\n').map((l) => l.trim()).filter((l) => l.split(/\s+/)[0] === name).map((l) => l.split(/\s+/).slice(1).join(' '));
}

describe('infra/mosquitto configuration', () => {
  it('refuses at the broker exactly the payloads ingest would dead-letter as oversized', () => {
    const ingestDefault = loadConfig(ingestConfigSchema, {}, 'ingest').MAX_PAYLOAD_BYTES;
    assert.deepEqual(option('message_size_limit'), [String(ingestDefault)]);
  });

  it('keeps sessions and their queues across a restart, without the default queue limit of 1000', () => {
    assert.deepEqual(option('persistence'), ['true']);
    assert.deepEqual(option('max_queued_messages').map(Number).filter((n) => n > 1000).length, 1);
  });

  it('lets ingest publish and read back its probe topic', () => {
    const ingest = (JSON.parse(roles) as Array<{ rolename: string; acls: Array<{ acltype: string; topic: string; allow: boolean }> }>).find((r) => r.rolename === 'ingest');
    assert.ok(ingest, 'an ingest role');
    for (const acltype of ['publishClientSend', 'subscribePattern']) assert.ok(ingest.acls.some((a) => a.acltype === acltype && a.topic === 'ingest/probe/+' && a.allow), acltype);
  });
});
