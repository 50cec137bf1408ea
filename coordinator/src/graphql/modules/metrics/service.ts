import { QueryTypes, type Sequelize } from 'sequelize';
import { TILE_STATUSES, WorkerStatus, type StatusCounts } from '@tileflow/shared';
import { emptyCounts, projectStageCounts } from '../projects/counts.js';

export interface DashboardData {
  projects: number;
  activeProjects: number;
  workersOnline: number;
  tilesByStatus: StatusCounts;
  throughputPerMinute: number;
}

/** Totals over the live projects: counts are summed per project (each one GROUP BY) and executions of the last minute. */
export async function dashboard(sequelize: Sequelize): Promise<DashboardData> {
  const [projects, workers, throughput] = await Promise.all([
    sequelize.query<{ id: string; is_processing: boolean }>(
      'SELECT id, is_processing FROM projects WHERE archived_at IS NULL',
      { type: QueryTypes.SELECT },
    ),
    sequelize.query<{ n: number }>(`SELECT count(*)::int AS n FROM workers WHERE status NOT IN ($1, $2)`, {
      bind: [WorkerStatus.Stopped, WorkerStatus.Unavailable],
      type: QueryTypes.SELECT,
    }),
    // Uses task_executions (stage_id, finished_at): one index range per live stage.
    sequelize.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM task_executions e
       WHERE e.stage_id IN (SELECT id FROM stages WHERE archived_at IS NULL)
         AND e.finished_at > now() - interval '1 minute'`,
      { type: QueryTypes.SELECT },
    ),
  ]);
  const tilesByStatus = emptyCounts();
  for (const p of projects) {
    const counts = await projectStageCounts(sequelize, p.id);
    for (const s of counts.stages) for (const status of TILE_STATUSES) tilesByStatus[status] += s.counts[status];
  }
  return {
    projects: projects.length,
    activeProjects: projects.filter((p) => p.is_processing).length,
    workersOnline: workers[0]?.n ?? 0,
    tilesByStatus,
    throughputPerMinute: throughput[0]?.n ?? 0,
  };
}
