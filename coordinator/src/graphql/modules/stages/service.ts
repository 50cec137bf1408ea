import { Op, QueryTypes, type Sequelize } from 'sequelize';
import {
  StageKind,
  TILE_STATUSES,
  TargetPreference,
  TileStatus,
  type StatusCounts,
  type TileStatus as TileStatusT,
} from '@tileflow/shared';
import { getModels, type StageRow, type TaskExecutionRow } from '../../../db/models/index.js';
import { notifyChange } from '../../../db/notify.js';
import type { SchedulerActions } from '../../../scheduler/contracts.js';
import { FieldErrors, isTileId, isUuid, notFound, type FieldError } from '../../errors.js';
import type { CreateStageInput, UpdateStageInput } from '../../generated/resolvers.js';
import { absolutePathProblem, nameProblem } from '../../validation.js';
import { ELIGIBLE_TILE } from '../projects/counts.js';
import { adjacentAxis, findLiveProject, hasLatticePositions } from '../projects/service.js';

export type StageResult = { stage: StageRow | null; errors: FieldError[] };

/** One tile of a stage, as Stage.tiles lists it. */
export interface StageTileRow {
  stageId: string;
  tileId: string;
  relativePath: string;
  x: number | null;
  y: number | null;
  z: number | null;
  status: TileStatusT;
  attempts: number;
  updatedAt: Date;
}

export async function findStage(sequelize: Sequelize, id: string): Promise<StageRow | null> {
  if (!isUuid(id)) return null;
  return getModels(sequelize).Stage.findByPk(id, { raw: true });
}

export async function findLiveStage(sequelize: Sequelize, id: string): Promise<StageRow | null> {
  const s = await findStage(sequelize, id);
  return s && !s.archivedAt ? s : null;
}

export async function projectStages(sequelize: Sequelize, projectId: string): Promise<StageRow[]> {
  return getModels(sequelize).Stage.findAll({
    where: { projectId, archivedAt: null },
    order: [
      ['createdAt', 'ASC'],
      ['id', 'ASC'],
    ],
    raw: true,
  });
}

export async function childStages(sequelize: Sequelize, stageId: string): Promise<StageRow[]> {
  return getModels(sequelize).Stage.findAll({
    where: { parentId: stageId, archivedAt: null },
    order: [
      ['createdAt', 'ASC'],
      ['id', 'ASC'],
    ],
    raw: true,
  });
}

/** A live definition, or a message saying why it cannot be used. */
async function definitionProblem(sequelize: Sequelize, id: string): Promise<string | null> {
  if (!isUuid(id)) return `no task definition with id "${id}": pick one from taskDefinitions`;
  const d = await getModels(sequelize).TaskDefinition.findByPk(id, { raw: true });
  if (!d) return `no task definition with id "${id}": pick one from taskDefinitions`;
  if (d.archivedAt) return `task definition "${d.name}" is archived: pick a live one`;
  return null;
}

/** Why `parentId` cannot be the parent of a stage of `projectId` (optionally: of stage `stageId`), or null. */
async function parentProblem(
  sequelize: Sequelize,
  projectId: string,
  parentId: string,
  stageId?: string,
): Promise<string | null> {
  const parent = await findStage(sequelize, parentId);
  if (!parent) return `no stage with id "${parentId}": give a stage of this project, or omit it for the root`;
  if (parent.archivedAt) return `stage "${parent.name}" is archived: choose a live parent`;
  if (parent.projectId !== projectId) {
    return `stage "${parent.name}" belongs to another project: choose a parent in the same project`;
  }
  if (stageId) {
    if (parentId === stageId) return 'a stage cannot be its own parent';
    // Walk up from the new parent: meeting the stage means the move would make a cycle.
    const [row] = await sequelize.query<{ cycle: boolean }>(
      `WITH RECURSIVE up AS (
         SELECT id, parent_id FROM stages WHERE id = $1
         UNION
         SELECT s.id, s.parent_id FROM stages s JOIN up ON s.id = up.parent_id
       )
       SELECT EXISTS (SELECT 1 FROM up WHERE id = $2) AS cycle`,
      { bind: [parentId, stageId], type: QueryTypes.SELECT },
    );
    if (row?.cycle) {
      return `stage "${parent.name}" is downstream of this stage: moving under it would make a cycle`;
    }
  }
  return null;
}

