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
    const b = await createStage(kit, projectId, 'b', await createDefinition(kit, await recorder(kit, 'b')), {
      parentId: a,
    });
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
    expect(argv.slice(0, 4)).toEqual([
      path.join(kit.dir, 'out', 'a'),
      path.join(kit.dir, 'out', 'b'),
      'z0/y1/x2',
      'tile 2-1-0',
    ]);
    // Every execution carries its measured figures.
    const [figures] = await kit.sequelize.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM task_executions
       WHERE cpu_seconds IS NULL OR peak_memory_mb IS NULL OR started_at IS NULL OR exit_code <> 0`,
      { type: QueryTypes.SELECT },
    );
    expect(figures.n).toBe(0);
  });
});

describe('live control', () => {
  it('pausing one stage holds exactly that stage; resuming lets it finish', async () => {
    const lattice = { nx: 4, ny: 4, nz: 2 };
    const projectId = await createProject(kit, lattice);
    const a = await createStage(kit, projectId, 'a', await createDefinition(kit, await recorder(kit, 'a')));
    const b = await createStage(kit, projectId, 'b', await createDefinition(kit, await recorder(kit, 'b')), {
      parentId: a,
    });
    const side = await createStage(kit, projectId, 'side', await createDefinition(kit, await recorder(kit, 'side')));
    await kit.actions.setStageProcessing(b, false);
    await worker({ localCapacity: 2 });
    await eventually(async () => (await countsOf(kit, a)).complete === 32, 30_000, 'a completes');
    await eventually(async () => (await countsOf(kit, side)).complete === 32, 30_000, 'side completes');
    // b is paused: its tiles are ready but nothing of it is queued to a worker or run.
    await new Promise((r) => setTimeout(r, 800));
    const held = await countsOf(kit, b);
    expect(held.complete ?? 0).toBe(0);
    expect(held.processing ?? 0).toBe(0);
    const [ran] = await kit.sequelize.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM task_executions WHERE stage_id = $1 AND status <> 'queued'`,
      { bind: [b], type: QueryTypes.SELECT },
    );
    expect(ran.n).toBe(0);
    await kit.actions.setStageProcessing(b, true);
    await eventually(async () => (await countsOf(kit, b)).complete === 32, 30_000, 'b completes after resume');
  });

  it('a stage added mid-run backfills every tile its parent already completed', async () => {
    const projectId = await createProject(kit, { nx: 5, ny: 4, nz: 2 });
    const a = await createStage(kit, projectId, 'a', await createDefinition(kit, await recorder(kit, 'a')));
    await worker({ localCapacity: 2 });
    await eventually(async () => (await countsOf(kit, a)).complete === 40, 30_000, 'a completes');
    const late = await createStage(kit, projectId, 'late', await createDefinition(kit, await recorder(kit, 'late')), {
      parentId: a,
    });
    await eventually(async () => (await countsOf(kit, late)).complete === 40, 30_000, 'late stage backfills');
  });

  it('a capacity change takes effect on the running worker', async () => {
    const counter = path.join(kit.dir, 'concurrency');
    await fs.mkdir(counter, { recursive: true });
    // Each run holds a slot for 300 ms and records how many runs were inside at once (flock-serialized counter).
    const slot = await script(
      kit,
      'slot.sh',
      `c=${counter}
       exec 9>"$c/lock"
       flock 9; n=$(( $(cat "$c/now" 2>/dev/null || echo 0) + 1 )); echo $n > "$c/now"; echo $n >> "$c/seen"; flock -u 9
       sleep 0.3
       flock 9; echo $(( $(cat "$c/now") - 1 )) > "$c/now"; flock -u 9`,
    );
    const projectId = await createProject(kit, { nx: 6, ny: 6, nz: 1 });
    const s = await createStage(kit, projectId, 's', await createDefinition(kit, slot));
    await worker({ localCapacity: 1, name: 'resizable' });
    await eventually(async () => ((await countsOf(kit, s)).complete ?? 0) >= 4, 30_000, 'first runs at capacity 1');
    const before = (await fs.readFile(path.join(counter, 'seen'), 'utf8')).split('\n').filter(Boolean).map(Number);
    expect(Math.max(...before)).toBe(1);
    await kit.sequelize.query(`UPDATE workers SET local_capacity = 3 WHERE name = 'resizable'`);
    await eventually(async () => (await countsOf(kit, s)).complete === 36, 60_000, 'all complete');
    const after = (await fs.readFile(path.join(counter, 'seen'), 'utf8')).split('\n').filter(Boolean).map(Number);
    expect(Math.max(...after)).toBe(3);
  });
});

