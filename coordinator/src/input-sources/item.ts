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
 * 53-bit hash in the manner of cyrb53 (bryc, public domain), fed field by field so that no string is built per item:
 * fast, well spread, exact as a JavaScript number. Enough to tell two versions of one item apart: a false
 * "unchanged" needs a collision between the old and new description of the same path (about 1 in 2^53).
 */
class Hasher {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;

  private mix(v: number): void {
    this.h1 = Math.imul(this.h1 ^ v, 2654435761);
    this.h2 = Math.imul(this.h2 ^ v, 1597334677);
  }

  string(s: string): this {
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
    this.mix(0x10001); // separator: "ab"+"c" and "a"+"bc" differ
    return this;
  }

  /** A number or null; integers directly, others (steps) through their decimal text. */
  number(n: number | null): this {
    if (n === null) this.mix(0x10002);
    else if (Number.isInteger(n) && n >= -0x7fffffff && n <= 0x7fffffff) {
      this.mix(n | 0);
      this.mix(0x10003);
    } else {
      this.string(String(n));
    }
    return this;
  }

  digest(): number {
    let { h1, h2 } = this;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }
}

/**
 * Digest of everything an input says of an item (not its path: that is the key), as a number. Stored in
 * `tiles.fingerprint` as {@link fingerprintText}; equal digests mean nothing to write.
 */
export function fingerprintOf(item: InputItem): number {
  const h = new Hasher()
    .string(item.tileName)
    .number(item.x)
    .number(item.y)
    .number(item.z)
    .number(item.stepX)
    .number(item.stepY)
    .number(item.stepZ)
    .number(item.isComplete ? 1 : 0);
  const u = item.userData;
  for (const key in u) {
    const v = u[key];
    h.string(key);
    if (typeof v === 'number') h.number(v);
    else h.string(typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'));
  }
  return h.digest();
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
