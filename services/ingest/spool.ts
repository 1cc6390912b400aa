/**
 * A durable local spool: every MQTT message is appended here (one synchronous
 * write, so it survives a SIGKILL of the process once append() returns) before
 * it is acknowledged to the broker, then drained in batches to InfluxDB and
 * Kafka and released only when both have it.
 *
 * MQTT.js hands over messages strictly one at a time and sends the PUBACK only
 * when the handler calls back, so a per-message remote write caps ingest at a
 * few hundred messages/s; a local append costs microseconds.
 *
 * Memory does not grow with the backlog: the spool holds at most `memoryBytes`
 * of records (read ahead, or taken and not yet acknowledged). While the drain
 * keeps up, appended records stay in that window and are never read back; past
 * it they live only in the segment files, which the drain reads back in order.
 *
 * On disk: segment files of framed records (see spool-frame.ts) and a
 * checkpoint file holding the highest id drained. A torn tail (the process died
 * inside a write) fails its length or CRC check and is cut off at recovery: that
 * message was never acknowledged, so the broker still has it. A failed append
 * (full disk) cuts its partial frame off at once, so later appends never sit
 * behind a torn one.
 */
import { join } from 'node:path';
import type { Logger } from '../../shared/observability/logger.ts';
import { EipError, errorMessage } from '../../shared/errors.ts';
import { decodeBody, encodeFrame, FrameReader, frameId, type SpoolRecord } from './spool-frame.ts';
import { nodeSpoolFs, type SpoolFs } from './spool-fs.ts';

export type { SpoolRecord } from './spool-frame.ts';

export const defaultSpoolMemoryBytes = 16 * 1024 * 1024;

/**
 * What a record held in memory costs beyond its frame: its objects, payload
 * view and topic string (measured at about 210 bytes appended, 320 read back).
 * Counted, so that a window of small records stays within the bound too.
 */
export const recordOverheadBytes = 320;

export interface SpoolOptions {
  dir: string;
  /** A new segment starts past this size; drained segments are deleted whole. */
  segmentBytes?: number;
  /**
   * Bound on the bytes the spool holds in memory: records read ahead or taken
   * and not yet acknowledged, and its read buffer. A single record larger than
   * that is still handed out, alone.
   */
  memoryBytes?: number;
  /** File-system calls; a test injects failing ones. */
  fs?: SpoolFs;
  logger: Logger;
}

const segmentName = (firstId: number): string => `seg-${String(firstId).padStart(16, '0')}.log`;
const segmentPattern = /^seg-(\d{16})\.log$/;

interface Segment {
  file: string;
  firstId: number;
  lastId: number;
  /** Bytes of whole frames; only the last segment grows. */
  end: number;
}

interface Entry {
  record: SpoolRecord;
  /** Frame bytes: what the record occupies on disk. */
  bytes: number;
}

const memoryCost = (e: Entry): number => e.bytes + recordOverheadBytes;

