/**
 * Shared set-up for scheduler and worker integration tests: a project with a lattice of tiles, stages running small
 * real scripts, a scheduler and worker daemons wired to the real PostgreSQL and Redis. Each call gets its own
 * database (cloned from the migrated template) and its own queue prefix.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { QueryTypes, type Sequelize } from 'sequelize';
import { readServicesConfig, type ServicesConfig, type TileStatus } from '@tileflow/shared';
import type { CoordinatorConfig } from '../coordinator/src/config/index.js';
import { createLogger } from '../coordinator/src/logger.js';
import { createSchedulerActions } from '../coordinator/src/scheduler/actions.js';
import { createScheduler, type Scheduler } from '../coordinator/src/scheduler/index.js';
import { createQueues, type Queues } from '../coordinator/src/scheduler/queues.js';
import { createWorkerProtocol } from '../coordinator/src/scheduler/worker-protocol.js';
import type { SchedulerActions, WorkerProtocol } from '../coordinator/src/scheduler/contracts.js';
import { createTestDatabase, randomQueuePrefix } from './helpers.js';

/** The project's Redis, with its password when .env sets one (a fresh clone's setup generates it). */
export function redisOptions() {
  const { host, port, password } = readServicesConfig().redis;
  return { host, port, password };
}

export const logger = createLogger('test', process.env.TILEFLOW_TEST_LOG_LEVEL ?? 'warn');

export interface Kit {
  sequelize: Sequelize;
  db: ServicesConfig['db'];
  redis: Redis;
  prefix: string;
  queues: Queues;
  scheduler: Scheduler;
  actions: SchedulerActions;
  protocol: WorkerProtocol;
  dir: string;
  close(): Promise<void>;
}

export const schedulerConfig = (
  over: Partial<CoordinatorConfig['scheduler']> = {},
): CoordinatorConfig['scheduler'] => ({
  inputPollSeconds: 0.2,
  tickMs: 200,
  workerTimeoutSeconds: 5,
  queuedRecheckSeconds: 2,
  dispatchWindow: 200,
  batchSize: 500,
  healthPort: undefined,
  ...over,
});

