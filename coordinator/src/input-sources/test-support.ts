import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {
  InputHeader,
  InputItem,
  InputReadResult,
  InputReading,
  InputSource,
  RejectedItem,
  UnchangedItem,
} from './types.js';

/**
 * Helpers for the input-source tests (unit and integration). Kept out of the tests themselves so that each parser's
 * test file reads as a list of cases.
 */

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(name = 'tileflow-input-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), name));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

export type ReadAll =
  | Exclude<InputReadResult, InputReading>
  | {
      status: 'read';
      /** The parsed items, and the entries that were the same as in the last committed reading. */
      items: InputItem[];
      unchanged: Array<UnchangedItem & { ordinal: number }>;
      header: InputHeader;
      rejected: RejectedItem[];
      reading: InputReading;
    };

/** Reads a source once and walks every item (pass 1), as the watcher does. */
export async function readAll(source: InputSource): Promise<ReadAll> {
  const r = await source.read();
  if (r.status !== 'read') return r;
  const items: InputItem[] = [];
  const unchanged: Array<UnchangedItem & { ordinal: number }> = [];
  let ordinal = 0;
  for (const entry of r.items()) {
    if ('unchanged' in entry) unchanged.push({ ...entry, ordinal });
    else items.push(entry);
    ordinal++;
  }
  return { status: 'read', items, unchanged, ...r.summary(), reading: r };
}

/** Narrows a ReadAll to a successful reading, failing the test with what it was otherwise. */
export function expectRead(r: ReadAll): Extract<ReadAll, { status: 'read' }> {
  if (r.status !== 'read') throw new Error(`expected a reading, got ${JSON.stringify(r)}`);
  return r;
}

/** Names that break naive shell quoting: spaces, both quotes, command substitution, a glob character. */
export const NASTY_PREFIX = `a b"c'$(touch pwned)\`id\`*`;