async function kindProblem(sequelize: Sequelize, projectId: string, kind: StageKind): Promise<string | null> {
  const axis = adjacentAxis(kind);
  if (!axis) return null;
  const project = await findLiveProject(sequelize, projectId);
  if (!project) return null;
  if (await hasLatticePositions(sequelize, project, axis)) return null;
  return (
    `the project's input has no lattice positions on ${axis}, so no tile has a +1 neighbour: ` +
    'use a map stage, or give the input positions (a positionPattern for a glob, x/y/z columns for a CSV)'
  );
}

export async function createStage(
  sequelize: Sequelize,
  actions: SchedulerActions,
  input: CreateStageInput,
): Promise<StageResult> {
  const errors = new FieldErrors();
  const project = await findLiveProject(sequelize, input.projectId);
  if (!project) return { stage: null, errors: [notFound('projectId', 'project', input.projectId)] };
  const name = input.name.trim();
  const np = nameProblem(name);
  if (np) errors.add('name', np);
  if (input.parentId) {
    const pp = await parentProblem(sequelize, project.id, input.parentId);
    if (pp) errors.add('parentId', pp);
  }
  const kind = input.kind ?? StageKind.Map;
  const kp = await kindProblem(sequelize, project.id, kind);
  if (kp) errors.add('kind', kp);
  const dp = await definitionProblem(sequelize, input.taskDefinitionId);
  if (dp) errors.add('taskDefinitionId', dp);
  const op = absolutePathProblem(input.outputPath);
  if (op) errors.add('outputPath', op);
  if (errors.has()) return { stage: null, errors: errors.list };

  const created = await sequelize.transaction(async (transaction) => {
    const s = await getModels(sequelize).Stage.create(
      {
        projectId: project.id,
        parentId: input.parentId || null,
        name,
        description: input.description ?? '',
        kind,
        taskDefinitionId: input.taskDefinitionId,
        outputPath: input.outputPath,
        target: input.target ?? TargetPreference.Any,
        // Read every tile the parent already completed.
        backfillAfter: '0',
      },
      { transaction },
    );
    await notifyChange(sequelize, { type: 'topology', projectId: project.id }, transaction);
    return s.get({ plain: true });
  });
  await actions.stageTopologyChanged(created.id);
  return { stage: created, errors: [] };
}

export async function updateStage(
  sequelize: Sequelize,
  actions: SchedulerActions,
  id: string,
  input: UpdateStageInput,
): Promise<StageResult> {
  const stage = await findLiveStage(sequelize, id);
  if (!stage) return { stage: null, errors: [notFound('id', 'stage', id)] };
  const errors = new FieldErrors();
  const changes: Partial<StageRow> = {};
  if (input.name != null) {
    const np = nameProblem(input.name);
    if (np) errors.add('name', np);
    changes.name = input.name.trim();
  }
  if (input.description != null) changes.description = input.description;
  if (input.kind != null && input.kind !== stage.kind) {
    const kp = await kindProblem(sequelize, stage.projectId, input.kind);
    if (kp) errors.add('kind', kp);
    changes.kind = input.kind;
    // Readiness differs per kind: recompute it from the parent's completed tiles.
    changes.backfillAfter = '0';
  }
  if (input.taskDefinitionId != null) {
    const dp = await definitionProblem(sequelize, input.taskDefinitionId);
    if (dp) errors.add('taskDefinitionId', dp);
    changes.taskDefinitionId = input.taskDefinitionId;
  }
  if (input.outputPath != null) {
    const op = absolutePathProblem(input.outputPath);
    if (op) errors.add('outputPath', op);
    changes.outputPath = input.outputPath;
  }
  if (input.target != null) changes.target = input.target;
  if (errors.has()) return { stage: null, errors: errors.list };
  const { Stage } = getModels(sequelize);
  await sequelize.transaction(async (transaction) => {
    await Stage.update(changes, { where: { id }, transaction });
    await notifyChange(sequelize, { type: 'topology', projectId: stage.projectId }, transaction);
  });
  if (changes.backfillAfter !== undefined) await actions.stageTopologyChanged(id);
  return { stage: await Stage.findByPk(id, { raw: true }), errors: [] };
}

