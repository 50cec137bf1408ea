import fs from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import { InputKind, isInsideRoot } from '@tileflow/shared';
import { ArrayReading } from './array-reading.js';
import { checkRoot } from './input-file.js';
import { baseName } from './item.js';
import { OptionsReader, type OptionsResult } from './options.js';
import type { GlobOptions, InputItem, InputReadResult, InputSource, RejectedItem } from './types.js';

/**
 * A directory scan: one item per file or folder matching a glob under the project root (videos of a camera rig,
 * tile folders holding a marker file). Polling lists the tree each time (inotify never sees writes from other NFS
 * hosts); only items not recorded yet are stat'ed.
 *
 * "Finished writing" check: an item is recorded once two looks at least `stableSeconds` apart saw the same size and
 * mtime (for a folder item with a marker: the marker's size and mtime and the folder's mtime). Until then it is
 * reported `pending`, so that a tile recorded before a coordinator restart is not taken for gone while it is looked at
 * again. Once recorded, an item stays as it is while it is listed; it is marked missing when it is no longer listed.
 */
export type ResolvedGlobOptions = Required<Pick<GlobOptions, 'pattern' | 'itemType' | 'stableSeconds' | 'ignore'>> &
  Pick<GlobOptions, 'marker' | 'positionPattern'>;

