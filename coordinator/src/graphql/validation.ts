/** Input checks shared by the mutation services. Each returns a message saying what to do, or null. */
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** An absolute folder that exists and that this process can read and list. */
export async function readableFolderProblem(value: string): Promise<string | null> {
  if (!path.isAbsolute(value)) return `"${value}" is not absolute: give the full path, starting with /`;
  if (value.includes('\0')) return 'must not contain NUL bytes';
  try {
    const st = await fs.stat(value);
    if (!st.isDirectory()) return `"${value}" is not a folder: give the acquisition's folder`;
    await fs.access(value, fsConstants.R_OK | fsConstants.X_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `"${value}" does not exist: create it or fix the path (as seen by the coordinator)`;
    if (code === 'EACCES') return `"${value}" is not readable by the coordinator: fix its permissions`;
    return `"${value}" cannot be read (${code ?? 'error'})`;
  }
}

/** An absolute path that may not exist yet (outputs, log roots): only its form is checked. */
export function absolutePathProblem(value: string): string | null {
  if (!path.isAbsolute(value)) return `"${value}" is not absolute: give the full path, starting with /`;
  if (value.includes('\0')) return 'must not contain NUL bytes';
  return null;
}

/** A display name: 1 to 200 characters after trimming. */
export function nameProblem(value: string): string | null {
  const v = value.trim();
  if (v.length === 0) return 'must not be empty';
  if (v.length > 200) return 'must be at most 200 characters';
  return null;
}

/** A parameter name usable as ${NAME}. */
export const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
