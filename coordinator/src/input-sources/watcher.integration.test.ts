/**
 * The input watcher against a real PostgreSQL: first poll, unchanged poll, a growing acquisition (also with torn
 * writes), vanished items, propagate flags, input state on the project row, change notices.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { QueryTypes, type Sequelize } from 'sequelize';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers.js';
import { CHANGE_CHANNEL, type ChangeNotice } from '../db/notify.js';
import { createLogger } from '../logger.js';
import { SyntheticAcquisition } from '../tools/synth.js';
import { NASTY_PREFIX, tempDir } from './test-support.js';
import { createInputWatcher, type InputWatcher, type InputWatcherOptions } from './watcher.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

const logger = createLogger('test', process.env.TILEFLOW_TEST_LOG_LEVEL ?? 'warn');

let db: TestDatabase;
let sequelize: Sequelize;
let dir: string;
let cleanupDir: () => Promise<void>;
const watchers: InputWatcher[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sequelize = db.sequelize;
});
afterAll(async () => db?.drop());
beforeEach(async () => {
  ({ dir, cleanup: cleanupDir } = await tempDir('tileflow-watch-'));
});
afterEach(async () => {
  for (const w of watchers.splice(0)) await w.stop();
  await cleanupDir();
});

function watcher(over: Partial<InputWatcherOptions> = {}): InputWatcher {
  const w = createInputWatcher({ sequelize, logger, pollSeconds: 0.1, fsWatch: false, ...over });
  watchers.push(w);
  return w;
}

let projectCount = 0;
async function createProject(
  root: string,
  kind = 'pipeline-json',
  options: object = {},
  parameters: object = {},
): Promise<string> {
  const [row] = await sequelize.query<{ id: string }>(
    `INSERT INTO projects (name, root_path, input_kind, input_options, parameters) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    {
      bind: [`p${++projectCount}-${Math.random()}`, root, kind, JSON.stringify(options), JSON.stringify(parameters)],
      type: QueryTypes.SELECT,
    },
  );
  return row.id;
}

interface TileRow {
  relative_path: string;
  tile_name: string;
  x: number | null;
  y: number | null;
  z: number | null;
  is_complete: boolean;
  is_missing: boolean;
  propagate: boolean;
  user_data: Record<string, unknown>;
  updated_at: Date;
  xmin: string;
}

async function tiles(projectId: string): Promise<TileRow[]> {
  return sequelize.query<TileRow>(
    `SELECT relative_path, tile_name, x, y, z, is_complete, is_missing, propagate, user_data, updated_at, xmin::text
       FROM tiles WHERE project_id = $1 ORDER BY id`,
    { bind: [projectId], type: QueryTypes.SELECT },
  );
}

async function project(projectId: string) {
  const [row] = await sequelize.query<Record<string, unknown>>(`SELECT * FROM projects WHERE id = $1`, {
    bind: [projectId],
    type: QueryTypes.SELECT,
  });
  return row;
}

/** Listens to change notices of one project on their own connection. */
async function listen(projectId: string): Promise<{ notices: ChangeNotice[]; close: () => Promise<void> }> {
  const client = new pg.Client({ ...db.config, password: db.config.password ?? undefined });
  await client.connect();
  const notices: ChangeNotice[] = [];
  client.on('notification', (m) => {
    const n = JSON.parse(m.payload ?? '{}') as ChangeNotice;
    if ('projectId' in n && n.projectId === projectId) notices.push(n);
  });
  await client.query(`LISTEN ${CHANGE_CHANNEL}`);
  return { notices, close: () => client.end() };
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('input watcher', () => {
  it('records every tile on the first poll, with extents, skipped planes, parameters and state', async () => {
    const acq = new SyntheticAcquisition({
      root: dir,
      format: 'pipeline-json',
      x: 4,
      y: 3,
      z: 2,
      prefix: NASTY_PREFIX,
      skipZ: [1],
      incompleteLag: 2,
      customParameters: { channel: '1', mine: 'from-file' },
    });
    await acq.writeAll();
    const id = await createProject(dir, 'pipeline-json', {}, { mine: 'user' });
    const l = await listen(id);
    const report = await watcher().pollProject(id);
    expect(report).toMatchObject({ outcome: 'read', state: 'ok', items: 24, written: 24, missing: 0, rejected: 0 });
    const rows = await tiles(id);
    expect(rows).toHaveLength(24);
    rows.forEach((r, i) => {
      const p = acq.positionOf(i);
      expect(r).toMatchObject({
        relative_path: acq.relativePathOf(i),
        tile_name: `${NASTY_PREFIX}x000${p.x}`,
        x: p.x,
        y: p.y,
        z: p.z,
        is_complete: i < 22,
        is_missing: false,
        // Set exactly for the tiles that are complete.
        propagate: i < 22,
        user_data: { id: i },
      });
    });
    const p = await project(id);
    expect(p).toMatchObject({
      input_state: 'ok',
      input_message: null,
      extent_min_x: 0,
      extent_max_x: 3,
      extent_min_y: 0,
      extent_max_y: 2,
      extent_min_z: 0,
      extent_max_z: 1,
      skip_z: [1],
      // Keys from the file are added; the project's own values win.
      parameters: { channel: '1', mine: 'user' },
    });
    expect(p.input_checked_at).toBeInstanceOf(Date);
    await until(() => l.notices.some((n) => n.type === 'tiles'), 'a tiles notice');
    const notice = l.notices.find((n) => n.type === 'tiles');
    expect(notice).toEqual({ type: 'tiles', projectId: id, changed: 24, planes: [0, 1] });
    await l.close();
  });

  it('writes nothing on an unchanged poll, and nothing either after a restart (index rebuilt from the table)', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'pipeline-json', x: 5, y: 5, z: 2 });
    await acq.writeAll();
    const id = await createProject(dir);
    const w = watcher();
    await w.pollProject(id);
    const before = await tiles(id);
    const projectBefore = await project(id);
    const l = await listen(id);

    expect(await w.pollProject(id)).toMatchObject({ outcome: 'unchanged', state: 'ok', written: 0, missing: 0 });
    // Same file rewritten (new inode): parsed, compared, still nothing written.
    await acq.writeManifest();
    expect(await w.pollProject(id)).toMatchObject({ outcome: 'read', items: 50, written: 0, missing: 0 });
    // Not even the project row was written (input_checked_at is refreshed every 30 s only).
    expect((await project(id)).input_checked_at).toEqual(projectBefore.input_checked_at);
    // A new watcher (coordinator restart): builds its index from the table, writes no tile.
    expect(await watcher().pollProject(id)).toMatchObject({ outcome: 'read', items: 50, written: 0, missing: 0 });

    const after = await tiles(id);
    expect(after.map((r) => [r.xmin, r.updated_at.getTime()])).toEqual(
      before.map((r) => [r.xmin, r.updated_at.getTime()]),
    );
    // A notice round trip through the same channel proves none of ours was in flight.
    await sequelize.query(`SELECT pg_notify('${CHANGE_CHANNEL}', $1)`, {
      bind: [JSON.stringify({ type: 'topology', projectId: id })],
    });
    await until(() => l.notices.length > 0, 'the marker notice');
    // The restarted watcher announces its first view of the project once (topology), never tiles.
    expect(l.notices.filter((n) => n.type === 'tiles')).toEqual([]);
    await l.close();
  });

  it('records tiles appended by a running acquisition, and sets propagate for tiles that become complete', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'pipeline-json', x: 3, y: 2, z: 3, incompleteLag: 1 });
    const id = await createProject(dir);
    const w = watcher();
    await acq.append(4);
    expect(await w.pollProject(id)).toMatchObject({ written: 4, items: 4 });
    // The scheduler read the flags.
    await sequelize.query(`UPDATE tiles SET propagate = false WHERE project_id = $1`, { bind: [id] });

    await acq.append(5);
    // Five new tiles; tile 3 turned complete; tiles 0-2 unchanged.
    expect(await w.pollProject(id)).toMatchObject({ written: 6, items: 9 });
    const rows = await tiles(id);
    expect(rows.map((r) => r.is_complete)).toEqual([true, true, true, true, true, true, true, true, false]);
    expect(rows.map((r) => r.propagate)).toEqual([false, false, false, true, true, true, true, true, false]);

    await acq.finish();
    expect(await w.pollProject(id)).toMatchObject({ written: 1 });
    expect((await tiles(id)).filter((r) => r.propagate).map((r) => r.relative_path)).toEqual(
      [3, 4, 5, 6, 7, 8].map((i) => acq.relativePathOf(i)),
    );
    // A complete tile that changes otherwise (its position) is rewritten but not propagated again.
    await sequelize.query(`UPDATE tiles SET propagate = false WHERE project_id = $1`, { bind: [id] });
    const text = await fs.readFile(acq.manifestPath!, 'utf8');
    await fs.writeFile(
      acq.manifestPath!,
      text.replace('"position":{"x":0,"y":0,"z":0}', '"position":{"x":0,"y":0,"z":7}'),
    );
    expect(await w.pollProject(id)).toMatchObject({ written: 1, planes: [7] });
    expect((await tiles(id)).filter((r) => r.propagate)).toEqual([]);
    expect((await tiles(id))[0].z).toBe(7);
  });

  it('follows the synthetic acquisition CLI appending with torn writes: never removes a tile, ends with all', async () => {
    const id = await createProject(dir);
    const reports: string[] = [];
    const w = watcher({ onChange: (r) => reports.push(`${r.items}`) });
    w.start();
    const cli = path.join(repoRoot, 'coordinator', 'src', 'tools', 'synth-cli.ts');
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const args = [
      cli,
      '--root',
      dir,
      '--x',
      '3',
      '--y',
      '3',
      '--z',
      '4',
      '--append-rate',
      '30',
      '--incomplete-lag',
      '1',
    ];
    const child = spawn(tsx, [...args, '--torn-writes', '--torn-pause-ms', '30', '--quiet'], { stdio: 'inherit' });
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const seenMissing: string[] = [];
    let done = false;
    const watchMissing = (async () => {
      while (!done) {
        const [r] = await sequelize.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM tiles WHERE project_id = $1 AND is_missing`,
          { bind: [id], type: QueryTypes.SELECT },
        );
        if (r.n > 0) seenMissing.push(`${r.n}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    expect(await exit).toBe(0);
    await until(async () => (await tiles(id)).filter((t) => t.is_complete).length === 36, 'all 36 tiles complete');
    done = true;
    await watchMissing;
    expect(seenMissing).toEqual([]);
    // Some poll wrote tiles (how many polls saw the acquisition grow depends on timing: not asserted).
    expect(reports.length).toBeGreaterThan(0);
    const rows = await tiles(id);
    expect(rows).toHaveLength(36);
    expect(rows.every((r) => r.propagate && !r.is_missing)).toBe(true);
  });

  it('marks vanished items missing (never deletes them) and unmarks them when they come back', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'csv', x: 3, y: 1, z: 2 });
    await acq.writeAll();
    const id = await createProject(dir, 'csv', { completeColumn: 'complete' });
    const w = watcher();
    await w.pollProject(id);
    const full = await fs.readFile(acq.manifestPath!, 'utf8');
    const lines = full.trimEnd().split('\n');
    await fs.writeFile(acq.manifestPath!, [lines[0], lines[1], lines[4], lines[5], lines[6]].join('\n') + '\n');
    expect(await w.pollProject(id)).toMatchObject({ written: 0, missing: 2, planes: [0] });
    let rows = await tiles(id);
    expect(rows).toHaveLength(6);
    expect(rows.map((r) => r.is_missing)).toEqual([false, true, true, false, false, false]);
    expect(await w.pollProject(id)).toMatchObject({ written: 0, missing: 0 });

    await fs.writeFile(acq.manifestPath!, full);
    expect(await w.pollProject(id)).toMatchObject({ written: 2, missing: 0 });
    rows = await tiles(id);
    expect(rows.map((r) => r.is_missing)).toEqual([false, false, false, false, false, false]);
    // Coming back complete, as they were, is no new completion.
    expect(rows.map((r) => r.propagate)).toEqual([true, true, true, true, true, true]);
    expect(rows[0].user_data).toEqual({ note: 'tile 0, "synthetic"' });
  });

  it('keeps every tile when the input turns malformed or disappears, and shows why on the project', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'pipeline-json', x: 4, y: 4, z: 2 });
    await acq.writeAll();
    const id = await createProject(dir);
    const w = watcher();
    await w.pollProject(id);
    const before = await tiles(id);

    await acq.writeManifest({ torn: true, stopAfterBytes: 1000 });
    expect(await w.pollProject(id)).toMatchObject({ outcome: 'failed', state: 'malformed', written: 0, missing: 0 });
    expect(await project(id)).toMatchObject({
      input_state: 'malformed',
      input_message: expect.stringMatching(/ends too early.*line \d+, column \d+/),
      extent_max_x: 3,
    });
    await fs.rm(acq.manifestPath!);
    expect(await w.pollProject(id)).toMatchObject({ state: 'missing' });
    expect(await project(id)).toMatchObject({
      input_state: 'missing',
      input_message: expect.stringMatching(/not found/),
    });
    await fs.rm(dir, { recursive: true });
    expect(await w.pollProject(id)).toMatchObject({ state: 'missing' });
    expect(await project(id)).toMatchObject({ input_message: expect.stringMatching(/does not exist/) });
    expect(await tiles(id)).toEqual(before);

    await acq.writeAll();
    await acq.writeManifest();
    expect(await w.pollProject(id)).toMatchObject({ state: 'ok', written: 0 });
    expect(await project(id)).toMatchObject({ input_state: 'ok', input_message: null });
  });

  it('rejects items whose path leaves the root or repeats, reports them, and records the others', async () => {
    const tilesJson = [
      { relativePath: 'a', isComplete: true, position: { x: 0, y: 0, z: 0 } },
      { relativePath: '../../etc', isComplete: true },
      { relativePath: 'b', isComplete: true, position: { x: 5, y: 1, z: 2 } },
      { relativePath: 'a', isComplete: false },
    ];
    await fs.writeFile(path.join(dir, 'pipeline-input.json'), JSON.stringify({ tiles: tilesJson }));
    const id = await createProject(dir);
    expect(await watcher().pollProject(id)).toMatchObject({ state: 'bad-location', written: 2, rejected: 2 });
    expect((await tiles(id)).map((r) => [r.relative_path, r.is_complete])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    const p = await project(id);
    expect(p.input_state).toBe('bad-location');
    expect(p.input_message).toMatch(
      /2 item\(s\) rejected: "\.\.\/\.\.\/etc" leaves the project root; "a" is listed more than once/,
    );
    // No extents in the file: the items' bounds.
    expect(p).toMatchObject({ extent_min_x: 0, extent_max_x: 5, extent_min_z: 0, extent_max_z: 2 });
  });

  it('glob: records stable items only, and keeps recorded items while they are looked at again after a restart', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const acq = new SyntheticAcquisition({ root: dir, format: 'glob-folders', x: 2, y: 2, z: 1, prefix: NASTY_PREFIX });
    await acq.writeAll();
    const options = {
      pattern: 'z*/y*/*',
      marker: 'tile.done',
      positionPattern: String.raw`z(?<z>\d+)/y(?<y>\d+)/.*x(?<x>\d+)$`,
    };
    const id = await createProject(dir, 'glob', options);
    const w = watcher({ now });
    expect(await w.pollProject(id)).toMatchObject({ state: 'ok', items: 4, written: 0 });
    clock += 2500;
    expect(await w.pollProject(id)).toMatchObject({ written: 4 });
    expect((await tiles(id)).map((r) => [r.x, r.y, r.z, r.is_complete])).toEqual([
      [0, 0, 0, true],
      [1, 0, 0, true],
      [0, 1, 0, true],
      [1, 1, 0, true],
    ]);
    expect(await w.pollProject(id)).toMatchObject({ outcome: 'unchanged' });
    // Restart: everything pending again for a moment, but nothing is taken for gone.
    const w2 = watcher({ now });
    expect(await w2.pollProject(id)).toMatchObject({ written: 0, missing: 0 });
    // A new tile folder without its marker yet is not recorded.
    await fs.mkdir(path.join(dir, 'z0000/y0009/x0000'), { recursive: true });
    clock += 2500;
    expect(await w2.pollProject(id)).toMatchObject({ written: 0, missing: 0, items: 4 });
    expect(await tiles(id)).toHaveLength(4);
  });

  it('polls every non-archived project on its own when started', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    await new SyntheticAcquisition({ root: a, format: 'pipeline-json', x: 2, y: 1, z: 1 }).writeAll();
    await new SyntheticAcquisition({ root: b, format: 'dashboard-json', x: 3, y: 1, z: 1 }).writeAll();
    const ida = await createProject(a);
    const idb = await createProject(b, 'dashboard-json');
    const archived = await createProject(a);
    await sequelize.query(`UPDATE projects SET archived_at = now() WHERE id = $1`, { bind: [archived] });
    const w = watcher({ fsWatch: true });
    w.start();
    await until(
      async () => (await tiles(ida)).length === 2 && (await tiles(idb)).length === 3,
      'both projects recorded',
    );
    expect(await tiles(archived)).toEqual([]);
    expect((await project(idb)).input_state).toBe('ok');
  });

  it('wakes on fs.watch events of the input folder sooner than the next poll', async () => {
    const acq = new SyntheticAcquisition({ root: dir, format: 'pipeline-json', x: 2, y: 2, z: 2 });
    await acq.append(4);
    const id = await createProject(dir);
    // The next poll is an hour away: only the fs.watch wake-up can record the new tiles.
    const w = watcher({ pollSeconds: 3600, fsWatch: true });
    w.start();
    await until(async () => (await tiles(id)).length === 4, 'the first poll');
    await acq.append(4);
    await until(async () => (await tiles(id)).length === 8, 'a poll woken by fs.watch');
  });
});