describe('failures, cancel and resubmit', () => {
  it('retries a failing script with backoff up to the limit, then marks the tile failed', async () => {
    const flaky = await script(kit, 'flaky.sh', 'echo "attempt on $3" >&2; exit 7');
    const projectId = await createProject(kit, { nx: 2, ny: 1, nz: 1 });
    const s = await createStage(
      kit,
      projectId,
      's',
      await createDefinition(kit, flaky, { max_retries: 2, retry_backoff_seconds: 0.1 }),
    );
    await worker();
    await eventually(async () => (await countsOf(kit, s)).failed === 2, 30_000, 'tiles failed');
    const rows = await kit.sequelize.query<{
      attempt: number;
      status: string;
      exit_code: number;
      failure_reason: string;
      message: string;
    }>(
      `SELECT attempt, status, exit_code, failure_reason, message FROM task_executions WHERE stage_id = $1 ORDER BY tile_id, attempt`,
      { bind: [s], type: QueryTypes.SELECT },
    );
    expect(rows.map((r) => r.attempt)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(new Set(rows.map((r) => `${r.status}/${r.exit_code}/${r.failure_reason}`))).toEqual(
      new Set(['failed/7/exit-code']),
    );
    expect(rows[0].message).toBe('Exit code 7, expected 0');
  });

  it('a missing or non-executable script fails with a message that says so', async () => {
    const projectId = await createProject(kit, { nx: 1, ny: 1, nz: 1 });
    const missing = await createStage(
      kit,
      projectId,
      'missing',
      await createDefinition(kit, path.join(kit.dir, 'nope.sh')),
    );
    const plain = path.join(kit.dir, 'plain.sh');
    await fs.writeFile(plain, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const noexec = await createStage(kit, projectId, 'noexec', await createDefinition(kit, plain));
    await worker();
    await eventually(
      async () => (await countsOf(kit, missing)).failed === 1 && (await countsOf(kit, noexec)).failed === 1,
      30_000,
      'both fail',
    );
    const rows = await kit.sequelize.query<{ stage_id: string; failure_reason: string; message: string }>(
      'SELECT stage_id, failure_reason, message FROM task_executions',
      { type: QueryTypes.SELECT },
    );
    const m = rows.find((r) => r.stage_id === missing)!;
    expect(m.failure_reason).toBe('script-missing');
    expect(m.message).toContain('nope.sh does not exist');
    const n = rows.find((r) => r.stage_id === noexec)!;
    expect(n.failure_reason).toBe('script-not-executable');
    expect(n.message).toContain('chmod +x');
  });

  it('cancel kills the running process group; resubmit runs the tile again', async () => {
    const marker = path.join(kit.dir, 'child.pid');
    // The script starts a grandchild: cancel must reach the whole process group.
    const long = await script(kit, 'long.sh', `sleep 300 & echo $! > ${marker}; wait`);
    const projectId = await createProject(kit, { nx: 1, ny: 1, nz: 1 });
    const s = await createStage(kit, projectId, 's', await createDefinition(kit, long));
    await worker();
    await eventually(async () => (await countsOf(kit, s)).processing === 1, 30_000, 'running');
    await eventually(
      async () =>
        fs.stat(marker).then(
          () => true,
          () => false,
        ),
      10_000,
      'grandchild started',
    );
    const pid = Number(await fs.readFile(marker, 'utf8'));
    expect(await kit.actions.cancel(s)).toBe(1);
    expect(await countsOf(kit, s)).toEqual({ canceled: 1 });
    await eventually(
      async () => {
        const [e] = await kit.sequelize.query<{ status: string }>(
          'SELECT status FROM task_executions WHERE stage_id = $1',
          {
            bind: [s],
            type: QueryTypes.SELECT,
          },
        );
        return e.status === 'canceled';
      },
      30_000,
      'execution canceled',
    );
    // The grandchild got the signal with its process group; it may take a moment to be reaped (a zombie is dead).
    const alive = async () => {
      try {
        const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
        return !/^\d+ \(.*\) Z/.test(stat);
      } catch {
        return false;
      }
    };
    await eventually(async () => !(await alive()), 10_000, 'grandchild gone');
    expect(await alive()).toBe(false);
    // Resubmit with a script that now succeeds.
    await kit.sequelize.query(`UPDATE task_definitions SET script = $1`, { bind: [await recorder(kit, 'ok')] });
    expect(await kit.actions.resubmit(s, { status: 'canceled' })).toBe(1);
    await eventually(async () => (await countsOf(kit, s)).complete === 1, 30_000, 'resubmitted tile completes');
    const [n] = await kit.sequelize.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM task_executions WHERE stage_id = $1',
      {
        bind: [s],
        type: QueryTypes.SELECT,
      },
    );
    expect(n.n).toBe(2);
  });
});

describe('topology changes while processing', () => {
  it('archiving a stage mid-run cancels its queued tiles, runs nothing more of it, and its child moves up', async () => {
    const projectId = await createProject(kit, { nx: 10, ny: 10, nz: 1 });
    const slow = await script(kit, 'slow.sh', 'sleep 0.1');
    const a = await createStage(kit, projectId, 'a', await createDefinition(kit, slow));
    const b = await createStage(kit, projectId, 'b', await createDefinition(kit, await recorder(kit, 'b')), {
      parentId: a,
    });
    await worker({ localCapacity: 1 });
    await eventually(async () => ((await countsOf(kit, a)).complete ?? 0) >= 3, 30_000, 'a under way');
    // What the API's archiveStage does: archive the row, move children up, then tell the scheduler.
    await kit.sequelize.query(`UPDATE stages SET archived_at = now() WHERE id = $1`, { bind: [a] });
    await kit.sequelize.query(`UPDATE stages SET parent_id = NULL, backfill_after = 0 WHERE parent_id = $1`, {
      bind: [a],
    });
    await kit.actions.stageArchived(a);
    await kit.actions.stageTopologyChanged(b);
    const after = await countsOf(kit, a);
    expect(after.queued ?? 0).toBe(0);
    // b now hangs under the input: every tile reaches it, whatever a had done.
    await eventually(async () => (await countsOf(kit, b)).complete === 100, 60_000, 'b completes from the input');
    const [late] = await kit.sequelize.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM task_executions WHERE stage_id = $1 AND queued_at > (SELECT archived_at FROM stages WHERE id = $1)`,
      { bind: [a], type: QueryTypes.SELECT },
    );
    expect(late.n).toBe(0);
  });
});
