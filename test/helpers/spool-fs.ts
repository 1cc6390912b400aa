/**
 * The spool's real file-system calls with faults switched on and off by a test:
 * a full disk (ENOSPC, EDQUOT) or an I/O error on append, optionally after part
 * of the frame reached the file, as a real short write leaves it.
 */
import { nodeSpoolFs, type SpoolFs } from '../../services/ingest/spool-fs.ts';

export interface FaultySpoolFs {
  fs: SpoolFs;
  /** Fails every write with this code until pass(); partialBytes of each frame reach the file first. */
  failWrites(code: 'ENOSPC' | 'EDQUOT' | 'EIO', options?: { partialBytes?: number; alsoTruncate?: boolean; alsoCheckpoint?: boolean }): void;
  pass(): void;
  /** Writes refused so far. */
  readonly refused: number;
}

const systemError = (code: string, call: string): Error => Object.assign(new Error(`${code}: injected, ${call}`), { code, syscall: call });

export function faultySpoolFs(): FaultySpoolFs {
  let failing: { code: string; partialBytes: number; alsoTruncate: boolean; alsoCheckpoint: boolean } | undefined;
  let refused = 0;
  const fs: SpoolFs = {
    ...nodeSpoolFs,
    write: (fd, data, offset, length) => {
      if (!failing) return nodeSpoolFs.write(fd, data, offset, length);
      refused++;
      if (failing.partialBytes > 0) nodeSpoolFs.write(fd, data, offset, Math.min(length, failing.partialBytes));
      throw systemError(failing.code, 'write');
    },
    truncate: (fd, length) => {
      if (failing?.alsoTruncate) throw systemError('EIO', 'ftruncate');
      nodeSpoolFs.truncate(fd, length);
    },
    writeText: (path, text) => {
      if (failing?.alsoCheckpoint) throw systemError(failing.code, 'open');
      nodeSpoolFs.writeText(path, text);
    },
  };
  return {
    fs,
    failWrites: (code, options = {}) => { failing = { code, partialBytes: options.partialBytes ?? 0, alsoTruncate: options.alsoTruncate ?? false, alsoCheckpoint: options.alsoCheckpoint ?? false }; },
    pass: () => { failing = undefined; },
    get refused() { return refused; },
  };
}
