import { EipError, errorMessage } from '../../errors.ts';

/** The fields kafkajs errors carry; kafkajs wraps the real cause in `cause` / `originalError`. */
interface KafkaLikeError {
  name?: unknown;
  type?: unknown;
  code?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

function causeChain(err: unknown): KafkaLikeError[] {
  const chain: KafkaLikeError[] = [];
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && chain.length < 10 && !chain.includes(current)) {
    const e = current as KafkaLikeError;
    chain.push(e);
    current = e.cause ?? e.originalError;
  }
  return chain;
}

const connectionNames = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSNoBrokerAvailableError', 'KafkaJSBrokerNotFound']);
const timeoutNames = new Set(['KafkaJSRequestTimeoutError', 'KafkaJSTimeout', 'KafkaJSLockTimeout']);
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENOTFOUND']);
const tooLargeTypes = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
/**
 * The broker refusing the records themselves. kafkajs marks CORRUPT_MESSAGE
 * retriable and retries it itself (producerRetries); once it surfaces, the same
 * bytes sent again fail the same way, so it is a refusal of those records.
 */
const refusedTypes = new Set(['INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP']);

/**
 * Maps a kafkajs error to an EipError. Retriability comes from the innermost
 * kafkajs error: KafkaJSNumberOfRetriesExceeded is marked not retriable, but it
 * only says kafkajs' own retries ran out, while its cause says whether a later
 * attempt can succeed.
 */
export function kafkaError(err: unknown, action: string): EipError {
  if (err instanceof EipError) return err;
  const chain = causeChain(err);
  const root = chain[chain.length - 1] ?? {};
  const types = chain.map((e) => e.type).filter((t): t is string => typeof t === 'string');
  const names = chain.map((e) => e.name).filter((n): n is string => typeof n === 'string');
  const rootMessage = errorMessage(root);
  const message = `kafka: ${action}: ${errorMessage(err)}${root !== err && rootMessage !== errorMessage(err) ? ` (${rootMessage})` : ''}`;
  const details = { kafkaError: typeof root.name === 'string' ? root.name : undefined, type: types[types.length - 1] };
  const options = { cause: err, details };

  if (types.some((t) => tooLargeTypes.has(t))) return new EipError('TOO_LARGE', message, options);
  if (types.some((t) => refusedTypes.has(t))) return new EipError('REJECTED', message, { ...options, retriable: false });
  if (types.some((t) => t.endsWith('_AUTHORIZATION_FAILED') || t === 'SASL_AUTHENTICATION_FAILED') || names.includes('KafkaJSSASLAuthenticationError')) {
    return new EipError('UNAUTHORIZED', message, options);
  }
  if (names.some((n) => connectionNames.has(n)) || chain.some((e) => typeof e.code === 'string' && socketCodes.has(e.code))) {
    return new EipError('UNAVAILABLE', message, { ...options, retriable: true });
  }
  if (names.some((n) => timeoutNames.has(n))) return new EipError('TIMEOUT', message, { ...options, retriable: true });
  const retriable = root.retriable === true;
  if (types.includes('UNKNOWN_TOPIC_OR_PARTITION')) return new EipError('NOT_FOUND', message, { ...options, retriable });
  if (types.length > 0) return new EipError(retriable ? 'UNAVAILABLE' : 'REJECTED', message, { ...options, retriable });
  return new EipError(retriable ? 'UNAVAILABLE' : 'INTERNAL', message, { ...options, retriable });
}
