/**
 * Tile counts and planes of a project, cheap at a million tiles: one GROUP BY over stage_tile_states (index
 * stage_id, status, …) and one count over the project's tiles. A tile without a row in a stage is incomplete there,
 * so `incomplete` = eligible tiles − the stage's rows in every other status.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import { TILE_STATUSES, TileStatus, type StatusCounts } from '@tileflow/shared';

/**
 * SQL condition: tile `t` of project `p` lies in the region of interest and not on a skipped plane. The same rule as
 * the scheduler's readiness: with a bound set, a tile without that coordinate is outside.
 */
export const ELIGIBLE_TILE = `
  (p.roi_min_x IS NULL OR t.x >= p.roi_min_x) AND (p.roi_max_x IS NULL OR t.x <= p.roi_max_x) AND
  (p.roi_min_y IS NULL OR t.y >= p.roi_min_y) AND (p.roi_max_y IS NULL OR t.y <= p.roi_max_y) AND
  (p.roi_min_z IS NULL OR t.z >= p.roi_min_z) AND (p.roi_max_z IS NULL OR t.z <= p.roi_max_z) AND
  (t.z IS NULL OR NOT (t.z = ANY(p.skip_z)))`;

export interface TileTotals {
  /** Recorded items that are not missing. */
  tiles: number;
  /** Of those, the ones inside the region of interest and not on a skipped plane. */
  eligible: number;
}

/** Counts a project's tiles in one pass. */
export async function tileTotals(sequelize: Sequelize, projectId: string): Promise<TileTotals> {
  const [row] = await sequelize.query<{ tiles: number; eligible: number }>(
    `SELECT count(*)::int AS tiles, (count(*) FILTER (WHERE ${ELIGIBLE_TILE}))::int AS eligible
     FROM tiles t JOIN projects p ON p.id = t.project_id
     WHERE t.project_id = $1 AND NOT t.is_missing`,
    { bind: [projectId], type: QueryTypes.SELECT },
  );
  return { tiles: row?.tiles ?? 0, eligible: row?.eligible ?? 0 };
}

export const emptyCounts = (): StatusCounts => Object.fromEntries(TILE_STATUSES.map((s) => [s, 0])) as StatusCounts;

export interface ProjectCounts extends TileTotals {
  stages: Array<{ stageId: string; counts: StatusCounts }>;
}

/** Ids of a project's live stages, oldest first (the order of Project.stages). */
export async function liveStageIds(sequelize: Sequelize, projectId: string): Promise<string[]> {
  const rows = await sequelize.query<{ id: string }>(
    'SELECT id FROM stages WHERE project_id = $1 AND archived_at IS NULL ORDER BY created_at, id',
    { bind: [projectId], type: QueryTypes.SELECT },
  );
  return rows.map((r) => r.id);
}

/**
 * The rows of each stage per status (one GROUP BY over the (stage_id, status, …) index). `incomplete` is left at 0:
 * it is derived from the eligible tiles by {@link withIncomplete}.
 */
export async function stageStatusRows(sequelize: Sequelize, stageIds: string[]): Promise<Map<string, StatusCounts>> {
  const byStage = new Map(stageIds.map((id) => [id, emptyCounts()]));
  if (stageIds.length === 0) return byStage;
  const rows = await sequelize.query<{ stage_id: string; status: TileStatus; n: number }>(
    `SELECT stage_id, status, count(*)::int AS n FROM stage_tile_states
     WHERE stage_id = ANY($1::uuid[]) GROUP BY stage_id, status`,
    { bind: [stageIds], type: QueryTypes.SELECT },
  );
  for (const r of rows) {
    const c = byStage.get(r.stage_id);
    if (c && r.status !== TileStatus.Incomplete) c[r.status] = r.n;
  }
  return byStage;
}

/** A stage's counts with `incomplete` = eligible tiles minus its rows in every other status (never below 0). */
export function withIncomplete(rows: StatusCounts, eligible: number): StatusCounts {
  const other = TILE_STATUSES.filter((s) => s !== TileStatus.Incomplete).reduce((sum, s) => sum + rows[s], 0);
  return { ...rows, incomplete: Math.max(0, eligible - other) };
}

/**
 * Counts per status of every live stage of a project (or of `stageIds`). `totals` may be passed when the caller
 * already knows them (the realtime aggregator recounts tiles only when the input changed).
 */
export async function projectStageCounts(
  sequelize: Sequelize,
  projectId: string,
  opts: { totals?: TileTotals; stageIds?: string[] } = {},
): Promise<ProjectCounts> {
  const [stageIds, known] = await Promise.all([
    opts.stageIds ? Promise.resolve(opts.stageIds) : liveStageIds(sequelize, projectId),
    opts.totals ? Promise.resolve(opts.totals) : tileTotals(sequelize, projectId),
  ]);
  const rows = await stageStatusRows(sequelize, stageIds);
  return {
    ...known,
    stages: stageIds.map((stageId) => ({ stageId, counts: withIncomplete(rows.get(stageId)!, known.eligible) })),
  };
}

/** The z values that have tiles, by a loose index scan over tiles (project_id, z, …): one probe per plane. */
export async function projectPlanes(sequelize: Sequelize, projectId: string): Promise<number[]> {
  const rows = await sequelize.query<{ z: number }>(
    `WITH RECURSIVE zs(z) AS (
       (SELECT z FROM tiles WHERE project_id = $1 AND z IS NOT NULL ORDER BY z LIMIT 1)
       UNION ALL
       SELECT (SELECT t.z FROM tiles t WHERE t.project_id = $1 AND t.z > zs.z ORDER BY t.z LIMIT 1)
       FROM zs WHERE zs.z IS NOT NULL
     )
     SELECT z FROM zs WHERE z IS NOT NULL`,
    { bind: [projectId], type: QueryTypes.SELECT },
  );
  return rows.map((r) => r.z);
}

export interface PlaneTile {
  tileId: string;
  x: number | null;
  y: number | null;
  relativePath: string;
  statuses: TileStatus[];
}

/**
 * Every tile of one plane with its status in each of `stageIds` (in that order): the plane's tiles LEFT JOIN each
 * stage's state by primary key; no row means incomplete.
 */
export async function projectPlane(
  sequelize: Sequelize,
  projectId: string,
  z: number,
  stageIds: string[],
): Promise<PlaneTile[]> {
  const rows = await sequelize.query<{
    tile_id: string;
    x: number | null;
    y: number | null;
    relative_path: string;
    statuses: TileStatus[] | null;
  }>(
    `SELECT t.id::text AS tile_id, t.x, t.y, t.relative_path,
            ARRAY(SELECT coalesce(s.status, 'incomplete')
                  FROM unnest($3::uuid[]) WITH ORDINALITY AS st(id, ord)
                  LEFT JOIN stage_tile_states s ON s.stage_id = st.id AND s.tile_id = t.id
                  ORDER BY st.ord) AS statuses
     FROM tiles t
     WHERE t.project_id = $1 AND t.z = $2 AND NOT t.is_missing
     ORDER BY t.y, t.x, t.id`,
    { bind: [projectId, z, stageIds], type: QueryTypes.SELECT },
  );
  return rows.map((r) => ({
    tileId: r.tile_id,
    x: r.x,
    y: r.y,
    relativePath: r.relative_path,
    statuses: r.statuses ?? [],
  }));
}
