/**
 * The e2e tests drive the built web client that the coordinator serves from client/dist. This builds it when it is
 * missing or older than its sources (client/src, client/index.html, the Vite config, shared/src).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function newestMtime(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of fs.readdirSync(p)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    newest = Math.max(newest, newestMtime(path.join(p, entry)));
  }
  return newest;
}

/** Builds the client unless client/dist is newer than every source. Returns whether it built. */
export function ensureClientBuilt(): boolean {
  const index = path.join(repoRoot, 'client', 'dist', 'index.html');
  const built = fs.statSync(index, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = ['client/src', 'client/index.html', 'client/vite.config.ts', 'shared/src'].map((p) =>
    newestMtime(path.join(repoRoot, p)),
  );
  if (built > Math.max(...sources)) return false;
  execFileSync('npm', ['run', 'build', '-w', '@tileflow/client'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return true;
}
