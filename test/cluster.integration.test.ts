/**
 * The cluster path end to end against the project's real single-node SLURM: a three-stage pipeline with its middle
 * stage on the cluster, and a worker restart while its cluster jobs run (the new daemon re-attaches to them and
 * each is recorded once).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { slurmConf } from './helpers.js';
import { eventually } from './pipeline-kit.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let dir: string;

beforeEach(async (ctx) => {
  const conf = slurmConf();
  if (!conf) ctx.skip(); // TILEFLOW_TEST_SLURM=0: this run has no SLURM
  process.env.SLURM_CONF = conf!;
  stack = await startStack();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-cluster-'));
});

afterEach(async () => {
  await stack?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const rows = <T extends object>(sql: string, bind: unknown[] = []) =>
  stack.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });

async function project(n: { nx: number; nz: number }) {
  const [p] = await rows<{ id: string }>(
    `INSERT INTO projects (name, root_path, log_root_path, is_processing, extent_max_z) VALUES ('c', $1, $2, true, $3) RETURNING id`,
    [path.join(dir, 'acq'), path.join(dir, 'logs'), n.nz - 1],
  );
  await stack.sequelize.query(
    `INSERT INTO tiles (project_id, relative_path, tile_name, x, y, z, is_complete, propagate)
     SELECT $1, format('z%s/x%s', z, x), format('tile %s %s', x, z), x, 0, z, true, true
     FROM generate_series(0, $2 - 1) x, generate_series(0, $3 - 1) z`,
    { bind: [p.id, n.nx, n.nz] },
  );
  return p.id;
}

async function stage(
  projectId: string,
  name: string,
  body: string,
  o: { parent?: string; kind?: string; target?: string } = {},
) {
  const script = path.join(dir, `${name}.sh`);
  await fs.writeFile(script, `#!/bin/bash\nset -eu\nmkdir -p "$2/$3"\n${body}\n`, { mode: 0o755 });
  const [d] = await rows<{ id: string }>(
    `INSERT INTO task_definitions (name, script, max_retries) VALUES ($1, $2, 1) RETURNING id`,
    [name, script],
  );
  const [s] = await rows<{ id: string }>(
    `INSERT INTO stages (project_id, parent_id, name, kind, task_definition_id, output_path, target, backfill_after)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 0) RETURNING id`,
    [projectId, o.parent ?? null, name, o.kind ?? 'map', d.id, path.join(dir, 'out', name), o.target ?? 'any'],
  );
  await stack.sequelize.query(`SELECT pg_notify('tileflow_changes', $1)`, {
    bind: [JSON.stringify({ type: 'topology', projectId })],
  });
  return s.id;
}

it('runs a three-stage pipeline with its middle stage on SLURM', { timeout: 120_000 }, async () => {
  const projectId = await project({ nx: 2, nz: 3 });
  const a = await stage(projectId, 'a', 'echo "a $IS_CLUSTER_JOB" > "$2/$3/a.txt"', { target: 'local' });
  const b = await stage(projectId, 'b', 'echo "b $IS_CLUSTER_JOB ${SLURM_JOB_ID:-none}" > "$2/$3/b.txt"', {
    parent: a,
    target: 'cluster',
  });
  const c = await stage(projectId, 'c', 'echo "c ${ADJACENT_TILE_RELATIVE_PATH:-}" > "$2/$3/c.txt"', {
    parent: b,
    kind: 'adjacent-z',
    target: 'local',
  });
  await stack.startWorker({ name: 'hybrid', localCapacity: 2, clusterCapacity: 4 });
  await eventually(
    async () => {
      const [r] = await rows<{ n: number }>(
        `SELECT count(*)::int AS n FROM stage_tile_states WHERE status = 'complete'`,
      );
      return r.n === 18;
    },
    90_000,
    'all three stages complete',
  );
  const targets = await rows<{ stage_id: string; target: string; jobs: number; n: number }>(
    `SELECT stage_id, target, count(cluster_job_id)::int AS jobs, count(*)::int AS n FROM task_executions
     WHERE status = 'succeeded' GROUP BY stage_id, target`,
  );
  expect(targets.find((t) => t.stage_id === a)).toMatchObject({ target: 'local', n: 6, jobs: 0 });
  expect(targets.find((t) => t.stage_id === b)).toMatchObject({ target: 'cluster', n: 6, jobs: 6 });
  expect(targets.find((t) => t.stage_id === c)).toMatchObject({ target: 'local', n: 6 });
  const inJob = await fs.readFile(path.join(dir, 'out', 'b', 'z0/x1', 'b.txt'), 'utf8');
  expect(inJob).toMatch(/^b 1 \d+\n$/); // IS_CLUSTER_JOB=1 and a real SLURM job id
  expect(await fs.readFile(path.join(dir, 'out', 'c', 'z0/x1', 'c.txt'), 'utf8')).toBe('c z1/x1\n');
});

it(
  'a worker restarted while its cluster jobs run re-attaches to them and records each once',
  { timeout: 120_000 },
  async () => {
    const projectId = await project({ nx: 3, nz: 1 });
    const s = await stage(projectId, 'long', 'sleep 4; echo done > "$2/$3/done.txt"', { target: 'cluster' });
    const first = await stack.startWorker({ name: 'restarts', localCapacity: 0, clusterCapacity: 3 });
    await eventually(
      async () => {
        const [r] = await rows<{ n: number }>(
          `SELECT count(*)::int AS n FROM task_executions WHERE stage_id = $1 AND cluster_job_id IS NOT NULL AND status IN ('submitted', 'running')`,
          [s],
        );
        return r.n === 3;
      },
      90_000,
      'three jobs submitted',
    );
    const before = await rows<{ id: string; cluster_job_id: string }>(
      `SELECT id, cluster_job_id FROM task_executions WHERE stage_id = $1 ORDER BY id`,
      [s],
    );
    await first.stop(); // the daemon goes; its SLURM jobs keep running
    await stack.startWorker({ name: 'restarts', localCapacity: 0, clusterCapacity: 3 });
    await eventually(
      async () => {
        const [r] = await rows<{ n: number }>(
          `SELECT count(*)::int AS n FROM stage_tile_states WHERE stage_id = $1 AND status = 'complete'`,
          [s],
        );
        return r.n === 3;
      },
      90_000,
      'jobs finish after the restart',
    );
    const after = await rows<{ id: string; cluster_job_id: string; status: string }>(
      `SELECT id, cluster_job_id, status FROM task_executions WHERE stage_id = $1 ORDER BY id`,
      [s],
    );
    // The same three executions, the same jobs: nothing resubmitted, nothing lost, each succeeded once.
    expect(after.map((e) => [e.id, e.cluster_job_id])).toEqual(before.map((e) => [e.id, e.cluster_job_id]));
    expect(after.every((e) => e.status === 'succeeded')).toBe(true);
  },
);
