import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import { InputState, resolveUnder } from '@tileflow/shared';
import type { InputReadResult } from './types.js';

/** Checks that the project root is a readable folder. Returns a failure, or null when it is fine. */
export async function checkRoot(root: string): Promise<Extract<InputReadResult, { status: 'failed' }> | null> {
  let st;
  try {
    st = await fs.stat(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return { status: 'failed', state: InputState.Missing, message: `root folder ${root} does not exist` };
    return { status: 'failed', state: InputState.BadLocation, message: `root folder ${root} cannot be read (${code})` };
  }
  if (!st.isDirectory()) {
    return { status: 'failed', state: InputState.BadLocation, message: `root ${root} is not a folder` };
  }
  try {
    await fs.access(root, fsConstants.R_OK | fsConstants.X_OK);
  } catch {
    return { status: 'failed', state: InputState.BadLocation, message: `root folder ${root} is not readable` };
  }
  return null;
}

/** The content of an input file, with the identity it was read under. */
export interface FileContent {
  buffer: Buffer;
  /** inode, size and mtime (ns): equal signatures mean the same bytes, so the file need not be read again. */
  signature: string;
  path: string;
}

/**
 * One input file (pipeline-input.json, dashboard.json, a CSV manifest) under a project root, read only when it
 * changed. A file is identified by inode + size + mtime: an atomic rewrite (temp file + rename) changes the inode,
 * an in-place write changes size or mtime.
 */
export class WatchedFile {
  private committed: string | undefined;
  /** Signature and failure of the last malformed content, so that the same broken file is not parsed every poll. */
  private lastFailure: { signature: string; message: string } | undefined;

  constructor(
    readonly root: string,
    readonly relativeFile: string,
  ) {}

  /** Reads the file unless it is the one last committed. */
  async read(): Promise<Extract<InputReadResult, { status: 'unchanged' | 'busy' | 'failed' }> | FileContent> {
    const rootFailure = await checkRoot(this.root);
    if (rootFailure) return rootFailure;
    const file = resolveUnder(this.root, this.relativeFile);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        return {
          status: 'failed',
          state: InputState.Missing,
          message: `input file ${this.relativeFile} not found in ${this.root}`,
        };
      }
      return {
        status: 'failed',
        state: InputState.BadLocation,
        message: `input file ${this.relativeFile} cannot be read (${code})`,
      };
    }
    try {
      const before = await handle.stat({ bigint: true });
      if (!before.isFile()) {
        return { status: 'failed', state: InputState.BadLocation, message: `input ${this.relativeFile} is not a file` };
      }
      const signature = `${before.ino}:${before.size}:${before.mtimeNs}`;
      if (signature === this.committed) return { status: 'unchanged' };
      if (this.lastFailure?.signature === signature) {
        return { status: 'failed', state: InputState.Malformed, message: this.lastFailure.message };
      }
      const size = Number(before.size);
      const buffer = Buffer.allocUnsafe(size);
      let read = 0;
      while (read < size) {
        const { bytesRead } = await handle.read(buffer, read, size - read, read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      // An in-place writer may be at work: if the file moved under us, what we read may mix two versions.
      const after = await fs.stat(file, { bigint: true }).catch(() => undefined);
      if (read !== size || !after || `${after.ino}:${after.size}:${after.mtimeNs}` !== signature) {
        return { status: 'busy', message: `input file ${this.relativeFile} changed while being read` };
      }
      return { buffer, signature, path: file };
    } finally {
      await handle.close();
    }
  }

  /** The content read under `signature` was recorded: answer `unchanged` while the file stays the same. */
  commit(signature: string): void {
    this.committed = signature;
    this.lastFailure = undefined;
  }

  /** The content read under `signature` is malformed: answer the same failure while the file stays the same. */
  rememberFailure(signature: string, message: string): void {
    this.lastFailure = { signature, message };
  }
}
