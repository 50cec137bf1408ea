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

const write = (text: string, name = 'manifest.csv') => fs.writeFile(path.join(dir, name), text);

describe('csv source', () => {
  it('reads a synthetic manifest: one item per row, extra columns kept as user data', async () => {
    const acq = new SyntheticAcquisition({
      root: dir,
      format: 'csv',
      x: 3,
      y: 3,
      z: 2,
      prefix: NASTY_PREFIX,
      incompleteLag: 1,
    });
    await acq.writeAll();
    const r = expectRead(await readAll(createInputSource('csv', dir, { completeColumn: 'complete' })));
    expect(r.items).toHaveLength(18);
    r.items.forEach((item, i) => {
      const p = acq.positionOf(i);
      expect(item).toMatchObject({ relativePath: acq.relativePathOf(i), x: p.x, y: p.y, z: p.z, stepX: null });
      expect(item.isComplete).toBe(i < 17);
      expect(item.userData).toEqual({ note: `tile ${i}, "synthetic"` });
    });
  });

  it('without a complete column every row is complete; other column names and delimiter', async () => {
    await write('file;plane;session\nrec 1.mp4;3;A\n"rec;2.mp4";;B\n\n', 'rigs.csv');
    const r = expectRead(
      await readAll(
        createInputSource('csv', dir, { file: 'rigs.csv', delimiter: ';', pathColumn: 'file', zColumn: 'plane' }),
      ),
    );
    expect(r.items).toEqual([
      expect.objectContaining({
        relativePath: 'rec 1.mp4',
        z: 3,
        x: null,
        isComplete: true,
        userData: { session: 'A' },
      }),
      expect.objectContaining({ relativePath: 'rec;2.mp4', z: null, isComplete: true, userData: { session: 'B' } }),
    ]);
  });

  it('rejects rows whose path leaves the root and reads the others', async () => {
    await write('path,x\na,1\n../b,2\n/abs,3\nc,4\n');
    const r = expectRead(await readAll(createInputSource('csv', dir, {})));
    expect(r.items.map((i) => i.relativePath)).toEqual(['a', 'c']);
    expect(r.rejected).toEqual([
      { relativePath: '../b', reason: 'leaves the project root' },
      { relativePath: '/abs', reason: 'leaves the project root' },
    ]);
  });

  it.each([
    ['a half-written last line (unclosed quote)', 'path,note\na,"ok"\nb,"half', /CSV: Quote Not Closed/],
    ['a short row', 'path,x,y\na,1,2\nb,1\n', /CSV: Invalid Record Length.*line 3/],
    ['no path column', 'file,x\na,1\n', /no "path" column/],
    ['a bad number', 'path,x\na,1\nb,1.5\n', /column "x" must hold an integer.*line 3/],
    ['an empty file', '', /header row is expected/],
  ])('reports %s as malformed', async (_what, text, message) => {
    await write(text);
    const r = await createInputSource('csv', dir, {}).read();
    expect(r.status).toBe('failed');
    expect(r).toMatchObject({ state: 'malformed', message: expect.stringMatching(message) });
  });

  it('reads true/false values of the complete column, and refuses others', async () => {
    await write('path,done\na,yes\nb,0\nc,\n');
    const r = expectRead(await readAll(createInputSource('csv', dir, { completeColumn: 'done' })));
    expect(r.items.map((i) => i.isComplete)).toEqual([true, false, false]);
    await write('path,done\na,maybe\n');
    expect(await createInputSource('csv', dir, { completeColumn: 'done' }).read()).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/must be true or false/),
    });
  });

  it('reports a missing manifest as missing', async () => {
    expect(await createInputSource('csv', dir, {}).read()).toMatchObject({ status: 'failed', state: 'missing' });
  });
});