export class Spool {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly memoryBound: number;
  private readonly fs: SpoolFs;
  private readonly logger: Logger;
  private readonly reader: FrameReader;
  private readonly segments: Segment[] = [];
  /** Append descriptor of the last segment; -1 when none is open. */
  private fd = -1;
  private nextId = 1;
  private ackedId = 0;
  private pendingCount = 0;
  private pendingByteCount = 0;
  /** Records loaded and not yet taken, oldest first; windowBytes is their memory cost. */
  private window: Entry[] = [];
  private windowBytes = 0;
  /** Records handed out by take() and not yet acknowledged, oldest first; takenBytes is their memory cost. */
  private taken: Entry[] = [];
  private takenBytes = 0;
  /** The first record that is only on disk: every record before it is acknowledged, taken or in the window. */
  private readSeg: Segment | undefined;
  private readOffset = 0;
  private readFd = -1;
  private readFdSeg: Segment | undefined;
  private checkpointFailing = false;
  /** Framed by stage(), written by the next flush(). */
  private stagedFrames: Array<{ frame: Buffer; record: SpoolRecord }> = [];
  private stagedBytes = 0;

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.memoryBound = options.memoryBytes ?? defaultSpoolMemoryBytes;
    this.fs = options.fs ?? nodeSpoolFs;
    this.logger = options.logger;
    // The read buffer is part of the bound: a sixteenth of it, 4 KiB to 1 MiB.
    this.reader = new FrameReader(this.fs, Math.max(4096, Math.min(1024 * 1024, Math.floor(this.memoryBound / 16))));
  }

  /** Opens the spool, recovering what a previous process appended and did not drain. */
  static open(options: SpoolOptions): Spool {
    const spool = new Spool(options);
    spool.recover();
    return spool;
  }

  /**
   * Appends one message durably (for a process crash) and returns its id. On a
   * failed write (ENOSPC, EDQUOT, EIO, ...) it throws and the message is not in
   * the spool: the caller must not acknowledge it. Staged records are written first.
   */
  append(topic: string, payload: Buffer, receivedAt: number): number {
    const id = this.stage(topic, payload, receivedAt);
    this.flush();
    return id;
  }

  /**
   * Frames one message for the next flush() and returns its id. It is neither
   * durable nor pending before that flush: acknowledge it only once the flush passed.
   */
  stage(topic: string, payload: Buffer, receivedAt: number): number {
    // Consumed even when the write fails, so a segment a failed append started is never reopened by name.
    const id = this.nextId++;
    this.stagedFrames.push(encodeFrame(id, topic, payload, receivedAt));
    this.stagedBytes += this.stagedFrames.at(-1)!.frame.length;
    return id;
  }

  /** Messages staged and not yet flushed. */
  get staged(): number {
    return this.stagedFrames.length;
  }

  /**
   * Writes the staged messages in one write (a group commit: one system call for
   * a burst of messages). On a failed write it throws and none of them is in the
   * spool: the caller must not acknowledge any.
   */
  flush(): void {
    const group = this.stagedFrames;
    if (group.length === 0) return;
    this.stagedFrames = [];
    const bytes = this.stagedBytes;
    this.stagedBytes = 0;
    if (this.fd < 0 || this.last().end >= this.segmentBytes) this.rotate(group[0]!.record.id);
    const seg = this.last();
    try {
      this.writeAll(group.length === 1 ? group[0]!.frame : Buffer.concat(group.map((g) => g.frame), bytes));
    } catch (err) {
      this.cutPartial(seg);
      throw err;
    }
    for (const { frame, record } of group) {
      const caughtUp = this.readSeg === seg && this.readOffset === seg.end;
      seg.end += frame.length;
      seg.lastId = record.id;
      this.pendingCount++;
      this.pendingByteCount += frame.length;
      // The drain keeps up and there is room: keep it in memory, never read it back.
      if (caughtUp && this.heldRecordBytes + frame.length + recordOverheadBytes <= this.recordBudget) {
        this.window.push({ record, bytes: frame.length });
        this.windowBytes += frame.length + recordOverheadBytes;
        this.readOffset = seg.end;
      }
    }
  }

  /**
   * The next records to drain, oldest first; they stay spooled until ack().
   * At most max records and no more than the memory bound allows. While any is
   * waiting and none is taken, at least one: a record larger than the bound
   * comes alone. Records taken and not yet acknowledged count against the
   * bound, so a second take before ack() may hand out none.
   */
  take(max: number): SpoolRecord[] {
    if (this.window.length < max) this.fill(max - this.window.length);
    // Out of the window (no slot keeps a taken record alive once it is acknowledged).
    const batch = this.window.splice(0, max);
    const out: SpoolRecord[] = [];
    for (const e of batch) {
      this.taken.push(e);
      this.takenBytes += memoryCost(e);
      this.windowBytes -= memoryCost(e);
      out.push(e.record);
    }
    return out;
  }

  /** Puts taken but unacknowledged records back, e.g. when a drain is abandoned at shutdown. */
  untake(): void {
    if (this.taken.length === 0) return;
    this.window = this.taken.concat(this.window);
    this.windowBytes += this.takenBytes;
    this.taken = [];
    this.takenBytes = 0;
  }

  /** Releases the taken records up to and including id: both sinks have them. */
  ack(id: number): void {
    let drop = 0;
    let bytes = 0;
    while (drop < this.taken.length && this.taken[drop]!.record.id <= id) bytes += this.taken[drop++]!.bytes;
    if (drop === 0) return;
    this.ackedId = this.taken[drop - 1]!.record.id;
    this.taken = this.taken.slice(drop);
    this.takenBytes -= bytes + drop * recordOverheadBytes;
    this.pendingCount -= drop;
    this.pendingByteCount -= bytes;
    this.writeCheckpoint();
    // Whole segments below the checkpoint are done; the last one stays.
    this.normalizeRead();
    while (this.segments.length > 1 && this.segments[0]!.lastId <= this.ackedId) {
      const seg = this.segments.shift()!;
      if (this.readFdSeg === seg) this.closeReadFd();
      try {
        this.fs.unlink(join(this.dir, seg.file));
      } catch (err) {
        // Its records are below the checkpoint: the next recovery deletes it.
        this.logger.warn({ file: seg.file, err: errorMessage(err) }, 'spool could not delete a drained segment');
      }
    }
  }

  /** Messages appended and not yet acknowledged by both sinks. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Pending messages not yet taken for a drain. */
  get waiting(): number {
    return this.pendingCount - this.taken.length;
  }

  /** Frame bytes of the pending messages (what they occupy in the segment files). */
  get pendingBytes(): number {
    return this.pendingByteCount;
  }

  /** Bytes the spool holds in memory now: read-ahead and taken records (frames and per-record objects), and its read buffer. */
  get memoryBytes(): number {
    return this.heldRecordBytes + this.reader.bufferBytes;
  }

  get memoryBoundBytes(): number {
    return this.memoryBound;
  }

  /** The highest id both sinks have: it moves whenever the drain makes progress. */
  get drainedId(): number {
    return this.ackedId;
  }

  close(): void {
    if (this.fd >= 0) this.fs.close(this.fd);
    this.fd = -1;
    this.closeReadFd();
  }

  private get heldRecordBytes(): number {
    return this.windowBytes + this.takenBytes;
  }

  private get recordBudget(): number {
    return this.memoryBound - this.reader.bufferBytes;
  }

  private last(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Reads records that are only on disk into the window, in order, up to wanted records and the memory bound. */
  private fill(wanted: number): void {
    let added = 0;
    while (added < wanted) {
      this.normalizeRead();
      const seg = this.readSeg;
      if (!seg || this.readOffset >= seg.end) return;
      const fd = this.readFdFor(seg);
      const r = this.reader.scan(fd, this.readOffset, seg.end, (body, _offset, bytes) => {
        if (added >= wanted) return false;
        // One record always fits, however large: a drain that acknowledged what it took makes progress.
        if (this.heldRecordBytes > 0 && this.heldRecordBytes + bytes + recordOverheadBytes > this.recordBudget) return false;
        this.window.push({ record: decodeBody(body), bytes });
        this.windowBytes += bytes + recordOverheadBytes;
        added++;
        return true;
      });
      this.readOffset = r.offset;
      // These bytes passed their CRC at recovery or were written by this process: damage since then cannot be worked around here.
      if (r.bad) throw new EipError('INTERNAL', `spool segment ${seg.file} is damaged at byte ${r.offset}; a restart cuts it there`);
      if (r.offset < seg.end) return;
    }
  }

  /** Moves the read position past the end of finished segments. */
  private normalizeRead(): void {
    while (this.readSeg && this.readSeg !== this.last() && this.readOffset >= this.readSeg.end) {
      this.readSeg = this.segments[this.segments.indexOf(this.readSeg) + 1];
      this.readOffset = 0;
    }
  }

  private readFdFor(seg: Segment): number {
    if (this.readFdSeg !== seg) {
      this.closeReadFd();
      this.readFd = this.fs.open(join(this.dir, seg.file), 'r');
      this.readFdSeg = seg;
    }
    return this.readFd;
  }

  private closeReadFd(): void {
    if (this.readFd >= 0) this.fs.close(this.readFd);
    this.readFd = -1;
    this.readFdSeg = undefined;
  }

  private writeAll(frame: Buffer): void {
    for (let done = 0; done < frame.length;) {
      const n = this.fs.write(this.fd, frame, done, frame.length - done);
      if (n <= 0) throw Object.assign(new Error('spool write made no progress'), { code: 'EIO' });
      done += n;
    }
  }

  /** After a failed write: cut what part of the frame reached the file, or stop appending to that file. */
  private cutPartial(seg: Segment): void {
    try {
      this.fs.truncate(this.fd, seg.end);
    } catch (err) {
      // The next append starts a new segment; this one ends at its last whole frame (recovery cuts the rest).
      this.logger.warn({ file: seg.file, err: errorMessage(err) }, 'spool could not cut a failed append; sealing the segment');
      try { this.fs.close(this.fd); } catch { /* already unusable */ }
      this.fd = -1;
    }
  }

  private rotate(firstId: number): void {
    const file = segmentName(firstId);
    const fd = this.fs.open(join(this.dir, file), 'a');
    let size: number;
    try {
      size = this.fs.size(fd);
    } catch (err) {
      this.fs.close(fd);
      throw err;
    }
    this.normalizeRead();
    const caughtUp = !this.readSeg || (this.readSeg === this.last() && this.readOffset >= this.readSeg.end);
    if (this.fd >= 0) this.fs.close(this.fd);
    this.fd = fd;
    const seg: Segment = { file, firstId, lastId: firstId - 1, end: size };
    this.segments.push(seg);
    if (caughtUp) {
      this.readSeg = seg;
      this.readOffset = size;
    }
  }

  private writeCheckpoint(): void {
    const tmp = join(this.dir, 'checkpoint.tmp');
    try {
      this.fs.writeText(tmp, String(this.ackedId));
      this.fs.rename(tmp, join(this.dir, 'checkpoint'));
      if (this.checkpointFailing) this.logger.info({ ackedId: this.ackedId }, 'spool checkpoint written again');
      this.checkpointFailing = false;
    } catch (err) {
      // Only costs repeats after a restart (at least once); the next ack tries again.
      if (!this.checkpointFailing) this.logger.error({ err: errorMessage(err) }, 'spool checkpoint write failed; a restart now would replay drained messages');
      this.checkpointFailing = true;
    }
  }

  private recover(): void {
    this.fs.mkdir(this.dir);
    const checkpoint = Number(this.fs.readText(join(this.dir, 'checkpoint')));
    this.ackedId = Number.isSafeInteger(checkpoint) && checkpoint > 0 ? checkpoint : 0;
    let maxId = this.ackedId;
    let recovered = 0;
    let torn = 0;
    const files = this.fs.list(this.dir).filter((f) => segmentPattern.test(f)).sort();
    for (const file of files) {
      const path = join(this.dir, file);
      const named = Number(segmentPattern.exec(file)![1]);
      let lastId = named - 1;
      let firstPending = -1;
      const fd = this.fs.open(path, 'r');
      let size: number;
      let end: number;
      try {
        size = this.fs.size(fd);
        end = this.reader.scan(fd, 0, size, (body, offset, bytes) => {
          const id = frameId(body);
          lastId = id;
          maxId = Math.max(maxId, id);
          if (id > this.ackedId) {
            if (firstPending < 0) firstPending = offset;
            this.pendingCount++;
            this.pendingByteCount += bytes;
            recovered++;
          }
          return true;
        }).offset;
      } finally {
        this.fs.close(fd);
      }
      if (end < size) {
        torn++;
        const wfd = this.fs.open(path, 'r+');
        try { this.fs.truncate(wfd, end); } finally { this.fs.close(wfd); }
      }
      if (end === 0 || lastId <= this.ackedId) {
        this.fs.unlink(path);
        continue;
      }
      const seg: Segment = { file, firstId: named, lastId, end };
      this.segments.push(seg);
      if (!this.readSeg && firstPending >= 0) {
        this.readSeg = seg;
        this.readOffset = firstPending;
      }
    }
    this.nextId = maxId + 1;
    if (recovered > 0 || torn > 0) this.logger.warn({ recovered, torn, dir: this.dir }, 'spool recovered messages a previous run had not drained');
    // Appends always go to a fresh segment: recovered ones are deleted once drained.
    this.rotate(this.nextId);
  }
}