export async function moveStage(
  sequelize: Sequelize,
  actions: SchedulerActions,
  id: string,
  parentId: string | null,
): Promise<StageResult> {
  const stage = await findLiveStage(sequelize, id);
  if (!stage) return { stage: null, errors: [notFound('id', 'stage', id)] };
  if (parentId) {
    const pp = await parentProblem(sequelize, stage.projectId, parentId, id);
    if (pp) return { stage: null, errors: [{ field: 'parentId', message: pp }] };
  }
  const { Stage } = getModels(sequelize);
  if ((stage.parentId ?? null) === (parentId ?? null)) return { stage, errors: [] };
  await sequelize.transaction(async (transaction) => {
    await Stage.update({ parentId: parentId ?? null, backfillAfter: '0' }, { where: { id }, transaction });
    await notifyChange(sequelize, { type: 'topology', projectId: stage.projectId }, transaction);
  });
  await actions.stageTopologyChanged(id);
  return { stage: await Stage.findByPk(id, { raw: true }), errors: [] };
}

/** Archives a stage; its children move up to its parent and backfill from there. */
export async function archiveStage(sequelize: Sequelize, actions: SchedulerActions, id: string): Promise<StageResult> {
  const stage = await findLiveStage(sequelize, id);
  if (!stage) return { stage: null, errors: [notFound('id', 'stage', id)] };
  const { Stage } = getModels(sequelize);
  const children = await sequelize.transaction(async (transaction) => {
    const kids = await Stage.findAll({
      where: { parentId: id, archivedAt: null },
      attributes: ['id'],
      raw: true,
      transaction,
    });
    await Stage.update(
      { parentId: stage.parentId, backfillAfter: '0' },
      { where: { id: { [Op.in]: kids.map((k) => k.id) } }, transaction },
    );
    await Stage.update({ archivedAt: new Date(), isProcessing: false }, { where: { id }, transaction });
    await notifyChange(sequelize, { type: 'topology', projectId: stage.projectId }, transaction);
    return kids.map((k) => k.id);
  });
  await actions.stageArchived(id);
  for (const child of children) await actions.stageTopologyChanged(child);
  return { stage: await Stage.findByPk(id, { raw: true }), errors: [] };
}

export async function setStageProcessing(
  sequelize: Sequelize,
  actions: SchedulerActions,
  id: string,
  processing: boolean,
): Promise<StageResult> {
  const stage = await findLiveStage(sequelize, id);
  if (!stage) return { stage: null, errors: [notFound('id', 'stage', id)] };
  const { Stage } = getModels(sequelize);
  await Stage.update({ isProcessing: processing }, { where: { id } });
  await actions.setStageProcessing(id, processing);
  return { stage: await Stage.findByPk(id, { raw: true }), errors: [] };
}

