import { EipError, errorMessage } from '../../errors.ts';

/**
 * A failed MQTT publish as the project's error family. MQTT 5 brokers answer a
 * QoS 1 publish with a PUBACK reason code, which MQTT.js puts in `code`; an
 * error without one is the connection (MQTT.js resends once reconnected).
 */
export function mqttPublishError(err: unknown, topic: string): EipError {
  if (err instanceof EipError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = `mqtt: publish to ${topic}: ${errorMessage(err)}`;
  const options = { cause: err, details: { reasonCode: code } };
  if (typeof code === 'number') {
    if (code === 0x87) return new EipError('UNAUTHORIZED', message, options);
    if (code === 0x95) return new EipError('TOO_LARGE', message, options);
    // Topic name invalid, payload format invalid: that message never passes.
    if (code === 0x90 || code === 0x99) return new EipError('REJECTED', message, options);
    // Server busy, quota exceeded, message rate too high.
    if (code === 0x89 || code === 0x97 || code === 0x96) return new EipError('THROTTLED', message, options);
    if (code >= 0x80) return new EipError('INTERNAL', message, options);
  }
  return new EipError('UNAVAILABLE', message, options);
}
