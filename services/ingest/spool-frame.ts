/**
 * The spool's record framing and a sequential reader over a segment file:
 *   [u32 body length][u32 crc32(body)][f64 id][f64 receivedAt][u16 topic length][topic][payload]
 * The reader holds one chunk buffer of a fixed size, so reading a segment back
 * (at recovery, or when the backlog is larger than the spool's memory window)
 * costs that buffer, whatever the segment's size. A record larger than the
 * chunk is read alone into a buffer of its own size.
 */
import { crc32 } from 'node:zlib';
import type { SpoolFs } from './spool-fs.ts';

export const headerBytes = 8;
const fixedBodyBytes = 8 + 8 + 2;

export interface SpoolRecord {
  id: number;
  topic: string;
  payload: Buffer;
  receivedAt: number;
}

export function frameBytesOf(topic: string, payload: Buffer): number {
  return headerBytes + fixedBodyBytes + Buffer.byteLength(topic) + payload.length;
}

/** One framed record, and the record as a view into that frame (no second copy of the payload). */
export function encodeFrame(id: number, topic: string, payload: Buffer, receivedAt: number): { frame: Buffer; record: SpoolRecord } {
  const topicBytes = Buffer.byteLength(topic);
  if (topicBytes > 0xffff) throw new RangeError(`topic of ${topicBytes} bytes does not fit a spool record`);
  const bodyLength = fixedBodyBytes + topicBytes + payload.length;
  const frame = Buffer.allocUnsafe(headerBytes + bodyLength);
  frame.writeUInt32LE(bodyLength, 0);
  frame.writeDoubleLE(id, 8);
  frame.writeDoubleLE(receivedAt, 16);
  frame.writeUInt16LE(topicBytes, 24);
  frame.write(topic, 26, 'utf8');
  payload.copy(frame, 26 + topicBytes);
  frame.writeUInt32LE(crc32(frame.subarray(headerBytes)), 4);
  return { frame, record: { id, topic, payload: frame.subarray(26 + topicBytes), receivedAt } };
}

export const frameId = (body: Buffer): number => body.readDoubleLE(0);

/** The record of a frame body, its payload copied out of the reader's buffer. */
export function decodeBody(body: Buffer): SpoolRecord {
  const topicBytes = body.readUInt16LE(16);
  return { id: body.readDoubleLE(0), receivedAt: body.readDoubleLE(8), topic: body.toString('utf8', 18, 18 + topicBytes), payload: Buffer.from(body.subarray(18 + topicBytes)) };
}

export interface ScanResult {
  /** Offset of the first frame not visited (the end when all were). */
  offset: number;
  /** A torn or corrupt frame stopped the scan at offset. */
  bad: boolean;
}

/** Visits a frame body (a view valid only during the call); false stops the scan before this frame. */
export type FrameVisitor = (body: Buffer, offset: number, frameBytes: number) => boolean;

export class FrameReader {
  private readonly fs: SpoolFs;
  private readonly chunk: Buffer;

  constructor(fs: SpoolFs, chunkBytes: number) {
    this.fs = fs;
    this.chunk = Buffer.allocUnsafeSlow(chunkBytes);
  }

  get bufferBytes(): number {
    return this.chunk.length;
  }

  /** Visits the whole frames in [start, end) of fd in order, until visit says stop or a frame is torn or corrupt. */
  scan(fd: number, start: number, end: number, visit: FrameVisitor): ScanResult {
    let pos = start;
    while (pos < end) {
      const n = this.readFully(fd, this.chunk, Math.min(this.chunk.length, end - pos), pos);
      let p = 0;
      while (p + headerBytes <= n) {
        const bodyLength = this.chunk.readUInt32LE(p);
        const frameBytes = headerBytes + bodyLength;
        if (bodyLength < fixedBodyBytes || pos + p + frameBytes > end) return { offset: pos + p, bad: true };
        if (p + frameBytes > n) {
          if (p > 0 || frameBytes <= this.chunk.length) break;
          // Larger than the chunk: read alone.
          const big = Buffer.allocUnsafeSlow(frameBytes);
          if (this.readFully(fd, big, frameBytes, pos) < frameBytes) return { offset: pos, bad: true };
          if (crc32(big.subarray(headerBytes)) !== big.readUInt32LE(4)) return { offset: pos, bad: true };
          if (!visit(big.subarray(headerBytes), pos, frameBytes)) return { offset: pos, bad: false };
          p = frameBytes;
          break;
        }
        const body = this.chunk.subarray(p + headerBytes, p + frameBytes);
        if (crc32(body) !== this.chunk.readUInt32LE(p + 4)) return { offset: pos + p, bad: true };
        if (!visit(body, pos + p, frameBytes)) return { offset: pos + p, bad: false };
        p += frameBytes;
      }
      // No whole frame where one should start: the file ends inside it.
      if (p === 0) return { offset: pos, bad: true };
      pos += p;
    }
    return { offset: pos, bad: false };
  }

  private readFully(fd: number, into: Buffer, length: number, position: number): number {
    let got = 0;
    while (got < length) {
      const n = this.fs.read(fd, got === 0 ? into : into.subarray(got), length - got, position + got);
      if (n <= 0) break;
      got += n;
    }
    return got;
  }
}
