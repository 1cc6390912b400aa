/**
 * The file-system calls the spool makes, behind one small interface so that a
 * test can fail them (a full disk, an I/O error) and then let them pass.
 * Everything is synchronous: an append must be on disk before its PUBACK.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';

export interface SpoolFs {
  /** 'a' appends (and creates), 'r' reads, 'r+' reads and writes in place. */
  open(path: string, flags: 'a' | 'r' | 'r+'): number;
  close(fd: number): void;
  /** Writes up to length bytes of data from offset; returns how many it wrote (may be fewer). */
  write(fd: number, data: Buffer, offset: number, length: number): number;
  /** Reads up to length bytes at position into the start of into; returns how many it read. */
  read(fd: number, into: Buffer, length: number, position: number): number;
  size(fd: number): number;
  truncate(fd: number, length: number): void;
  mkdir(dir: string): void;
  list(dir: string): string[];
  /** The file's text, or undefined when it does not exist. */
  readText(path: string): string | undefined;
  writeText(path: string, text: string): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
}

export const nodeSpoolFs: SpoolFs = {
  open: (path, flags) => openSync(path, flags),
  close: (fd) => closeSync(fd),
  write: (fd, data, offset, length) => writeSync(fd, data, offset, length),
  read: (fd, into, length, position) => readSync(fd, into, 0, length, position),
  size: (fd) => fstatSync(fd).size,
  truncate: (fd, length) => ftruncateSync(fd, length),
  mkdir: (dir) => { mkdirSync(dir, { recursive: true }); },
  list: (dir) => readdirSync(dir),
  readText: (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  writeText: (path, text) => writeFileSync(path, text),
  rename: (from, to) => renameSync(from, to),
  unlink: (path) => unlinkSync(path),
};
