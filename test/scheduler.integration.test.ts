/**
 * The scheduler and the worker daemon against real PostgreSQL, Redis and real scripts: readiness (map and
 * z-adjacent with skipped planes), dispatch order, a growing acquisition, pause of one stage, a stage added mid-run,
 * capacity changes, retries, cancel and resubmit.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addPlanes,
  countsOf,
  createDefinition,
  createKit,
  createProject,
  createStage,
  eventually,
  script,
  startWorker,
  type Kit,
  type WorkerHandle,
} from './pipeline-kit.js';

let kit: Kit;
const workers: WorkerHandle[] = [];

beforeEach(async () => {
  kit = await createKit();
  await kit.scheduler.start();
});

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await kit.close();
});

async function worker(o: Parameters<typeof startWorker>[1] = {}) {
  const w = await startWorker(kit, o);
  workers.push(w);
  return w;
}

/** A script that appends its argv (one per line) and the adjacent tile to a record file under dst. */
const recorder = (kit: Kit, name: string) =>
  script(
    kit,
    name,
    `mkdir -p "$2/$3"; { printf '%s\\n' "$@"; echo "adj=\${ADJACENT_TILE_RELATIVE_PATH:-}"; } > "$2/$3/${name}.txt"`,
  );

describe('three-stage pipeline on a growing acquisition', () => {
  it('reaches all-complete with one z-adjacent stage, each tile recorded complete once', async () => {
    const lattice = { nx: 3, ny: 2, nz: 4, planes: 2, skipZ: [2] };
    const projectId = await createProject(kit, lattice);
    const a = await createStage(kit, projectId, 'a', await createDefinition(kit, await recorder(kit, 'a')));
    const b = await createStage(kit, projectId, 'b', await createDefinition(kit, await recorder(kit, 'b')), { parentId: a });
    const c = await createStage(kit, projectId, 'c', await createDefinition(kit, await recorder(kit, 'c')), {
      parentId: b,
      kind: 'adjacent-z',
    });
    await worker({ localCapacity: 2 });
    // Planes 0 and 1 written: z=0's neighbour is z=1, z=1's neighbour is z=3 (z=2 skipped) which does not exist yet.
    await eventually(async () => (await countsOf(kit, b)).complete === 12, 30_000, 'b completes planes 0-1');
    await eventually(async () => (await countsOf(kit, c)).complete === 6, 30_000, 'c completes plane 0');
    expect((await countsOf(kit, c)).waiting).toBe(6);
    // The microscope writes planes 2 and 3; plane 2 is skipped: never scheduled anywhere.
    await addPlanes(kit, projectId, 2, 4, lattice);
    await eventually(async () => (await countsOf(kit, c)).complete === 18, 30_000, 'c completes');
    expect(await countsOf(kit, a)).toEqual({ complete: 18 });
    expect(await countsOf(kit, b)).toEqual({ complete: 18 });
    expect(await countsOf(kit, c)).toEqual({ complete: 18 });
    // Exactly one succeeded execution per tile and stage.
    const [dups] = await kit.sequelize.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT stage_id, tile_id FROM task_executions WHERE status = 'succeeded'
         GROUP BY stage_id, tile_id HAVING count(*) <> 1) d`,
      { type: QueryTypes.SELECT },
    );
    expect(dups.n).toBe(0);
    const [succeeded] = await kit.sequelize.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM task_executions WHERE status = 'succeeded'`,
      { type: QueryTypes.SELECT },
    );
    expect(succeeded.n).toBe(54);
    // The adjacent stage got its neighbour: z=1 pairs with z=3 (z=2 skipped); z=3 is the last plane (none).
    const out = path.join(kit.dir, 'out', 'c');
    expect(await fs.readFile(path.join(out, 'z1/y0/x0/c.txt'), 'utf8')).toContain('adj=z3/y0/x0');
    expect(await fs.readFile(path.join(out, 'z3/y1/x2/c.txt'), 'utf8')).toContain('adj=\n');
    // MouseLight's argv: src dst relative_path tile_name.
    const argv = (await fs.readFile(path.join(kit.dir, 'out', 'b', 'z0/y1/x2/b.txt'), 'utf8')).split('\n');
    expect(argv.slice(0, 4)).toEqual([path.join(kit.dir, 'out', 'a'), path.join(kit.dir, 'out', 'b'), 'z0/y1/x2', 'tile 2-1-0']);
    // Every execution carries its measured figures.
    const [figures] = await kit.sequelize.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM task_executions
       WHERE cpu_seconds IS NULL OR peak_memory_mb IS NULL OR started_at IS NULL OR exit_code <> 0`,
      { type: QueryTypes.SELECT },
    );
    expect(figures.n).toBe(0);
  });
});
