import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';

/** The nearest `.env` walking up from `start`, or undefined. */
export function findDotEnv(start = process.cwd()): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, '.env');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The environment of a command-line tool: the process environment over the repository's `.env` (found by walking
 * up from the current folder). Variables set in the environment win; empty values in `.env` count as unset.
 */
export function loadCliEnv(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Record<string, string | undefined> {
  const file = findDotEnv(cwd);
  const fromFile = file ? parse(readFileSync(file)) : {};
  const merged: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(fromFile)) if (v !== '') merged[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  return merged;
}
