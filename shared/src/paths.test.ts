import { describe, expect, it } from 'vitest';
import { isInsideRoot, mapPath, parsePathMap, PathEscapeError, resolveUnder } from './paths.js';

describe('resolveUnder', () => {
  it('resolves a relative path under the root', () => {
    expect(resolveUnder('/root', 'a/b.tif')).toBe('/root/a/b.tif');
    expect(resolveUnder('/root/', './a//b')).toBe('/root/a/b');
    expect(resolveUnder('/root', 'a/../b')).toBe('/root/b');
    expect(resolveUnder('/root', '.')).toBe('/root');
  });

  it('refuses to climb out with ..', () => {
    expect(() => resolveUnder('/root', '..')).toThrow(PathEscapeError);
    expect(() => resolveUnder('/root', '../etc/passwd')).toThrow(PathEscapeError);
    expect(() => resolveUnder('/root', 'a/../../b')).toThrow(PathEscapeError);
  });

  it('refuses an absolute path', () => {
    expect(() => resolveUnder('/root', '/etc/passwd')).toThrow(PathEscapeError);
    expect(() => resolveUnder('/root', '/root/a')).toThrow(PathEscapeError);
  });

  it('refuses a NUL byte', () => {
    expect(() => resolveUnder('/root', 'a\0b')).toThrow(PathEscapeError);
  });

  it('refuses a sibling that shares the prefix (/root2 is not under /root)', () => {
    expect(() => resolveUnder('/root', '../root2/x')).toThrow(PathEscapeError);
    expect(() => resolveUnder('/root', '../root2')).toThrow(PathEscapeError);
  });

  it('names the path and the root in the error', () => {
    let error: unknown;
    try {
      resolveUnder('/data', '../x');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PathEscapeError);
    expect(error).toMatchObject({ code: 'PATH_ESCAPE', relativePath: '../x', root: '/data' });
  });

  it('isInsideRoot says the same without throwing', () => {
    expect(isInsideRoot('/root', 'a/b')).toBe(true);
    expect(isInsideRoot('/root', '../root2/a')).toBe(false);
    expect(isInsideRoot('/root', '/abs')).toBe(false);
  });
});

describe('mapPath', () => {
  const mappings = [
    ['/coord/data', '/mnt/data'],
    ['/coord/data/deep', '/fast/deep/'],
    ['/other/', '/o'],
  ] as const;

  it('replaces the matching prefix', () => {
    expect(mapPath('/coord/data/p1/tile.tif', mappings)).toBe('/mnt/data/p1/tile.tif');
    expect(mapPath('/other/x', mappings)).toBe('/o/x');
  });

  it('maps the prefix itself', () => {
    expect(mapPath('/coord/data', mappings)).toBe('/mnt/data');
  });

  it('picks the longest matching prefix', () => {
    expect(mapPath('/coord/data/deep/t.tif', mappings)).toBe('/fast/deep/t.tif');
  });

  it('matches whole path segments only', () => {
    expect(mapPath('/coord/data2/t.tif', mappings)).toBe('/coord/data2/t.tif');
  });

  it('leaves an unmapped path alone', () => {
    expect(mapPath('/elsewhere/t.tif', mappings)).toBe('/elsewhere/t.tif');
    expect(mapPath('/coord/data/t', [])).toBe('/coord/data/t');
  });
});

describe('parsePathMap', () => {
  it('is empty for an unset or empty value', () => {
    expect(parsePathMap(undefined)).toEqual([]);
    expect(parsePathMap('')).toEqual([]);
  });

  it('parses pairs separated by ; or , with spaces trimmed', () => {
    expect(parsePathMap('/a=/b; /c=/d ,/e=/f;')).toEqual([
      ['/a', '/b'],
      ['/c', '/d'],
      ['/e', '/f'],
    ]);
  });

  it('splits at the first =', () => {
    expect(parsePathMap('/a=/b=c')).toEqual([['/a', '/b=c']]);
  });

  it('refuses an entry without a source prefix', () => {
    expect(() => parsePathMap('/a')).toThrow(/TILEFLOW_PATH_MAP/);
    expect(() => parsePathMap('=/b')).toThrow(/TILEFLOW_PATH_MAP/);
  });

  it('feeds mapPath', () => {
    expect(mapPath('/coord/x/y', parsePathMap('/coord=/local'))).toBe('/local/x/y');
  });
});
