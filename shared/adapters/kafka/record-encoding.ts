/**
 * kafkajs 2.2.4 encodes each record of a produce request through a fresh
 * Encoder: a zero-filled 512-byte Buffer per record, a Buffer and an array for
 * every varint, 64-bit Long objects for the time delta. That was about a fifth
 * of what ingest allocated after the partition grouping (allocation profile of
 * `npm run bench:ingest`). This writes the same bytes into one Buffer of the
 * record's exact size, for the records ingest sends (string or Buffer key and
 * value, no headers, integer deltas), and hands any other record to kafkajs' own
 * encoder. It wraps kafkajs' record module before the produce request loads it:
 * import this module before kafkajs.
 */
import { createRequire } from 'node:module';
import { wrapCommonJs } from '../../runtime/preload-commonjs.ts';

export interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
}

/** What kafkajs' record batch reads of an encoded record: its buffer and offset. */
interface EncodedRecord {
  buf: Buffer;
  offset: number;
}

type RecordEncoder = (args: RecordArgs) => EncodedRecord;

export const recordModule = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const encoderModule = 'kafkajs/src/protocol/encoder.js';
const produceRequestModules = ['kafkajs/src/protocol/requests/produce/v3/request.js'];

const require = createRequire(import.meta.url);
const encoderPrototype = (require(encoderModule) as { prototype: object }).prototype;

/** Bytes of an unsigned LEB128 varint (values up to 2^54). */
function uvarintBytes(u: number): number {
  let bytes = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    bytes++;
  }
  return bytes;
}

function writeUvarint(buf: Buffer, offset: number, u: number): number {
  while (u >= 0x80) {
    buf[offset++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[offset++] = u;
  return offset;
}

/** Kafka's 32-bit zigzag, as kafkajs computes it, unsigned. */
const zigzag32 = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0;
/** 64-bit zigzag of a safe integer. */
const zigzag64 = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

const bytesOf = (v: string | Buffer | null | undefined): number => (v === null || v === undefined ? -1 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

const simple = (v: unknown): v is string | Buffer | null | undefined => v === null || v === undefined || typeof v === 'string' || Buffer.isBuffer(v);

/** The record as kafkajs encodes it, or undefined for one the fast path does not take. */
export function encodeRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers }: RecordArgs): EncodedRecord | undefined {
  if (headers !== undefined || !simple(key) || !simple(value)) return undefined;
  // Below 2^52 either way, the zigzag of the delta is an exact double.
  if (!Number.isInteger(timestampDelta) || Math.abs(timestampDelta) >= 2 ** 52 || !Number.isInteger(offsetDelta) || offsetDelta < 0 || offsetDelta > 0x3fffffff) return undefined;
  const keyBytes = bytesOf(key);
  const valueBytes = bytesOf(value);
  const body = 1 + uvarintBytes(zigzag64(timestampDelta)) + uvarintBytes(zigzag32(offsetDelta))
    + uvarintBytes(zigzag32(keyBytes)) + Math.max(0, keyBytes)
    + uvarintBytes(zigzag32(valueBytes)) + Math.max(0, valueBytes)
    + 1;
  const size = uvarintBytes(zigzag32(body)) + body;
  const buf = Buffer.allocUnsafe(size);
  let o = writeUvarint(buf, 0, zigzag32(body));
  buf[o++] = 0;
  o = writeUvarint(buf, o, zigzag64(timestampDelta));
  o = writeUvarint(buf, o, zigzag32(offsetDelta));
  o = writeUvarint(buf, o, zigzag32(keyBytes));
  if (typeof key === 'string') o += buf.write(key, o, 'utf8');
  else if (key) o += key.copy(buf, o);
  o = writeUvarint(buf, o, zigzag32(valueBytes));
  if (typeof value === 'string') o += buf.write(value, o, 'utf8');
  else if (value) o += value.copy(buf, o);
  buf[o++] = 0;
  const encoded = Object.create(encoderPrototype) as EncodedRecord;
  encoded.buf = buf;
  encoded.offset = o;
  return encoded;
}

/** False when kafkajs' produce request was loaded before this module: it then keeps kafkajs' encoder. */
export const recordEncodingInstalled = wrapCommonJs<RecordEncoder>(import.meta.url, recordModule, produceRequestModules, (original) => (args) => encodeRecord(args) ?? original(args));
