/**
 * The completion log of jobcomp/filetxt (slurm.conf `JobCompLoc`): one line per finished job. Without slurmdbd it
 * is the only record of a job once it has left squeue (MinJobAge seconds after its end). The reader reads only what
 * was appended since its last read, and keeps the records of the jobs it is asked about.
 */
import fs from 'node:fs/promises';
import { parseJobCompLine, type JobRecord } from './states.js';

export interface JobCompReader {
  /**
   * Reads what was appended since the last call (one read) and returns the records of `wanted` seen so far.
   * A file that shrank (rotated) is read again from its start.
   */
  read(wanted: ReadonlySet<string>): Promise<Map<string, JobRecord>>;
  /** Forget the position: the next read scans the whole file (after a reattach, for jobs that ended long ago). */
  rewind(): void;
  /** Drops the records of jobs no longer tracked. */
  forget(keys: Iterable<string>): void;
}

const CHUNK = 4 * 1024 * 1024;

export function createJobCompReader(file: string): JobCompReader {
  let offset = 0;
  const records = new Map<string, JobRecord>();
  return {
    async read(wanted) {
      let fh: fs.FileHandle;
      try {
        fh = await fs.open(file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return records; // no job has finished yet
        throw err;
      }
      try {
        const { size } = await fh.stat();
        if (size < offset) offset = 0;
        // Lines are cut on the byte 0x0a, which never occurs inside a multi-byte UTF-8 character.
        let rest: Buffer = Buffer.alloc(0);
        const buf = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK, size - offset)));
        while (offset < size) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - offset), offset);
          if (bytesRead === 0) break;
          offset += bytesRead;
          const data = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
          let start = 0;
          for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
            const r = parseJobCompLine(data.toString('utf8', start, nl));
            if (r && wanted.has(r.key)) records.set(r.key, r);
            start = nl + 1;
          }
          rest = Buffer.from(data.subarray(start));
        }
        // A line still being written is read again next time.
        offset -= rest.length;
      } finally {
        await fh.close();
      }
      return records;
    },
    rewind() {
      offset = 0;
    },
    forget(keys) {
      for (const k of keys) records.delete(k);
    },
  };
}
