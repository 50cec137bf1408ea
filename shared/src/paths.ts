import path from 'node:path';

/** Raised when a path would leave the folder it must stay under. */
export class PathEscapeError extends Error {
  readonly code = 'PATH_ESCAPE';
  constructor(
    readonly relativePath: string,
    readonly root: string,
  ) {
    super(
      `Path "${relativePath}" leaves its root "${root}": use a path inside the root, without ".." or a leading "/"`,
    );
    this.name = 'PathEscapeError';
  }
}

/**
 * Resolves `relativePath` under `root` and refuses anything that would leave it (`..`, absolute paths, NUL bytes).
 * Returns the absolute path. Symlinks are not followed here: the check is lexical, like MouseLight's layout.
 */
export function resolveUnder(root: string, relativePath: string): string {
  if (relativePath.includes('\0') || path.isAbsolute(relativePath)) {
    throw new PathEscapeError(relativePath, root);
  }
  const absRoot = path.resolve(root);
  const resolved = path.resolve(absRoot, relativePath);
  if (resolved !== absRoot && !resolved.startsWith(absRoot + path.sep)) {
    throw new PathEscapeError(relativePath, root);
  }
  return resolved;
}

/** True when `relativePath` stays under its root. */
export function isInsideRoot(root: string, relativePath: string): boolean {
  try {
    resolveUnder(root, relativePath);
    return true;
  } catch {
    return false;
  }
}

/**
 * Maps a path as the coordinator knows it to the path on this host, for hosts that mount the acquisition root
 * elsewhere. `mappings` is a list of [coordinatorPrefix, localPrefix] pairs; the longest matching prefix wins.
 */
export function mapPath(p: string, mappings: ReadonlyArray<readonly [string, string]>): string {
  let best: readonly [string, string] | undefined;
  for (const m of mappings) {
    const from = m[0].replace(/\/+$/, '');
    if ((p === from || p.startsWith(from + '/')) && (!best || from.length > best[0].length)) best = [from, m[1]];
  }
  if (!best) return p;
  return best[1].replace(/\/+$/, '') + p.slice(best[0].length);
}

/** Parses `TILEFLOW_PATH_MAP` ("/coordinator/prefix=/local/prefix;/other=/mnt/other") into pairs. */
export function parsePathMap(value: string | undefined): Array<[string, string]> {
  if (!value) return [];
  return value
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf('=');
      if (i <= 0) throw new Error(`TILEFLOW_PATH_MAP entry "${pair}" must look like /from=/to`);
      return [pair.slice(0, i), pair.slice(i + 1)] as [string, string];
    });
}
