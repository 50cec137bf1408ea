import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyntheticAcquisition } from '../tools/synth.js';
import { createInputSource } from './sources.js';
import { expectRead, NASTY_PREFIX, readAll, tempDir } from './test-support.js';
import { InputMalformedError } from './types.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

const source = (root = dir, options: object = {}) => createInputSource('pipeline-json', root, options);

describe('pipeline-json source', () => {
  it('reads every tile of a synthetic pipeline-input.json, with names holding spaces, quotes and $()', async () => {
    const acq = new SyntheticAcquisition({
      root: dir,
      format: 'pipeline-json',
      x: 3,
      y: 2,
      z: 4,
      prefix: NASTY_PREFIX,
      skipZ: [2, 1],
      customParameters: { channel: '0', 'odd key': 'a "b"' },
      incompleteLag: 2,
    });
    await acq.writeAll();
    const r = expectRead(await readAll(source()));
    expect(r.items).toHaveLength(24);
    expect(r.rejected).toEqual([]);
    r.items.forEach((item, i) => {
      const p = acq.positionOf(i);
      expect(item.relativePath).toBe(acq.relativePathOf(i));
      expect(item.tileName).toBe(`${NASTY_PREFIX}x000${p.x}`);
      expect([item.x, item.y, item.z]).toEqual([p.x, p.y, p.z]);
      expect([item.stepX, item.stepY, item.stepZ]).toEqual([1, 1, 1]);
      expect(item.isComplete).toBe(i < 22);
      expect(item.userData).toEqual({ id: i });
    });
    // The tile folders really exist under those names.
    await fs.access(path.join(dir, r.items[5].relativePath));
    expect(r.header).toEqual({
      extents: { minX: 0, maxX: 2, minY: 0, maxY: 1, minZ: 0, maxZ: 3 },
      skipZ: [1, 2],
      parameters: { channel: '0', 'odd key': 'a "b"' },
    });
  });

  it('does not parse an unchanged file again once its reading was committed', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'pipeline-json', x: 2, y: 2, z: 1 });
    await acq.writeAll();
    const s = source();
    const first = expectRead(await readAll(s));
    // Not committed (say the database write failed): read again.
    expect((await s.read()).status).toBe('read');
    first.reading.commit();
    expect((await s.read()).status).toBe('unchanged');
    // An atomic rewrite (new inode) is read again even with the same content.
    await acq.writeManifest();
    expect((await s.read()).status).toBe('read');
  });

  it('reports a file truncated mid-write as malformed, with its position, and keeps failing without re-reading', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'pipeline-json', x: 10, y: 10, z: 2 });
    await acq.writeAll();
    const whole = (await fs.readFile(acq.manifestPath!)).length;
    await acq.writeManifest({ torn: true, stopAfterBytes: Math.floor(whole / 2) });
    const s = source();
    const r = await s.read();
    expect(r.status).toBe('read');
    if (r.status !== 'read') return;
    let error: unknown;
    const seen: string[] = [];
    try {
      for (const item of r.items()) if (!('unchanged' in item)) seen.push(item.relativePath);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputMalformedError);
    const m = error as InputMalformedError;
    expect(m.describe()).toMatch(/ends too early/);
    expect(m.position.line).toBeGreaterThan(1);
    expect(m.position.offset).toBeGreaterThan(0);
    // Whatever was walked before the cut, the reading failed: the watcher writes none of it.
    expect(seen.length).toBeLessThan(200);
    // Same half-written file: answered from memory as malformed.
    const again = await s.read();
    expect(again).toMatchObject({ status: 'failed', state: 'malformed' });
    // Once the writer finished, it reads fine.
    await acq.writeManifest();
    expect(expectRead(await readAll(s)).items).toHaveLength(200);
  });

  it('rejects a tile whose path leaves the root, reports it, and still reads the others', async () => {
    const tiles = [
      { relativePath: 'z0/a', position: { x: 0, y: 0, z: 0 }, isComplete: true },
      { relativePath: '../outside/b', position: { x: 1, y: 0, z: 0 }, isComplete: true },
      { relativePath: '/etc/passwd', isComplete: true },
      { relativePath: 'z0/../../c', isComplete: true },
      { relativePath: 'z0\\windows\\d', isComplete: false },
    ];
    await fs.writeFile(path.join(dir, 'pipeline-input.json'), JSON.stringify({ pipelineFormat: '1', tiles }));
    const r = expectRead(await readAll(source()));
    expect(r.items.map((i) => i.relativePath)).toEqual(['z0/a', 'z0/windows/d']);
    expect(r.items[1].tileName).toBe('d');
    expect(r.rejected.map((x) => x.relativePath)).toEqual(['../outside/b', '/etc/passwd', 'z0/../../c']);
    expect(r.rejected[0].reason).toMatch(/leaves the project root/);
    // No extents declared: the bounds of the items' positions.
    expect(r.header.extents).toEqual({ minX: 0, maxX: 0, minY: 0, maxY: 0, minZ: 0, maxZ: 0 });
  });

  it('reports a missing root, a root that is a file, and a missing input file', async () => {
    expect(await readAll(source(path.join(dir, 'nope')))).toMatchObject({ status: 'failed', state: 'missing' });
    await fs.writeFile(path.join(dir, 'file'), 'x');
    expect(await readAll(source(path.join(dir, 'file')))).toMatchObject({ status: 'failed', state: 'bad-location' });
    const r = await readAll(source());
    expect(r).toMatchObject({ status: 'failed', state: 'missing' });
    expect(r.status === 'failed' && r.message).toMatch(/pipeline-input\.json/);
  });

  it('reads the file named in the options', async () => {
    await fs.mkdir(path.join(dir, 'meta'));
    await fs.writeFile(
      path.join(dir, 'meta', 'in.json'),
      JSON.stringify({ tiles: [{ relativePath: 't1', isComplete: 1 }] }),
    );
    const r = expectRead(await readAll(source(dir, { file: 'meta/in.json' })));
    expect(r.items).toMatchObject([{ relativePath: 't1', isComplete: true, x: null, stepZ: null, userData: {} }]);
  });

  it('treats a tile with a non-integer position or no relativePath as malformed, naming the tile', async () => {
    await fs.writeFile(
      path.join(dir, 'pipeline-input.json'),
      JSON.stringify({
        tiles: [
          { relativePath: 'a', position: { x: 0 } },
          { relativePath: 'b', position: { x: 1.5 } },
        ],
      }),
    );
    const r = await source().read();
    if (r.status !== 'read') throw new Error(r.status);
    expect(() => [...r.items()]).toThrow(/position\.x must be an integer.*item #1/);

    await fs.writeFile(path.join(dir, 'pipeline-input.json'), JSON.stringify({ tiles: [{ path: 'a' }] }));
    const r2 = await source().read();
    if (r2.status !== 'read') throw new Error(r2.status);
    expect(() => [...r2.items()]).toThrow(/no "relativePath"/);
  });

  it('produces the same items again through pick()', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'pipeline-json', x: 5, y: 5, z: 2 });
    await acq.writeAll();
    const r = expectRead(await readAll(source()));
    const picked = [...r.reading.pick([0, 7, 49])];
    expect(picked).toEqual([r.items[0], r.items[7], r.items[49]]);
  });

  it('reads a dashboard-style tileMap found in pipeline-input.json, as the original did', async () => {
    const acq = new SyntheticAcquisition({
      root: dir,
      format: 'dashboard-json',
      x: 2,
      y: 1,
      z: 2,
      manifest: 'pipeline-input.json',
    });
    await acq.writeAll();
    const r = expectRead(await readAll(source()));
    expect(r.items.map((i) => [i.x, i.y, i.z])).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [0, 0, 1],
      [1, 0, 1],
    ]);
  });

  it('names the broken tile inside a large file, and pick() skips rejected tiles between picked ones', async () => {
    const good = (i: number) => ({ relativePath: `t${i}`, isComplete: true, position: { x: i, y: 0, z: 0 } });
    const tiles = Array.from({ length: 1200 }, (_, i) => good(i));
    const text = JSON.stringify({ tiles }).replace(
      '"position":{"x":700,"y":0,"z":0}',
      '"position":{"x":700,"y":0,"z":0,}',
    );
    await fs.writeFile(path.join(dir, 'pipeline-input.json'), text);
    const r = await source().read();
    if (r.status !== 'read') throw new Error(r.status);
    expect(() => [...r.items()]).toThrow(/item is not valid JSON.*item #700/);

    const mixed = [good(0), { relativePath: '../x' }, good(1), good(2)];
    await fs.writeFile(path.join(dir, 'pipeline-input.json'), JSON.stringify({ tiles: mixed }));
    const ok = expectRead(await readAll(source()));
    expect([...ok.reading.pick([0, 1, 2])].map((i) => i.relativePath)).toEqual(['t0', 't1', 't2']);
  });

  it('after a committed reading, yields tiles with the same bytes as unchanged, without parsing them', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'pipeline-json', x: 10, y: 10, z: 3, incompleteLag: 1 });
    await acq.append(150);
    const s = source();
    const first = expectRead(await readAll(s));
    expect(first.unchanged).toEqual([]);
    first.reading.commit();
    // The microscope adds 20 tiles: tile 149 turns complete, 150-169 are new.
    await acq.append(20);
    const second = expectRead(await readAll(s));
    expect(second.unchanged).toHaveLength(149);
    expect(second.unchanged[10]).toEqual({ unchanged: true, previous: 10, ordinal: 10 });
    expect(second.items.map((i) => i.userData.id)).toEqual([...Array(21).keys()].map((i) => 149 + i));
    // pick() still produces the full item of an unchanged entry.
    expect([...second.reading.pick([10])][0]).toMatchObject({ relativePath: acq.relativePathOf(10), x: 0, y: 1 });
    expect(second.header.extents).toEqual({ minX: 0, maxX: 9, minY: 0, maxY: 9, minZ: 0, maxZ: 2 });
    // Not committed: the next reading compares with the first one again.
    await acq.writeManifest();
    expect(expectRead(await readAll(s)).unchanged).toHaveLength(149);
  });

  it('computes extents over unchanged and parsed tiles when the file declares none', async () => {
    const tiles = [0, 1, 2].map((i) => ({ relativePath: `t${i}`, position: { x: i * 10, y: -i, z: null } }));
    const write = () => fs.writeFile(path.join(dir, 'pipeline-input.json'), JSON.stringify({ tiles }));
    await write();
    const s = source();
    expectRead(await readAll(s)).reading.commit();
    tiles.push({ relativePath: 't3', position: { x: 5, y: 7, z: null } });
    await write();
    const r = expectRead(await readAll(s));
    expect(r.unchanged).toHaveLength(3);
    expect(r.header.extents).toEqual({ minX: 0, maxX: 20, minY: -2, maxY: 7, minZ: null, maxZ: null });
  });
});
