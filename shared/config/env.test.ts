import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { envBool, envEnum, envInt, envList, envSecret, envString, envUrl, loadConfig, variablesHelp, variablesMarkdown } from './env.ts';
import { EipError } from '../errors.ts';

const schema = z.object({
  MQTT_URL: envUrl('broker URL', ['mqtt', 'mqtts'], { default: 'mqtt://127.0.0.1:1883' }),
  BATCH_SIZE: envInt('readings per batch', { default: 500, min: 1, max: 10_000 }),
  BUS: envEnum('event bus adapter', ['kafka', 'sqlite'] as const, { default: 'sqlite' }),
  KAFKA_BROKERS: envList('Kafka bootstrap servers', { default: '127.0.0.1:9092', item: /^[^:\s]+:\d+$/, itemHint: 'host:port' }),
  DEDUP: envBool('drop duplicates', { default: true }),
  INFLUX_TOKEN: envString('InfluxDB token', { secret: true }),
});

describe('configuration from the environment', () => {
  it('applies defaults and converts types', () => {
    const c = loadConfig(schema, { INFLUX_TOKEN: 't' });
    assert.deepEqual(c, { MQTT_URL: 'mqtt://127.0.0.1:1883', BATCH_SIZE: 500, BUS: 'sqlite', KAFKA_BROKERS: ['127.0.0.1:9092'], DEDUP: true, INFLUX_TOKEN: 't' });
    const d = loadConfig(schema, { INFLUX_TOKEN: 't', BATCH_SIZE: '20', BUS: 'kafka', KAFKA_BROKERS: 'a:1, b:2', DEDUP: 'false' });
    assert.equal(d.BATCH_SIZE, 20);
    assert.deepEqual(d.KAFKA_BROKERS, ['a:1', 'b:2']);
    assert.equal(d.DEDUP, false);
  });
  it('names every bad variable and what it allows', () => {
    try {
      loadConfig(schema, { BATCH_SIZE: 'lots', BUS: 'carrier-pigeon', MQTT_URL: 'http://x', KAFKA_BROKERS: 'nohost' }, 'ingest');
      assert.fail('should have thrown');
    } catch (err) {
      assert.ok(err instanceof EipError);
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.equal(err.retriable, false);
      assert.match(err.message, /invalid configuration for ingest/);
      assert.match(err.message, /BATCH_SIZE: must be a whole number between 1 and 10000 \(got "lots"/);
      assert.match(err.message, /BUS: must be one of: kafka, sqlite \(got "carrier-pigeon"/);
      assert.match(err.message, /MQTT_URL: must be a URL with scheme mqtt or mqtts/);
      assert.match(err.message, /KAFKA_BROKERS: must be a comma-separated list of host:port/);
      assert.match(err.message, /INFLUX_TOKEN: is required \(it is not set/);
    }
  });
  it('refuses numbers out of range', () => {
    assert.throws(() => loadConfig(schema, { INFLUX_TOKEN: 't', BATCH_SIZE: '0' }), /BATCH_SIZE: must be at least 1/);
  });
  it('renders a documentation table from the schema without leaking secret defaults', () => {
    const md = variablesMarkdown(schema);
    assert.match(md, /\| `BATCH_SIZE` \| readings per batch \| an integer from 1 to 10000 \| `500` \|/);
    assert.match(md, /\| `INFLUX_TOKEN` \| InfluxDB token \| a secret string \| \(required\) \|/);
  });
  it('never echoes the value of a secret variable, nor the user info of a URL, in errors or --help', () => {
    const secrets = z.object({
      SESSION_KEY: envSecret('signing key', { minLength: 16, default: 'dev-default-signing-key' }),
      HOOKS: envSecret('webhook URLs', { default: '', minLength: 0, allowed: 'comma-separated http, https URLs' }),
      PASSWORD: envString('a password', { secret: true }),
      MQTT_URL: envUrl('broker URL', ['mqtt']),
    }).superRefine((c, ctx) => {
      if (c.HOOKS.includes('bad')) ctx.addIssue({ code: 'custom', path: ['HOOKS'], message: 'URL number 1 is not an http or https URL' });
    });
    try {
      loadConfig(secrets, { SESSION_KEY: 'hunter2-short', PASSWORD: '', MQTT_URL: 'http://bob:pw-in-url@broker:1883' }, 'svc');
      assert.fail('should have thrown');
    } catch (err) {
      assert.ok(err instanceof EipError);
      assert.match(err.message, /SESSION_KEY: .*got a value, not shown as it is secret/);
      assert.match(err.message, /PASSWORD: is required/);
      assert.match(err.message, /MQTT_URL: .*got "http:\/\/\*\*\*@broker:1883"/);
      for (const leak of ['hunter2', 'pw-in-url', 'bob']) assert.ok(!err.message.includes(leak), `${leak} is not echoed`);
    }
    assert.throws(() => loadConfig(secrets, { PASSWORD: 'p', MQTT_URL: 'mqtt://x', HOOKS: 'https://bad.example/T0KEN' }), (err: Error) => /HOOKS: URL number 1/.test(err.message) && !err.message.includes('T0KEN'));
    const help = variablesHelp(secrets) + variablesMarkdown(secrets);
    assert.ok(!help.includes('dev-default-signing-key'), 'a secret default is not shown');
    assert.match(help, /`\(dev default\)`/);
    assert.match(help, /\| `HOOKS` \| webhook URLs \| comma-separated http, https URLs \| `\(empty\)` \|/);
  });
});
