/**
 * Operator actions on stages and tiles: processing on/off, topology changes, resubmit and cancel. Each changes
 * Postgres in one transaction first; queue operations follow and are repaired by the recovery sweep if they fail.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import { TileStatus, type TileStatus as TileStatusT } from '@tileflow/shared';
import { notifyChange } from '../db/notify.js';
import type { Logger } from '../logger.js';
import type { SchedulerActions, TileSelector } from './contracts.js';
import type { Queues } from './queues.js';

export interface ActionsDeps {
  sequelize: Sequelize;
  queues: Queues;
  logger: Logger;
}

/** Statuses a tile may be resubmitted from (queued and processing ones must be canceled first). */
const RESUBMITTABLE: TileStatusT[] = [
  TileStatus.Complete,
  TileStatus.Failed,
  TileStatus.Canceled,
  TileStatus.Incomplete,
];

export function createSchedulerActions({ sequelize, queues, logger }: ActionsDeps): SchedulerActions {
  const log = logger.child({ part: 'actions' });

  async function projectOf(stageId: string): Promise<string> {
    const [row] = await sequelize.query<{ project_id: string }>('SELECT project_id FROM stages WHERE id = $1', {
      bind: [stageId],
      type: QueryTypes.SELECT,
    });
    if (!row) throw new Error(`Stage ${stageId} does not exist`);
    return row.project_id;
  }

  /** Pauses or resumes the BullMQ queues of stages, as far as Redis answers; dispatch follows Postgres anyway. */
  async function applyQueueState(stageIds: string[], running: boolean): Promise<void> {
    for (const id of stageIds) {
      try {
        await (running ? queues.resume(id) : queues.pause(id));
      } catch (err) {
        log.warn({ err, stageId: id }, 'queue pause/resume failed; workers follow the directive within a heartbeat');
      }
    }
  }

  return {
    async setProjectProcessing(projectId, processing) {
      await sequelize.transaction(async (t) => {
        await sequelize.query('UPDATE projects SET is_processing = $2, updated_at = now() WHERE id = $1', {
          bind: [projectId, processing],
          transaction: t,
        });
        await notifyChange(sequelize, { type: 'topology', projectId }, t);
      });
      const stages = await sequelize.query<{ id: string; is_processing: boolean }>(
        'SELECT id, is_processing FROM stages WHERE project_id = $1 AND archived_at IS NULL',
        { bind: [projectId], type: QueryTypes.SELECT },
      );
      await applyQueueState(
        stages.filter((s) => !processing || s.is_processing).map((s) => s.id),
        processing,
      );
    },

    async setStageProcessing(stageId, processing) {
      const projectId = await projectOf(stageId);
      await sequelize.transaction(async (t) => {
        await sequelize.query('UPDATE stages SET is_processing = $2, updated_at = now() WHERE id = $1', {
          bind: [stageId, processing],
          transaction: t,
        });
        await notifyChange(sequelize, { type: 'topology', projectId }, t);
      });
      const [p] = await sequelize.query<{ is_processing: boolean }>(
        'SELECT is_processing FROM projects WHERE id = $1',
        {
          bind: [projectId],
          type: QueryTypes.SELECT,
        },
      );
      await applyQueueState([stageId], processing && p.is_processing);
    },

    async stageTopologyChanged(stageId) {
      const projectId = await projectOf(stageId);
      await sequelize.transaction(async (t) => {
        await sequelize.query('UPDATE stages SET backfill_after = 0 WHERE id = $1 AND archived_at IS NULL', {
          bind: [stageId],
          transaction: t,
        });
        await notifyChange(sequelize, { type: 'topology', projectId }, t);
      });
    },

    async stageArchived(stageId) {
      const projectId = await projectOf(stageId);
      const canceled = await cancelWhere(stageId, undefined);
      try {
        await queues.drop(stageId);
      } catch (err) {
        log.warn({ err, stageId }, 'queue of archived stage not removed; its jobs are refused when taken');
      }
      await sequelize.transaction(async (t) => notifyChange(sequelize, { type: 'topology', projectId }, t));
      log.info({ stageId, canceled }, 'stage archived');
    },

    async resubmit(stageId, selector: TileSelector) {
      const projectId = await projectOf(stageId);
      return sequelize.transaction(async (t) => {
        let where: string;
        let bind: unknown[];
        if (selector.tileIds) {
          where = 's.tile_id = ANY($2::bigint[])';
          bind = [selector.tileIds];
        } else if (selector.relativePaths) {
          where = 's.tile_id IN (SELECT id FROM tiles WHERE project_id = $3 AND relative_path = ANY($2::text[]))';
          bind = [selector.relativePaths, projectId];
        } else if (selector.status) {
          where = 's.status = $2';
          bind = [selector.status];
        } else {
          throw new Error('resubmit needs tileIds, relativePaths or status');
        }
        const rows = await sequelize.query<{ z: number | null }>(
          `UPDATE stage_tile_states s SET status = 'incomplete', retry_base = s.attempts, next_attempt_at = NULL,
                  current_execution_id = NULL, updated_at = now()
           WHERE s.stage_id = $1 AND ${where} AND s.status = ANY($${bind.length + 2}::text[])
           RETURNING s.z`,
          { bind: [stageId, ...bind, RESUBMITTABLE], type: QueryTypes.SELECT, transaction: t },
        );
        const planes = [...new Set(rows.map((r) => r.z))].map((z) => ({ stageId, z }));
        await notifyChange(sequelize, { type: 'states', projectId, stageIds: [stageId], planes }, t);
        return rows.length;
      });
    },

    async cancel(stageId, tileIds) {
      return cancelWhere(stageId, tileIds);
    },
  };

  /**
   * Cancels queued and processing tiles. Queued ones end at once (their jobs are removed, and refused if a worker
   * takes one meanwhile); running ones are marked cancel-requested and their worker kills the process group (or
   * scancels the job) on its next heartbeat.
   */
  async function cancelWhere(stageId: string, tileIds: string[] | undefined): Promise<number> {
    const projectId = await projectOf(stageId);
    const { queued, count } = await sequelize.transaction(async (t) => {
      const filter = tileIds ? 'AND s.tile_id = ANY($2::bigint[])' : '';
      const rows = await sequelize.query<{ execution_id: string | null; status: string; z: number | null }>(
        `UPDATE stage_tile_states s SET status = 'canceled', next_attempt_at = NULL, updated_at = now()
         WHERE s.stage_id = $1 ${filter} AND s.status IN ('queued', 'processing')
         RETURNING s.current_execution_id AS execution_id, (SELECT status FROM task_executions e
           WHERE e.id = s.current_execution_id) AS status, s.z`,
        { bind: tileIds ? [stageId, tileIds] : [stageId], type: QueryTypes.SELECT, transaction: t },
      );
      const queued = rows.filter((r) => r.execution_id && r.status === 'queued').map((r) => r.execution_id!);
      const active = rows.filter((r) => r.execution_id && (r.status === 'submitted' || r.status === 'running'));
      await sequelize.query(
        `UPDATE task_executions SET status = 'canceled', failure_reason = 'canceled', cancel_requested = true,
           message = 'canceled before it started', finished_at = now(), updated_at = now()
         WHERE id = ANY($1::uuid[]) AND status = 'queued'`,
        { bind: [queued], transaction: t },
      );
      await sequelize.query(
        `UPDATE task_executions SET cancel_requested = true, updated_at = now() WHERE id = ANY($1::uuid[])`,
        { bind: [active.map((r) => r.execution_id)], transaction: t },
      );
      const planes = [...new Set(rows.map((r) => r.z))].map((z) => ({ stageId, z }));
      await notifyChange(sequelize, { type: 'states', projectId, stageIds: [stageId], planes }, t);
      return { queued, count: rows.length };
    });
    try {
      await queues.remove(stageId, queued);
    } catch (err) {
      log.warn({ err, stageId }, 'canceled jobs not removed from the queue; workers are refused them when they report');
    }
    return count;
  }
}
