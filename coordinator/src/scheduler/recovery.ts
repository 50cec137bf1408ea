/**
 * Recovery: the sweeps that make "kill anything at any moment" safe.
 * - Workers silent for longer than the timeout become unavailable; their local executions are lost and retried.
 * - Queued executions whose job is not in Redis (flushed, crashed between commit and enqueue, taken by a worker
 *   that died before it reported) are re-added with the same job id.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import type { TaskSpec } from '@tileflow/shared';
import { notifyChange } from '../db/notify.js';
import type { Logger } from '../logger.js';
import { buildSpec, neighboursOf, type TileRow } from './dispatch.js';
import type { Queues } from './queues.js';
import { loadProject, loadStages } from './topology.js';
import { markLost } from './worker-protocol.js';

export async function sweepSilentWorkers(
  sequelize: Sequelize,
  timeoutSeconds: number,
  logger: Logger,
): Promise<number> {
  return sequelize.transaction(async (t) => {
    const workers = await sequelize.query<{ id: string; name: string }>(
      `UPDATE workers SET status = 'unavailable', updated_at = now()
       WHERE status NOT IN ('unavailable', 'stopped') AND last_heartbeat_at < now() - make_interval(secs => $1)
       RETURNING id, name`,
      { bind: [timeoutSeconds], type: QueryTypes.SELECT, transaction: t },
    );
    if (workers.length === 0) return 0;
    const execs = await sequelize.query<{ id: string }>(
      `SELECT id FROM task_executions WHERE worker_id = ANY($1::uuid[]) AND status IN ('submitted', 'running')
         AND (target IS DISTINCT FROM 'cluster' OR cluster_job_id IS NULL)`,
      { bind: [workers.map((w) => w.id)], type: QueryTypes.SELECT, transaction: t },
    );
    const lost = await markLost(
      sequelize,
      t,
      execs.map((e) => e.id),
      'its worker stopped sending heartbeats',
    );
    for (const w of workers) await notifyChange(sequelize, { type: 'workers', workerId: w.id }, t);
    logger.warn({ workers: workers.map((w) => w.name), lost }, 'workers unavailable; their executions recovered');
    return lost;
  });
}

interface QueuedRow extends TileRow {
  id: string;
  project_id: string;
  stage_id: string;
  attempt: number;
}

/**
 * Re-adds queued executions older than `minAgeSeconds` that have no job in their stage's queue. With minAge 0 it
 * rebuilds every queue from Postgres (startup, and after Redis came back empty). Walks in pages by id.
 */
export async function requeueMissing(
  sequelize: Sequelize,
  queues: Queues,
  minAgeSeconds: number,
  logger: Logger,
  pageSize = 2000,
): Promise<number> {
  let after = '00000000-0000-0000-0000-000000000000';
  let readded = 0;
  for (;;) {
    const rows = await sequelize.query<QueuedRow>(
      `SELECT e.id, e.project_id, e.stage_id, e.tile_id::text, e.attempt, t.relative_path, t.tile_name,
              t.x, t.y, t.z, t.step_x, t.step_y, t.step_z
       FROM task_executions e JOIN tiles t ON t.id = e.tile_id
       WHERE e.status = 'queued' AND NOT e.cancel_requested AND e.queued_at < now() - make_interval(secs => $1)
         AND e.id > $2
       ORDER BY e.id LIMIT $3`,
      { bind: [minAgeSeconds, after, pageSize], type: QueryTypes.SELECT },
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1].id;
    const byStage = new Map<string, QueuedRow[]>();
    for (const r of rows) byStage.set(r.stage_id, [...(byStage.get(r.stage_id) ?? []), r]);
    for (const [stageId, list] of byStage) {
      const missing = new Set(
        await queues.missing(
          stageId,
          list.map((r) => r.id),
        ),
      );
      if (missing.size === 0) continue;
      const project = await loadProject(sequelize, list[0].project_id);
      const stages = await loadStages(sequelize, list[0].project_id);
      const stage = stages.find((s) => s.id === stageId);
      if (!project || !stage) continue;
      const parent = stages.find((s) => s.id === stage.parentId);
      const lost = list.filter((r) => missing.has(r.id));
      const adjacent = await neighboursOf(sequelize, project, stage, lost);
      const specs: TaskSpec[] = lost.map((r) =>
        buildSpec(project, stage, parent, r, r.id, r.attempt, adjacent.get(r.tile_id)),
      );
      await queues.add(stageId, specs);
      readded += specs.length;
    }
    if (rows.length < pageSize) break;
  }
  if (readded > 0) logger.warn({ readded }, 'queued executions missing from Redis were re-added');
  return readded;
}