export async function createKit(over: Partial<CoordinatorConfig['scheduler']> = {}): Promise<Kit> {
  const { config: db, sequelize, drop } = await createTestDatabase();
  const redis = new Redis({ ...redisOptions(), maxRetriesPerRequest: null });
  const prefix = randomQueuePrefix();
  const queues = createQueues(redis, prefix);
  const scheduler = createScheduler({ sequelize, redis, queues, db, config: schedulerConfig(over), logger }, prefix);
  const actions = createSchedulerActions({ sequelize, queues, logger });
  const protocol = createWorkerProtocol({ sequelize, logger });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-kit-'));
  return {
    sequelize,
    db,
    redis,
    prefix,
    queues,
    scheduler,
    actions,
    protocol,
    dir,
    async close() {
      await scheduler.stop();
      await queues.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await drop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Writes an executable script into the kit's folder. */
export async function script(kit: Kit, name: string, body: string): Promise<string> {
  const file = path.join(kit.dir, 'tasks', name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`, { mode: 0o755 });
  return file;
}

export interface LatticeOptions {
  nx: number;
  ny: number;
  nz: number;
  /** Planes written so far (a live acquisition); default all. */
  planes?: number;
  skipZ?: number[];
  processing?: boolean;
}

/** A project whose tiles are recorded directly (the input sources have their own tests). */
export async function createProject(kit: Kit, o: LatticeOptions): Promise<string> {
  const root = path.join(kit.dir, 'acquisition');
  await fs.mkdir(root, { recursive: true });
  const [p] = await kit.sequelize.query<{ id: string }>(
    `INSERT INTO projects (name, root_path, log_root_path, extent_min_x, extent_max_x, extent_min_y, extent_max_y,
       extent_min_z, extent_max_z, skip_z, is_processing)
     VALUES ($1, $2, $3, 0, $4, 0, $5, 0, $6, $7, $8) RETURNING id`,
    {
      bind: [
        `p-${path.basename(kit.dir)}`,
        root,
        path.join(kit.dir, 'logs'),
        o.nx - 1,
        o.ny - 1,
        o.nz - 1,
        o.skipZ ?? [],
        o.processing ?? true,
      ],
      type: QueryTypes.SELECT,
    },
  );
  await addPlanes(kit, p.id, 0, o.planes ?? o.nz, o);
  return p.id;
}

/** Records planes [from, to) of the lattice as complete tiles, like an acquisition that keeps writing. */
export async function addPlanes(
  kit: Kit,
  projectId: string,
  from: number,
  to: number,
  o: LatticeOptions,
): Promise<void> {
  const rows: string[] = [];
  for (let z = from; z < to; z++)
    for (let y = 0; y < o.ny; y++)
      for (let x = 0; x < o.nx; x++)
        rows.push(`('${projectId}', 'z${z}/y${y}/x${x}', 'tile ${x}-${y}-${z}', ${x}, ${y}, ${z}, true, true)`);
  if (rows.length === 0) return;
  await kit.sequelize.query(
    `INSERT INTO tiles (project_id, relative_path, tile_name, x, y, z, is_complete, propagate) VALUES ${rows.join(',')}`,
  );
  await kit.sequelize.query(`SELECT pg_notify('tileflow_changes', $1)`, {
    bind: [JSON.stringify({ type: 'tiles', projectId, changed: rows.length })],
  });
}

export async function createDefinition(
  kit: Kit,
  scriptPath: string,
  over: Record<string, unknown> = {},
): Promise<string> {
  const cols = {
    script: scriptPath,
    name: path.basename(scriptPath),
    max_retries: 0,
    retry_backoff_seconds: 0.1,
    ...over,
  };
  const names = Object.keys(cols);
  const [d] = await kit.sequelize.query<{ id: string }>(
    `INSERT INTO task_definitions (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    { bind: Object.values(cols), type: QueryTypes.SELECT },
  );
  return d.id;
}

export async function createStage(
  kit: Kit,
  projectId: string,
  name: string,
  definitionId: string,
  o: { parentId?: string | null; kind?: string; processing?: boolean } = {},
): Promise<string> {
  const [s] = await kit.sequelize.query<{ id: string }>(
    `INSERT INTO stages (project_id, parent_id, name, kind, task_definition_id, output_path, is_processing, backfill_after)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 0) RETURNING id`,
    {
      bind: [
        projectId,
        o.parentId ?? null,
        name,
        o.kind ?? 'map',
        definitionId,
        path.join(kit.dir, 'out', name),
        o.processing ?? true,
      ],
      type: QueryTypes.SELECT,
    },
  );
  await kit.actions.stageTopologyChanged(s.id);
  return s.id;
}

export type Counts = Partial<Record<TileStatus, number>>;

export async function countsOf(kit: Kit, stageId: string): Promise<Counts> {
  const rows = await kit.sequelize.query<{ status: TileStatus; n: number }>(
    'SELECT status, count(*)::int AS n FROM stage_tile_states WHERE stage_id = $1 GROUP BY status',
    { bind: [stageId], type: QueryTypes.SELECT },
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Polls until `check` returns true (or throws its last error after `timeoutMs`). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The worker's API wired straight to the coordinator's WorkerProtocol, for tests of scheduling logic that do not
 * need HTTP (the end-to-end tests go through the real API server).
 */
export function directApi(protocol: WorkerProtocol): import('../worker/src/reporting/api.js').CoordinatorApi {
  return {
    register: (input) => protocol.registerWorker(input),
    heartbeat: (input) => protocol.heartbeat(input),
    report: (sessionId, reports) => protocol.reportExecutions(sessionId, reports),
  };
}

export interface WorkerHandle {
  daemon: import('../worker/src/daemon.js').Daemon;
  stop(): Promise<void>;
}

export async function startWorker(
  kit: Kit,
  o: { name?: string; localCapacity?: number; api?: import('../worker/src/reporting/api.js').CoordinatorApi } = {},
): Promise<WorkerHandle> {
  const { createDaemon } = await import('../worker/src/daemon.js');
  const { createLocalExecutor } = await import('../worker/src/executors/local/executor.js');
  const redis = new Redis({ ...redisOptions(), maxRetriesPerRequest: null });
  const daemon = createDaemon({
    config: {
      url: 'direct://',
      token: 'direct',
      name: o.name ?? `w-${Math.random().toString(36).slice(2, 8)}`,
      localCapacity: o.localCapacity ?? 2,
      clusterCapacity: 0,
      heartbeatSeconds: 0.2,
      pathMap: [],
      slurmPollSeconds: 1,
      killGraceSeconds: 1,
      redis: { ...readServicesConfig().redis, prefix: kit.prefix },
    },
    api: o.api ?? directApi(kit.protocol),
    redis,
    logger,
    makeLocal: (events) => createLocalExecutor(events, { killGraceSeconds: 1 }),
    version: 'test',
    idleMs: 20,
  });
  await daemon.start();
  return {
    daemon,
    async stop() {
      await daemon.stop();
      await redis.quit();
    },
  };
}
