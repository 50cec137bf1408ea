import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyntheticAcquisition } from '../tools/synth.js';
import { createInputSource } from './sources.js';
import { expectRead, NASTY_PREFIX, readAll, tempDir } from './test-support.js';

let dir: string;
let cleanup: () => Promise<void>;
let clock: number;
const now = () => clock;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  clock = 1_000_000;
});
afterEach(async () => cleanup());

const POSITION = String.raw`z(?<z>\d+)/y(?<y>\d+)/.*x(?<x>\d+)`;

describe('glob source', () => {
  it('records tile folders holding the marker once stable, positions parsed from the path', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'glob-folders', x: 3, y: 2, z: 2, prefix: NASTY_PREFIX });
    await acq.writeAll();
    // A folder without its marker is not an item.
    await fs.mkdir(path.join(dir, 'z0009/y0000/x0000'), { recursive: true });
    const s = createInputSource(
      'glob',
      dir,
      { pattern: 'z*/y*/*', marker: 'tile.done', positionPattern: POSITION },
      now,
    );

    const first = expectRead(await readAll(s));
    expect(first.items).toHaveLength(12);
    expect(first.items.every((i) => i.pending)).toBe(true);

    clock += 2000;
    const second = expectRead(await readAll(s));
    expect(second.items.map((i) => i.relativePath)).toEqual(
      [...Array(12).keys()].map((i) => acq.relativePathOf(i)).sort(),
    );
    expect(second.items.every((i) => !i.pending && i.isComplete)).toBe(true);
    const byPath = new Map(second.items.map((i) => [i.relativePath, i]));
    for (let i = 0; i < 12; i++) {
      const p = acq.positionOf(i);
      expect(byPath.get(acq.relativePathOf(i))).toMatchObject({ x: p.x, y: p.y, z: p.z });
    }
    second.reading.commit();
    // Nothing changed, nothing pending: the listing is not looked at again.
    expect((await s.read()).status).toBe('unchanged');
  });

  it('does not record a file that is still growing until its size and mtime stayed the same for stableSeconds', async () => {
    const file = path.join(dir, 'cam1', 'rec 1.mp4');
    await fs.mkdir(path.dirname(file));
    await fs.writeFile(file, 'a');
    const s = createInputSource('glob', dir, { pattern: '**/*.mp4', stableSeconds: 5 }, now);
    const look = async () =>
      expectRead(await readAll(s)).items.map((i) => ({ path: i.relativePath, pending: i.pending ?? false }));

    expect(await look()).toEqual([{ path: 'cam1/rec 1.mp4', pending: true }]);
    clock += 10_000;
    await fs.appendFile(file, 'more'); // still growing: the stability clock starts again
    expect(await look()).toEqual([{ path: 'cam1/rec 1.mp4', pending: true }]);
    clock += 4_000;
    expect(await look()).toEqual([{ path: 'cam1/rec 1.mp4', pending: true }]);
    clock += 1_000;
    expect(await look()).toEqual([{ path: 'cam1/rec 1.mp4', pending: false }]);
  });

  it('lists one item per file for glob-files, and drops items that vanish', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'glob-files', x: 2, y: 1, z: 1 });
    await acq.writeAll();
    const s = createInputSource('glob', dir, { pattern: '**/*.mp4', stableSeconds: 0, positionPattern: POSITION }, now);
    await readAll(s);
    const r = expectRead(await readAll(s));
    expect(r.items.map((i) => [i.relativePath, i.x, i.y, i.z])).toEqual([
      ['z0000/y0000/x0000.mp4', 0, 0, 0],
      ['z0000/y0000/x0001.mp4', 1, 0, 0],
    ]);
    await fs.rm(path.join(dir, acq.relativePathOf(0)));
    expect(expectRead(await readAll(s)).items.map((i) => i.relativePath)).toEqual(['z0000/y0000/x0001.mp4']);
  });

  it('reports a missing root as missing and a root that is a file as a bad location', async () => {
    expect(await createInputSource('glob', path.join(dir, 'gone'), { pattern: '*' }).read()).toMatchObject({
      status: 'failed',
      state: 'missing',
    });
    await fs.writeFile(path.join(dir, 'f'), '');
    expect(await createInputSource('glob', path.join(dir, 'f'), { pattern: '*' }).read()).toMatchObject({
      status: 'failed',
      state: 'bad-location',
    });
  });
});
