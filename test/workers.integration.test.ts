/**
 * Worker lifecycle through the real API: pause and drain from a mutation take effect on the running daemon, a
 * worker that goes silent (SIGKILL, never restarted) is marked unavailable and its executions move to another
 * worker, and every finished execution lands in InfluxDB with its tags and figures.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InfluxDB } from 'influx';
import { QueryTypes } from 'sequelize';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startProcess, ensureBuilt, type Proc } from './processes.js';
import { eventually } from './pipeline-kit.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let dir: string;
const procs: Proc[] = [];

beforeEach(async () => {
  stack = await startStack({ TILEFLOW_WORKER_TIMEOUT_SECONDS: '3' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-workers-'));
});

afterEach(async () => {
  for (const p of procs.splice(0)) await p.kill();
  await stack.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const one = async <T extends object>(sql: string, bind: unknown[] = []) =>
  (await stack.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT }))[0];

/** A project of n tiles and one stage running `body`, processing. */
async function pipeline(n: number, body: string) {
  const script = path.join(dir, `s${Math.random().toString(36).slice(2, 7)}.sh`);
  await fs.writeFile(script, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  const project = await one<{ id: string }>(
    `INSERT INTO projects (name, root_path, log_root_path, is_processing) VALUES ($1, $2, $3, true) RETURNING id`,
    [`p${Math.random()}`, path.join(dir, 'acq'), path.join(dir, 'logs')],
  );
  await stack.sequelize.query(
    `INSERT INTO tiles (project_id, relative_path, tile_name, x, y, z, is_complete, propagate)
     SELECT $1, 't' || i, 't' || i, i, 0, 0, true, true FROM generate_series(0, $2 - 1) i`,
    { bind: [project.id, n] },
  );
  const def = await one<{ id: string }>(
    `INSERT INTO task_definitions (name, script, max_retries, retry_backoff_seconds) VALUES ('d', $1, 3, 0.1) RETURNING id`,
    [script],
  );
  const stage = await one<{ id: string }>(
    `INSERT INTO stages (project_id, name, task_definition_id, output_path, backfill_after) VALUES ($1, 's', $2, $3, 0) RETURNING id`,
    [project.id, def.id, path.join(dir, 'out')],
  );
  await stack.sequelize.query(`SELECT pg_notify('tileflow_changes', $1)`, {
    bind: [JSON.stringify({ type: 'topology', projectId: project.id })],
  });
  return { projectId: project.id, stageId: stage.id };
}

const count = async (stageId: string, status: string) =>
  (
    await one<{ n: number }>(`SELECT count(*)::int AS n FROM stage_tile_states WHERE stage_id = $1 AND status = $2`, [
      stageId,
      status,
    ])
  ).n;

const update = (id: string, input: Record<string, unknown>) =>
  stack.graphql<{ updateWorker: { worker: { status: string } | null; errors: Array<{ field: string }> } }>(
    'mutation($id: ID!, $input: WorkerUpdateInput!) { updateWorker(id: $id, input: $input) { worker { status } errors { field message } } }',
    { id, input },
  );

it('pausing a worker stops new starts; resuming continues; draining finishes what runs, then it stops', async () => {
  const { stageId } = await pipeline(40, 'sleep 0.2');
  await stack.startWorker({ name: 'lifecycle', localCapacity: 2 });
  const w = await one<{ id: string }>(`SELECT id FROM workers WHERE name = 'lifecycle'`);
  await eventually(async () => (await count(stageId, 'complete')) >= 2, 30_000, 'first completions');
  const paused = await update(w.id, { paused: true });
  expect(paused.errors).toBeUndefined();
  // Within a heartbeat the worker takes nothing new: what it runs ends, then nothing moves.
  await eventually(async () => (await count(stageId, 'processing')) === 0, 30_000, 'paused worker idle');
  await eventually(
    async () => (await one<{ status: string }>(`SELECT status FROM workers WHERE id = $1`, [w.id])).status === 'paused',
    30_000,
    'status paused',
  );
  const held = await count(stageId, 'complete');
  await new Promise((r) => setTimeout(r, 1000));
  expect(await count(stageId, 'complete')).toBe(held);
  expect(held).toBeLessThan(40);

  await update(w.id, { paused: false });
  await eventually(async () => (await count(stageId, 'complete')) > held + 2, 30_000, 'resumed');
  await update(w.id, { draining: true });
  await eventually(
    async () =>
      (await one<{ status: string }>(`SELECT status FROM workers WHERE id = $1`, [w.id])).status === 'stopped',
    30_000,
    'drained',
  );
  expect(await count(stageId, 'processing')).toBe(0);
  const drained = await count(stageId, 'complete');
  await new Promise((r) => setTimeout(r, 1000));
  expect(await count(stageId, 'complete')).toBe(drained);
  // Capacity below zero is refused with a field error.
  const bad = await update(w.id, { localCapacity: -1 });
  expect(bad.data?.updateWorker.errors.map((e) => e.field)).toEqual(['localCapacity']);
});

it('a worker that goes silent is marked unavailable and its executions finish on another worker', async () => {
  ensureBuilt();
  const { stageId } = await pipeline(6, 'sleep 1.5');
  const env = {
    ...stack.cliEnv,
    TILEFLOW_URL: stack.url,
    TILEFLOW_WORKER_TOKEN: stack.workerToken,
    TILEFLOW_QUEUE_PREFIX: stack.config.services.redis.prefix,
    TILEFLOW_WORKER_NAME: 'doomed',
    TILEFLOW_WORKER_LOCAL_CAPACITY: '3',
    TILEFLOW_WORKER_HEARTBEAT_SECONDS: '0.25',
  };
  const doomed = startProcess('doomed', 'worker/dist/main.js', [], env);
  procs.push(doomed);
  await eventually(async () => (await count(stageId, 'processing')) === 3, 30_000, 'doomed worker runs three');
  await doomed.kill('SIGKILL');
  await stack.startWorker({ name: 'survivor', localCapacity: 3 });
  await eventually(async () => (await count(stageId, 'complete')) === 6, 60_000, 'all complete on the survivor');
  const doomedRow = await one<{ status: string }>(`SELECT status FROM workers WHERE name = 'doomed'`);
  expect(doomedRow.status).toBe('unavailable');
  const lost = await one<{ n: number }>(
    `SELECT count(*)::int AS n FROM task_executions e JOIN workers w ON w.id = e.worker_id
     WHERE w.name = 'doomed' AND e.status = 'lost' AND e.failure_reason = 'worker-lost'`,
  );
  expect(lost.n).toBe(3);
  // Each tile whose run died with the doomed worker was run again, and succeeded, on the survivor; one success per tile.
  const rerun = await one<{ n: number }>(
    `SELECT count(*)::int AS n FROM task_executions lost
     JOIN task_executions ok ON ok.stage_id = lost.stage_id AND ok.tile_id = lost.tile_id AND ok.status = 'succeeded'
     JOIN workers w ON w.id = ok.worker_id
     WHERE lost.status = 'lost' AND w.name = 'survivor'`,
  );
  expect(rerun.n).toBe(3);
  const perTile = await one<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT tile_id FROM task_executions WHERE status = 'succeeded'
       GROUP BY tile_id HAVING count(*) = 1) t`,
  );
  expect(perTile.n).toBe(6);

  // Every finished execution went to InfluxDB, tagged with project, stage, task and worker.
  const influx = new InfluxDB({
    host: stack.config.services.influx.host,
    port: stack.config.services.influx.port,
    database: stack.config.services.influx.database,
  });
  await eventually(
    async () => {
      const rows = await influx.query<{ n: number }>(
        `SELECT count("n") AS n FROM executions WHERE status = 'succeeded'`,
      );
      return rows[0]?.n === 6;
    },
    30_000,
    'execution points in InfluxDB',
  );
  const tagged = await influx.query<{ stage_id: string; task_id: string; worker_id: string; duration_seconds: number }>(
    `SELECT stage_id, task_id, worker_id, project_id, duration_seconds, pending_seconds, cpu_seconds, peak_memory_mb
     FROM executions WHERE status = 'succeeded'`,
  );
  expect(tagged.every((p) => p.stage_id === stageId && p.task_id && p.worker_id && p.duration_seconds >= 1.5)).toBe(
    true,
  );
  const load = await influx.query<{ n: number }>(`SELECT count("local_load") AS n FROM worker_load`);
  expect(load[0]?.n ?? 0).toBeGreaterThan(0);
  await influx.dropDatabase(stack.config.services.influx.database);
}, 120_000);