export function validateGlobOptions(raw: unknown): OptionsResult<ResolvedGlobOptions> {
  const r = new OptionsReader(raw, ['pattern', 'marker', 'itemType', 'positionPattern', 'stableSeconds', 'ignore']);
  const pattern = r.string('pattern', { required: true });
  if (pattern !== undefined) {
    if (pattern.startsWith('/')) r.error('pattern', 'must be relative to the project root');
    else if (pattern.split('/').includes('..')) r.error('pattern', 'must stay under the project root (no "..")');
  }
  const marker = r.string('marker');
  if (marker !== undefined && (marker.includes('/') || marker.includes('\\') || marker === '.' || marker === '..')) {
    r.error('marker', 'must be a file name, without folders');
  }
  const itemType = r.oneOf('itemType', ['file', 'directory'] as const, marker !== undefined ? 'directory' : 'file');
  if (marker !== undefined && itemType === 'file') r.error('itemType', 'items with a marker file are folders');
  const positionPattern = r.string('positionPattern');
  if (positionPattern !== undefined) {
    try {
      new RegExp(positionPattern);
      if (!/\(\?<[xyz]>/.test(positionPattern))
        r.error('positionPattern', 'needs a named group x, y or z, e.g. x(?<x>\\d+)');
    } catch (e) {
      r.error('positionPattern', `is not a valid regular expression: ${(e as Error).message}`);
    }
  }
  const stableSeconds = r.number('stableSeconds', 2, 0, 86_400);
  const ignore = r.stringList('ignore') ?? [];
  const options: ResolvedGlobOptions = { pattern: pattern ?? '', itemType, stableSeconds, ignore };
  if (marker !== undefined) options.marker = marker;
  if (positionPattern !== undefined) options.positionPattern = positionPattern;
  return r.result(options);
}

function toInt(v: string | undefined): number | null {
  if (v === undefined || !/^-?\d+$/.test(v)) return null;
  const n = Number(v);
  return Math.abs(n) <= 2147483647 ? n : null;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

export class GlobInputSource implements InputSource {
  readonly kind = InputKind.Glob;
  /** Items found stable (recorded or about to be). */
  private readonly stable = new Set<string>();
  /** Items seen but not stable yet: their signature and when it was first seen (clock ms). */
  private readonly pending = new Map<string, { signature: string; since: number }>();
  private readonly position: RegExp | undefined;
  private committedListing: string | undefined;

  constructor(
    private readonly root: string,
    private readonly options: ResolvedGlobOptions,
    /** Clock in milliseconds; tests pass their own. */
    private readonly now: () => number = Date.now,
  ) {
    this.position = options.positionPattern ? new RegExp(options.positionPattern) : undefined;
  }

  private async signatureOf(rel: string): Promise<string | undefined> {
    try {
      const abs = path.join(this.root, rel);
      if (this.options.marker !== undefined) {
        const [m, d] = await Promise.all([fs.stat(path.join(abs, this.options.marker)), fs.stat(abs)]);
        return `${m.size}:${m.mtimeMs}:${d.mtimeMs}`;
      }
      const st = await fs.stat(abs);
      return `${st.size}:${st.mtimeMs}`;
    } catch {
      return undefined; // gone between the listing and the stat: not there
    }
  }

  private itemFor(rel: string, pending: boolean): InputItem {
    const g = this.position?.exec(rel)?.groups;
    const item: InputItem = {
      relativePath: rel,
      tileName: baseName(rel),
      x: toInt(g?.x),
      y: toInt(g?.y),
      z: toInt(g?.z),
      stepX: null,
      stepY: null,
      stepZ: null,
      isComplete: true,
      userData: {},
    };
    if (pending) item.pending = true;
    return item;
  }

  async read(): Promise<InputReadResult> {
    const rootFailure = await checkRoot(this.root);
    if (rootFailure) return rootFailure;
    const o = this.options;
    const marker = o.marker;
    const entries = await fg(
      marker !== undefined ? `${o.pattern.replace(/\/+$/, '')}/${fg.escapePath(marker)}` : o.pattern,
      {
        cwd: this.root,
        onlyFiles: marker !== undefined || o.itemType === 'file',
        onlyDirectories: marker === undefined && o.itemType === 'directory',
        dot: false,
        followSymbolicLinks: false,
        suppressErrors: true,
        ignore: o.ignore,
      },
    );
    const paths = marker !== undefined ? entries.map((e) => path.posix.dirname(e)) : entries;
    paths.sort();
    const listing = `${paths.length}\u0000${paths.join('\u0000')}`;
    if (listing === this.committedListing) return { status: 'unchanged' };

    const rejected: RejectedItem[] = [];
    const listed = new Set<string>();
    const toCheck: string[] = [];
    for (const rel of paths) {
      if (!isInsideRoot(this.root, rel)) {
        rejected.push({ relativePath: rel, reason: 'leaves the project root' });
        continue;
      }
      listed.add(rel);
      if (!this.stable.has(rel)) toCheck.push(rel);
    }
    const signatures = await mapLimit(toCheck, 32, (rel) => this.signatureOf(rel));
    const now = this.now();
    const stableMs = o.stableSeconds * 1000;
    const pendingNow = new Set<string>();
    toCheck.forEach((rel, i) => {
      const signature = signatures[i];
      if (signature === undefined) {
        listed.delete(rel);
        this.pending.delete(rel);
        return;
      }
      const seen = this.pending.get(rel);
      if (seen && seen.signature === signature && now - seen.since >= stableMs) {
        this.pending.delete(rel);
        this.stable.add(rel);
      } else {
        if (!seen || seen.signature !== signature) this.pending.set(rel, { signature, since: now });
        pendingNow.add(rel);
      }
    });
    for (const rel of this.stable) if (!listed.has(rel)) this.stable.delete(rel);
    for (const rel of this.pending.keys()) if (!listed.has(rel)) this.pending.delete(rel);

    const items: InputItem[] = [];
    for (const rel of paths) if (listed.has(rel)) items.push(this.itemFor(rel, pendingNow.has(rel)));
    const complete = pendingNow.size === 0;
    return new ArrayReading(items, rejected, () => {
      // With nothing pending, the same listing next time means nothing to look at again.
      if (complete) this.committedListing = listing;
    });
  }
}

export function createGlobSource(root: string, options: ResolvedGlobOptions, now?: () => number): InputSource {
  return new GlobInputSource(root, options, now);
}
