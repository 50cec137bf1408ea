import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyntheticAcquisition } from './synth.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-synth-'));
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

describe('SyntheticAcquisition', () => {
  it('acquires plane by plane (z, then y, then x) and writes one data file per tile', async () => {
    const acq = new SyntheticAcquisition({
      root: dir,
      format: 'pipeline-json',
      x: 3,
      y: 2,
      z: 2,
      bytes: 5,
      prefix: 'p q ',
    });
    expect(acq.planned).toBe(12);
    expect([0, 1, 3, 6, 11].map((i) => acq.positionOf(i))).toEqual([
      { x: 0, y: 0, z: 0 },
      { x: 1, y: 0, z: 0 },
      { x: 0, y: 1, z: 0 },
      { x: 0, y: 0, z: 1 },
      { x: 2, y: 1, z: 1 },
    ]);
    expect(await acq.append(7)).toBe(7);
    expect(await acq.append(100)).toBe(5);
    for (let i = 0; i < 12; i++) expect((await fs.stat(path.join(dir, acq.dataFileOf(i)))).size).toBe(5);
    expect(acq.dataFileOf(4)).toBe('z0000/y0001/p q x0001/p q x0001-ngc.0.tif');
    const json = JSON.parse(await fs.readFile(acq.manifestPath!, 'utf8'));
    expect(json.tiles).toHaveLength(12);
    expect(json.extents).toEqual({ minimumX: 0, maximumX: 2, minimumY: 0, maximumY: 1, minimumZ: 0, maximumZ: 1 });
  });

  it('lists the newest tiles as incomplete until the acquisition finishes', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'dashboard-json', x: 2, y: 2, z: 1, incompleteLag: 2 });
    await acq.append(3);
    const read = async () =>
      (JSON.parse(await fs.readFile(acq.manifestPath!, 'utf8')).tileMap['0'] as Array<{ isComplete: boolean }>).map(
        (t) => t.isComplete,
      );
    expect(await read()).toEqual([true, false, false]);
    await acq.finish();
    expect(await read()).toEqual([true, true, true]);
  });

  it('writes a marker after the data of each tile folder, and one file per item for glob-files', async () => {
    const folders = new SyntheticAcquisition({ root: path.join(dir, 'f'), format: 'glob-folders', x: 2, y: 1, z: 1 });
    await folders.writeAll();
    expect(folders.manifestPath).toBeNull();
    expect((await fs.readdir(path.join(dir, 'f', folders.relativePathOf(1)))).sort()).toEqual([
      'tile.done',
      'x0001-ngc.0.tif',
    ]);
    const files = new SyntheticAcquisition({
      root: path.join(dir, 'v'),
      format: 'glob-files',
      x: 2,
      y: 1,
      z: 1,
      bytes: 3,
    });
    await files.writeAll();
    expect(await fs.readdir(path.join(dir, 'v', 'z0000', 'y0000'))).toEqual(['x0000.mp4', 'x0001.mp4']);
  });

  it('torn writes leave a half-written manifest in place; atomic writes replace the file', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'csv', x: 10, y: 10, z: 1, dataFiles: false });
    await acq.writeAll();
    const whole = await fs.readFile(acq.manifestPath!, 'utf8');
    const inode = (await fs.stat(acq.manifestPath!)).ino;
    await acq.writeManifest({ torn: true, stopAfterBytes: 100 });
    expect(await fs.readFile(acq.manifestPath!, 'utf8')).toBe(whole.slice(0, 100));
    expect((await fs.stat(acq.manifestPath!)).ino).toBe(inode);
    await acq.writeManifest({ torn: true, tornPauseMs: 1 });
    expect(await fs.readFile(acq.manifestPath!, 'utf8')).toBe(whole);
    await acq.writeManifest();
    expect((await fs.stat(acq.manifestPath!)).ino).not.toBe(inode);
    expect((await fs.readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
