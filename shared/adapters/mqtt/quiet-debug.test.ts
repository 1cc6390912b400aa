/** The silent `debug` that MQTT.js's packet code gets when DEBUG is unset. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mqttPacketFile, quietDebug, quietDebugInstalled } from './quiet-debug.ts';

describe('quiet debug', () => {
  it('is what mqtt-packet requires, when DEBUG is unset', async () => {
    await import('mqtt');
    const debugOfMqttPacket: unknown = createRequire(mqttPacketFile)('debug');
    if (process.env.DEBUG) {
      assert.equal(quietDebugInstalled, false);
      assert.notEqual(debugOfMqttPacket, quietDebug);
    } else {
      assert.equal(quietDebugInstalled, true);
      assert.equal(debugOfMqttPacket, quietDebug);
    }
  });

  it('keeps the API mqtt-packet and MQTT.js use, tracing nothing', () => {
    const d = quietDebug('mqtt-packet:parser');
    assert.equal(d('parse: %s', 'x'), undefined);
    assert.equal(d.enabled, false);
    assert.equal(d.namespace, 'mqtt-packet:parser');
    assert.equal(d.extend('more').namespace, 'mqtt-packet:parser:more');
    assert.equal(quietDebug.enabled('mqtt-packet:parser'), false);
    assert.equal(quietDebug.default, quietDebug);
  });
});