/** `%`, `_` and `\` are literal in a search: the user types a substring, not a pattern. */
const likePattern = (search: string) => `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export interface TilePageQuery {
  status?: TileStatusT | null;
  search?: string | null;
  offset: number;
  limit: number;
}

/**
 * A page of a stage's tiles, in z, y, x order. With a status other than incomplete it reads the stage's rows through
 * the (stage_id, status, z, y, x) index; incomplete and "any status" walk the project's tiles through (project_id,
 * z, y, x) and also list the eligible tiles that have no row yet (their status is incomplete). Pages stop at `limit`
 * rows. The total of one status is an index count; of incomplete and "any" it comes from the stage's counts
 * (`countsOf`, the same numbers as Stage.counts); with a search the matches are counted.
 */
export async function stageTiles(
  sequelize: Sequelize,
  stage: StageRow,
  q: TilePageQuery,
  countsOf: () => Promise<StatusCounts>,
): Promise<{ total: number; items: StageTileRow[] }> {
  const offset = Math.max(0, q.offset);
  const limit = Math.min(Math.max(0, q.limit), 1000);
  const search = q.search?.trim() ? likePattern(q.search.trim()) : null;
  type Row = {
    tile_id: string;
    relative_path: string;
    x: number | null;
    y: number | null;
    z: number | null;
    status: TileStatusT;
    attempts: number;
    updated_at: Date;
  };
  const byRows = q.status != null && q.status !== TileStatus.Incomplete;
  const onlyIncomplete = q.status === TileStatus.Incomplete;
  // The two shapes of the query: the stage's rows of one status, or the project's tiles with their row if any.
  const fromRows = `FROM stage_tile_states s JOIN tiles t ON t.id = s.tile_id
       WHERE s.stage_id = $1 AND s.status = $2 AND ($3::text IS NULL OR t.relative_path ILIKE $3)`;
  const fromTiles = `FROM tiles t
       JOIN projects p ON p.id = t.project_id
       LEFT JOIN stage_tile_states s ON s.stage_id = $1 AND s.tile_id = t.id
       WHERE t.project_id = $2 AND NOT t.is_missing
         AND (s.tile_id IS NOT NULL OR (${ELIGIBLE_TILE}))
         AND ($4::boolean IS FALSE OR s.status IS NULL OR s.status = 'incomplete')
         AND ($3::text IS NULL OR t.relative_path ILIKE $3)`;
  const bind = byRows ? [stage.id, q.status, search] : [stage.id, stage.projectId, search, onlyIncomplete];
  const n = bind.length;
  const [rows, total] = await Promise.all([
    limit === 0
      ? Promise.resolve([] as Row[])
      : sequelize.query<Row>(
          byRows
            ? `SELECT t.id::text AS tile_id, t.relative_path, s.x, s.y, s.z, s.status, s.attempts, s.updated_at
               ${fromRows} ORDER BY s.z, s.y, s.x, s.tile_id OFFSET $${n + 1} LIMIT $${n + 2}`
            : `SELECT t.id::text AS tile_id, t.relative_path, t.x, t.y, t.z,
                      coalesce(s.status, 'incomplete') AS status, coalesce(s.attempts, 0) AS attempts,
                      coalesce(s.updated_at, t.updated_at) AS updated_at
               ${fromTiles} ORDER BY t.z, t.y, t.x, t.id OFFSET $${n + 1} LIMIT $${n + 2}`,
          { bind: [...bind, offset, limit], type: QueryTypes.SELECT },
        ),
    (async () => {
      if (search) {
        const [c] = await sequelize.query<{ n: number }>(`SELECT count(*)::int AS n ${byRows ? fromRows : fromTiles}`, {
          bind,
          type: QueryTypes.SELECT,
        });
        return c?.n ?? 0;
      }
      if (byRows) {
        // One status: an index-only count over (stage_id, status, …).
        const [c] = await sequelize.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM stage_tile_states WHERE stage_id = $1 AND status = $2',
          { bind: [stage.id, q.status], type: QueryTypes.SELECT },
        );
        return c?.n ?? 0;
      }
      const counts = await countsOf();
      if (q.status) return counts[q.status];
      return TILE_STATUSES.reduce((sum, st) => sum + counts[st], 0);
    })(),
  ]);
  return {
    total,
    items: rows.map((r) => ({
      stageId: stage.id,
      tileId: r.tile_id,
      relativePath: r.relative_path,
      x: r.x,
      y: r.y,
      z: r.z,
      status: r.status,
      attempts: r.attempts,
      updatedAt: r.updated_at,
    })),
  };
}

/** Every attempt of one tile in one stage, newest first. */
export async function tileExecutions(
  sequelize: Sequelize,
  stageId: string,
  tileId: string,
): Promise<TaskExecutionRow[]> {
  if (!isUuid(stageId) || !isTileId(tileId)) return [];
  return getModels(sequelize).TaskExecution.findAll({
    where: { stageId, tileId },
    order: [['attempt', 'DESC']],
    raw: true,
  });
}
