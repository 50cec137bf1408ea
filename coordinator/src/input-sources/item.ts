import { PathEscapeError, resolveUnder } from '@tileflow/shared';
import type { InputItem } from './types.js';

/**
 * Normalises a relative path as MouseLight did (backslashes become `/`; trailing slashes go) and checks it stays
 * under the root. Returns the path, or the reason it is refused.
 */
export function checkRelativePath(root: string, raw: string): { path: string } | { reason: string } {
  let p = raw;
  if (p.includes('\\')) p = p.replace(/\\/g, '/');
  if (p.endsWith('/')) p = p.replace(/\/+$/, '');
  if (p === '' || p === '.') return { reason: 'empty path (the root itself is not an item)' };
  // Fast path, the usual case: relative, no ".." anywhere, no NUL: it cannot leave the root.
  if (p.charCodeAt(0) !== 47 && !p.includes('..') && !p.includes('\0')) return { path: p };
  try {
    resolveUnder(root, p);
  } catch (e) {
    if (e instanceof PathEscapeError) return { reason: 'leaves the project root' };
    throw e;
  }
  return { path: p };
}

/** Last segment of a normalised relative path. */
export function baseName(relativePath: string): string {
  const i = relativePath.lastIndexOf('/');
  return i < 0 ? relativePath : relativePath.slice(i + 1);
}

/**
 * 53-bit string hash (cyrb53 by bryc, public domain): fast, well spread, exact as a JavaScript number. Enough to
 * tell two versions of one item apart: a false "unchanged" needs a collision between the old and new description of
 * the same path (about 1 in 2^53).
 */
function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * Digest of everything an input says of an item (not its path: that is the key), as a number. Stored in
 * `tiles.fingerprint` as {@link fingerprintText}; equal digests mean nothing to write.
 */
export function fingerprintOf(item: InputItem): number {
  const u = item.userData;
  let userData = '';
  for (const _ in u) {
    userData = JSON.stringify(u);
    break;
  }
  return hash53(
    `${item.tileName}\u0001${item.x}\u0001${item.y}\u0001${item.z}\u0001${item.stepX}\u0001${item.stepY}\u0001` +
      `${item.stepZ}\u0001${item.isComplete ? 1 : 0}\u0001${userData}`,
  );
}

/** The text form of a fingerprint, as stored in `tiles.fingerprint`. */
export function fingerprintText(fp: number): string {
  return fp.toString(36);
}

/** Parses `tiles.fingerprint`; NaN for anything that is not one of ours (the tile is then rewritten once). */
export function parseFingerprint(text: string): number {
  if (!/^[0-9a-z]{1,11}$/.test(text)) return NaN;
  return parseInt(text, 36);
}
