/**
 * A durable local spool: every MQTT message is appended here (one synchronous
 * write, so it survives a SIGKILL of the process once write() returns) before
 * it is acknowledged to the broker, then drained in batches to InfluxDB and
 * Kafka and released only when both have it.
 *
 * MQTT.js hands over messages strictly one at a time and sends the PUBACK only
 * when the handler calls back, so a per-message remote write caps ingest at a
 * few hundred messages/s; a local append costs microseconds.
 *
 * On disk: segment files of framed records
 *   [u32 body length][u32 crc32(body)][f64 id][f64 receivedAt][u16 topic length][topic][payload]
 * and a checkpoint file holding the highest id drained. A torn tail (the process
 * died inside write()) fails its length or CRC check and is cut off: that
 * message was never acknowledged, so the broker still has it.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../../shared/observability/logger.ts';

export interface SpoolRecord {
  id: number;
  topic: string;
  payload: Buffer;
  receivedAt: number;
}

export interface SpoolOptions {
  dir: string;
  /** A new segment starts past this size; drained segments are deleted whole. */
  segmentBytes?: number;
  logger: Logger;
}

const headerBytes = 8;
const fixedBodyBytes = 8 + 8 + 2;
const segmentName = (firstId: number): string => `seg-${String(firstId).padStart(16, '0')}.log`;

interface Segment {
  file: string;
  firstId: number;
  lastId: number;
}

export class Spool {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly logger: Logger;
  private readonly segments: Segment[] = [];
  private fd = -1;
  private activeSize = 0;
  private nextId = 1;
  private ackedId = 0;
  /** Records appended and not yet drained, oldest first; records before `head` were taken. */
  private queue: SpoolRecord[] = [];
  private head = 0;
  private bytes = 0;

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.logger = options.logger;
  }

  /** Opens the spool, recovering what a previous process appended and did not drain. */
  static open(options: SpoolOptions): Spool {
    const spool = new Spool(options);
    spool.recover();
    return spool;
  }

  /** Appends one message durably (for a process crash) and returns its id. */
  append(topic: string, payload: Buffer, receivedAt: number): number {
    const id = this.nextId++;
    const topicBytes = Buffer.byteLength(topic);
    const bodyLength = fixedBodyBytes + topicBytes + payload.length;
    const frame = Buffer.allocUnsafe(headerBytes + bodyLength);
    frame.writeUInt32LE(bodyLength, 0);
    frame.writeDoubleLE(id, 8);
    frame.writeDoubleLE(receivedAt, 16);
    frame.writeUInt16LE(topicBytes, 24);
    frame.write(topic, 26, 'utf8');
    payload.copy(frame, 26 + topicBytes);
    frame.writeUInt32LE(crc32(frame.subarray(headerBytes)), 4);
    if (this.fd < 0 || this.activeSize >= this.segmentBytes) this.rotate(id);
    writeSync(this.fd, frame);
    this.activeSize += frame.length;
    this.segments[this.segments.length - 1]!.lastId = id;
    this.queue.push({ id, topic, payload, receivedAt });
    this.bytes += frame.length;
    return id;
  }

  /** The next records to drain, oldest first; they stay spooled until ack(). */
  take(max: number): SpoolRecord[] {
    const end = Math.min(this.queue.length, this.head + max);
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    return batch;
  }

  /** Puts taken but undrained records back, e.g. when a drain is abandoned at shutdown. */
  untake(): void {
    this.head = 0;
  }

  /** Releases every record up to and including id: both sinks have them. */
  ack(id: number): void {
    if (id <= this.ackedId) return;
    this.ackedId = id;
    let drop = 0;
    while (drop < this.queue.length && this.queue[drop]!.id <= id) {
      const r = this.queue[drop]!;
      this.bytes -= headerBytes + fixedBodyBytes + Buffer.byteLength(r.topic) + r.payload.length;
      drop++;
    }
    this.queue = this.queue.slice(drop);
    this.head = Math.max(0, this.head - drop);
    this.writeCheckpoint();
    // Whole segments below the checkpoint are done; the active one stays open.
    while (this.segments.length > 1 && this.segments[0]!.lastId <= id) {
      const seg = this.segments.shift()!;
      unlinkSync(join(this.dir, seg.file));
    }
  }

  /** Messages appended and not yet acknowledged by both sinks. */
  get pending(): number {
    return this.queue.length;
  }

  /** Pending messages not yet taken for a drain. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** The highest id both sinks have: it moves whenever the drain makes progress. */
  get drainedId(): number {
    return this.ackedId;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private rotate(firstId: number): void {
    if (this.fd >= 0) closeSync(this.fd);
    const file = segmentName(firstId);
    this.fd = openSync(join(this.dir, file), 'a');
    this.activeSize = fstatSync(this.fd).size;
    this.segments.push({ file, firstId, lastId: firstId - 1 });
  }

  private writeCheckpoint(): void {
    const tmp = join(this.dir, 'checkpoint.tmp');
    writeFileSync(tmp, String(this.ackedId));
    renameSync(tmp, join(this.dir, 'checkpoint'));
  }

  private recover(): void {
    mkdirSync(this.dir, { recursive: true });
    const checkpointFile = join(this.dir, 'checkpoint');
    this.ackedId = existsSync(checkpointFile) ? Number(readFileSync(checkpointFile, 'utf8')) || 0 : 0;
    let maxId = this.ackedId;
    let recovered = 0;
    let torn = 0;
    const files = readdirSync(this.dir).filter((f) => /^seg-\d{16}\.log$/.test(f)).sort();
    for (const file of files) {
      const path = join(this.dir, file);
      const data = readFileSync(path);
      let pos = 0;
      let firstId = Number(file.slice(4, 20));
      let lastId = firstId - 1;
      while (pos + headerBytes <= data.length) {
        const bodyLength = data.readUInt32LE(pos);
        const end = pos + headerBytes + bodyLength;
        if (bodyLength < fixedBodyBytes || end > data.length) break;
        const body = data.subarray(pos + headerBytes, end);
        if (crc32(body) !== data.readUInt32LE(pos + 4)) break;
        const id = body.readDoubleLE(0);
        const receivedAt = body.readDoubleLE(8);
        const topicBytes = body.readUInt16LE(16);
        const topic = body.toString('utf8', 18, 18 + topicBytes);
        lastId = id;
        maxId = Math.max(maxId, id);
        if (id > this.ackedId) {
          // Copy: the file buffer is released after recovery.
          const payload = Buffer.from(body.subarray(18 + topicBytes));
          this.queue.push({ id, topic, payload, receivedAt });
          this.bytes += headerBytes + bodyLength;
          recovered++;
        }
        pos = end;
      }
      if (pos < data.length) {
        torn++;
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, pos);
        closeSync(fd);
      }
      if (lastId < firstId && pos === 0) {
        unlinkSync(path);
        continue;
      }
      if (lastId <= this.ackedId) {
        unlinkSync(path);
        continue;
      }
      firstId = Math.min(firstId, lastId);
      this.segments.push({ file, firstId, lastId });
    }
    this.nextId = maxId + 1;
    if (recovered > 0 || torn > 0) this.logger.warn({ recovered, torn, dir: this.dir }, 'spool recovered messages a previous run had not drained');
    // Appends always go to a fresh segment: recovered ones are deleted once drained.
    this.rotate(this.nextId);
  }
}
