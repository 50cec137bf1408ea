/**
 * Chaos: the scheduler, the API, a worker and Redis are each killed with SIGKILL in the middle of a run and started
 * again. Afterwards every tile converges: complete in every stage, recorded as succeeded exactly once, nothing left
 * queued or processing, no execution left open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QueryTypes, type Sequelize } from 'sequelize';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, randomQueuePrefix, type TestDatabase } from './helpers.js';
import { ensureBuilt, freePort, startProcess, stackEnv, waitHealthy, type Proc } from './processes.js';

const NX = 6;
const NY = 6;
const NZ = 5;
const TILES = NX * NY * NZ;

let db: TestDatabase;
let dir: string;
let redis: ChildProcess | undefined;
const procs = new Map<string, Proc>();

async function startRedis(port: number): Promise<ChildProcess> {
  // The same password as the project's Redis, if .env sets one: the processes read it from the same environment.
  const password = process.env.TILEFLOW_REDIS_PASSWORD;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
  ];
  const child = spawn('redis-server', password ? [...args, '--requirepass', password] : args, { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      const net = await import('node:net');
      await new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.end();
          resolve();
        });
        s.on('error', reject);
      });
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis did not start');
}

const count = async (s: Sequelize, sql: string, bind: unknown[] = []) =>
  (await s.query<{ n: number }>(sql, { bind, type: QueryTypes.SELECT }))[0].n;

beforeAll(async () => {
  ensureBuilt();
  db = await createTestDatabase();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-chaos-'));
});

afterAll(async () => {
  for (const p of procs.values()) await p.kill();
  redis?.kill('SIGKILL');
  await db?.drop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

it('converges after kill -9 of the scheduler, the API, a worker and Redis', async () => {
  const s = db.sequelize;
  const script = path.join(dir, 'work.sh');
  await fs.writeFile(
    script,
    '#!/bin/sh\nsleep 0.05\nmkdir -p "$2/$3" && echo ok > "$2/$3/done-$TILEFLOW_EXECUTION_ID"\n',
    { mode: 0o755 },
  );
  const [project] = await s.query<{ id: string }>(
    `INSERT INTO projects (name, root_path, log_root_path, is_processing, extent_max_z) VALUES ('chaos', $1, $2, true, $3)
     RETURNING id`,
    { bind: [path.join(dir, 'acq'), path.join(dir, 'logs'), NZ - 1], type: QueryTypes.SELECT },
  );
  await s.query(
    `INSERT INTO tiles (project_id, relative_path, tile_name, x, y, z, is_complete, propagate)
     SELECT $1, format('z%s/y%s/x%s', z, y, x), format('t%s-%s-%s', x, y, z), x, y, z, true, true
     FROM generate_series(0, $2 - 1) x, generate_series(0, $3 - 1) y, generate_series(0, $4 - 1) z`,
    { bind: [project.id, NX, NY, NZ] },
  );
  const [def] = await s.query<{ id: string }>(
    `INSERT INTO task_definitions (name, script, max_retries, retry_backoff_seconds) VALUES ('work', $1, 20, 0.2) RETURNING id`,
    { bind: [script], type: QueryTypes.SELECT },
  );
  const [a] = await s.query<{ id: string }>(
    `INSERT INTO stages (project_id, name, task_definition_id, output_path, backfill_after) VALUES ($1, 'a', $2, $3, 0) RETURNING id`,
    { bind: [project.id, def.id, path.join(dir, 'out', 'a')], type: QueryTypes.SELECT },
  );
  await s.query(
    `INSERT INTO stages (project_id, parent_id, name, kind, task_definition_id, output_path, backfill_after)
     VALUES ($1, $2, 'b', 'adjacent-z', $3, $4, 0)`,
    { bind: [project.id, a.id, def.id, path.join(dir, 'out', 'b')] },
  );

  const redisPort = await freePort();
  redis = await startRedis(redisPort);
  const apiPort = await freePort();
  const healthPort = await freePort();
  const env: Record<string, string> = {
    ...stackEnv(db.config.database, randomQueuePrefix(), apiPort),
    TILEFLOW_REDIS_PORT: String(redisPort),
    TILEFLOW_SCHEDULER_HEALTH_PORT: String(healthPort),
  };
  const start = {
    scheduler: () => startProcess('scheduler', 'coordinator/dist/main.js', ['scheduler'], env),
    api: () => startProcess('api', 'coordinator/dist/main.js', ['api'], env),
    worker: () =>
      startProcess('worker', 'worker/dist/main.js', [], {
        ...env,
        TILEFLOW_WORKER_NAME: 'chaos-1',
        TILEFLOW_WORKER_LOCAL_CAPACITY: '2',
      }),
  };
  procs.set('scheduler', start.scheduler());
  procs.set('api', start.api());
  await waitHealthy(env.TILEFLOW_URL, procs.get('api')!);
  // The scheduler-only process answers its own health check (what the compose healthcheck calls).
  await waitHealthy(`http://127.0.0.1:${healthPort}`, procs.get('scheduler')!);
  procs.set('worker', start.worker());

  const complete = () => count(s, `SELECT count(*)::int AS n FROM stage_tile_states WHERE status = 'complete'`);
  const progress = async (atLeast: number) => {
    const end = Date.now() + 60_000;
    while ((await complete()) < atLeast) {
      if (Date.now() > end) {
        throw new Error(
          `stuck below ${atLeast}:\n${[...procs.values()].map((p) => `${p.name}: ${p.output().slice(-3000)}`).join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const total = TILES * 2;
  const step = Math.floor(total / 6);
  for (const [i, victim] of (['scheduler', 'api', 'worker'] as const).entries()) {
    await progress(step * (i + 1));
    await procs.get(victim)!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    procs.set(victim, start[victim]());
    if (victim === 'api') await waitHealthy(env.TILEFLOW_URL, procs.get('api')!);
  }
  await progress(step * 4);
  redis.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  redis = await startRedis(redisPort); // empty: every queue is rebuilt from Postgres
  await progress(total);

  // Converged: every tile complete once in each stage, nothing open anywhere.
  expect(await count(s, `SELECT count(*)::int AS n FROM stage_tile_states WHERE status <> 'complete'`)).toBe(0);
  expect(await complete()).toBe(total);
  expect(
    await count(
      s,
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM task_executions WHERE status = 'succeeded'
         GROUP BY stage_id, tile_id HAVING count(*) <> 1) d`,
    ),
  ).toBe(0);
  expect(await count(s, `SELECT count(*)::int AS n FROM task_executions WHERE status = 'succeeded'`)).toBe(total);
  // Wait for in-flight reports to land, then nothing may stay open.
  const end = Date.now() + 20_000;
  let open = -1;
  while (Date.now() < end) {
    open = await count(
      s,
      `SELECT count(*)::int AS n FROM task_executions WHERE status IN ('queued', 'submitted', 'running')`,
    );
    if (open === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(open).toBe(0);
  // Each tile's complete state points at its succeeded execution.
  expect(
    await count(
      s,
      `SELECT count(*)::int AS n FROM stage_tile_states st JOIN task_executions e ON e.id = st.current_execution_id
       WHERE e.status <> 'succeeded'`,
    ),
  ).toBe(0);
}, 240_000);
