import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyntheticAcquisition } from '../tools/synth.js';
import { createInputSource } from './sources.js';
import { expectRead, NASTY_PREFIX, readAll, tempDir } from './test-support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

describe('dashboard-json source', () => {
  it('reads every tile of a synthetic dashboard.json, positions from contents.latticePosition', async () => {
    const acq = new SyntheticAcquisition({
      root: dir,
      format: 'dashboard-json',
      x: 4,
      y: 3,
      z: 3,
      prefix: NASTY_PREFIX,
      skipZ: [1],
    });
    await acq.writeAll();
    const r = expectRead(await readAll(createInputSource('dashboard-json', dir, {})));
    expect(r.items).toHaveLength(36);
    r.items.forEach((item, i) => {
      const p = acq.positionOf(i);
      expect(item).toMatchObject({
        relativePath: acq.relativePathOf(i),
        x: p.x,
        y: p.y,
        z: p.z,
        stepX: 1,
        isComplete: true,
      });
    });
    expect(r.header).toEqual({ extents: { minX: 0, maxX: 3, minY: 0, maxY: 2, minZ: 0, maxZ: 2 }, skipZ: [1] });
  });

  it('reports a half-written dashboard.json as malformed', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'dashboard-json', x: 4, y: 4, z: 2 });
    await acq.writeAll();
    await acq.writeManifest({ torn: true, stopAfterBytes: 700 });
    const r = await createInputSource('dashboard-json', dir, {}).read();
    if (r.status !== 'read') throw new Error(r.status);
    expect(() => [...r.items()]).toThrow(/ends too early/);
  });

  it('keeps tiles without contents, with null positions', async () => {
    await fs.writeFile(
      path.join(dir, 'dashboard.json'),
      JSON.stringify({ monitor: {}, tileMap: { a: [{ relativePath: 'p/q', isComplete: true }] } }),
    );
    const r = expectRead(await readAll(createInputSource('dashboard-json', dir, {})));
    expect(r.items).toMatchObject([{ relativePath: 'p/q', tileName: 'q', x: null, y: null, z: null }]);
    expect(r.header.extents).toEqual({ minX: null, maxX: null, minY: null, maxY: null, minZ: null, maxZ: null });
  });
});
