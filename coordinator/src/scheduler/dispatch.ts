/**
 * Dispatch: moves ready tiles of a stage (status incomplete, due) to queued, recording an execution for each in the
 * same transaction, then hands them to the stage's BullMQ queue with the execution id as job id. If Redis loses
 * them (flush, crash), the recovery sweep re-adds every queued execution that has no job: Postgres stays the truth.
 */
import path from 'node:path';
import { QueryTypes, type Sequelize } from 'sequelize';
import { StageKind, resolveUnder, standardParameters, type TaskSpec } from '@tileflow/shared';
import type { ProjectView, StageView } from './topology.js';
import { nextPosition } from './readiness.js';
import type { Queues } from './queues.js';

/** What building a spec needs of a tile. */
export interface TileRow {
  tile_id: string;
  relative_path: string;
  tile_name: string;
  x: number | null;
  y: number | null;
  z: number | null;
  step_x: number | null;
  step_y: number | null;
  step_z: number | null;
}

interface ReadyRow extends TileRow {
  attempts: number;
}

/** Folder of a stage's execution logs: under the project's log root, or the stage's output folder. */
export function logDirOf(project: ProjectView, stage: StageView): string {
  const root = project.logRootPath ?? path.join(stage.outputPath, '.tileflow-logs');
  return resolveUnder(root, `stage-${stage.id}`);
}

/** Where the parent's output is: the parent stage's output folder, or the acquisition root for root children. */
export function sourcePathOf(project: ProjectView, parent: StageView | undefined): string {
  return parent ? parent.outputPath : project.rootPath;
}

/** Builds the spec a worker runs. Only paths under their roots make it here (resolveUnder throws otherwise). */
export function buildSpec(
  project: ProjectView,
  stage: StageView,
  parent: StageView | undefined,
  row: TileRow,
  executionId: string,
  attempt: number,
  adjacent: { relativePath: string; tileName: string } | undefined,
): TaskSpec {
  const src = sourcePathOf(project, parent);
  resolveUnder(src, row.relative_path);
  resolveUnder(stage.outputPath, row.relative_path);
  const d = stage.definition;
  return {
    executionId,
    projectId: project.id,
    stageId: stage.id,
    tileId: row.tile_id,
    attempt,
    script: d.script,
    baseArgs: [src, stage.outputPath, row.relative_path, row.tile_name],
    args: d.args,
    parameters: standardParameters(
      {
        projectName: project.name,
        projectRoot: project.rootPath,
        logFile: '',
        x: row.x,
        y: row.y,
        z: row.z,
        stepX: row.step_x,
        stepY: row.step_y,
        stepZ: row.step_z,
        expectedExitCode: d.expectedExitCode,
        isClusterJob: false,
        taskId: d.id,
        adjacentTileRelativePath: adjacent?.relativePath ?? null,
        adjacentTileName: adjacent?.tileName ?? null,
      },
      project.parameters,
    ),
    expectedExitCode: d.expectedExitCode,
    localWorkUnits: d.localWorkUnits,
    clusterWorkUnits: d.clusterWorkUnits,
    clusterOptions: d.clusterOptions,
    timeoutSeconds: d.timeoutSeconds,
    target: stage.target,
    logDir: logDirOf(project, stage),
    workingDir: stage.outputPath,
  };
}

/** The +1 neighbours of adjacent-stage tiles, by position. */
export async function neighboursOf(
  sequelize: Sequelize,
  project: ProjectView,
  stage: StageView,
  rows: TileRow[],
): Promise<Map<string, { relativePath: string; tileName: string }>> {
  const out = new Map<string, { relativePath: string; tileName: string }>();
  if (stage.kind === StageKind.Map) return out;
  const wanted: Array<{ tileId: string; x: number; y: number; z: number }> = [];
  for (const r of rows) {
    if (r.x === null || r.y === null || r.z === null) continue;
    const n = nextPosition(stage.kind, { x: r.x, y: r.y, z: r.z }, project);
    if (n) wanted.push({ tileId: r.tile_id, ...n });
  }
  if (wanted.length === 0) return out;
  const found = await sequelize.query<{ x: number; y: number; z: number; relative_path: string; tile_name: string }>(
    `SELECT t.x, t.y, t.z, t.relative_path, t.tile_name
     FROM tiles t JOIN unnest($2::int[], $3::int[], $4::int[]) AS p(x, y, z) ON t.x = p.x AND t.y = p.y AND t.z = p.z
     WHERE t.project_id = $1`,
    {
      bind: [project.id, wanted.map((w) => w.x), wanted.map((w) => w.y), wanted.map((w) => w.z)],
      type: QueryTypes.SELECT,
    },
  );
  const byPos = new Map(found.map((f) => [`${f.x},${f.y},${f.z}`, f]));
  for (const w of wanted) {
    const f = byPos.get(`${w.x},${w.y},${w.z}`);
    if (f) out.set(w.tileId, { relativePath: f.relative_path, tileName: f.tile_name });
  }
  return out;
}

export interface DispatchResult {
  queued: number;
  /** Tiles whose paths left their roots: marked failed with the reason. */
  refused: number;
  planes: Set<number | null>;
}

/**
 * Queues up to `room` ready tiles of one stage, in z, y, x order (planes of a live acquisition finish in order).
 */
export async function dispatchStage(
  sequelize: Sequelize,
  queues: Queues,
  project: ProjectView,
  stage: StageView,
  parent: StageView | undefined,
  room: number,
): Promise<DispatchResult> {
  const result: DispatchResult = { queued: 0, refused: 0, planes: new Set() };
  if (room <= 0) return result;
  const specs = await sequelize.transaction(async (t) => {
    const rows = await sequelize.query<ReadyRow>(
      `SELECT s.tile_id::text, s.attempts, t.relative_path, t.tile_name, t.x, t.y, t.z, t.step_x, t.step_y, t.step_z
       FROM stage_tile_states s JOIN tiles t ON t.id = s.tile_id
       WHERE s.stage_id = $1 AND s.status = 'incomplete' AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= now())
       ORDER BY s.z, s.y, s.x LIMIT $2 FOR NO KEY UPDATE OF s SKIP LOCKED`,
      { bind: [stage.id, room], type: QueryTypes.SELECT, transaction: t },
    );
    if (rows.length === 0) return [];
    const adjacent = await neighboursOf(sequelize, project, stage, rows);
    const ids = await sequelize.query<{ id: string }>(
      'SELECT gen_random_uuid()::text AS id FROM generate_series(1, $1)',
      { bind: [rows.length], type: QueryTypes.SELECT, transaction: t },
    );
    const specs: TaskSpec[] = [];
    const refused: Array<{ tileId: string; message: string }> = [];
    rows.forEach((row, i) => {
      try {
        specs.push(buildSpec(project, stage, parent, row, ids[i].id, row.attempts + 1, adjacent.get(row.tile_id)));
        result.planes.add(row.z);
      } catch (err) {
        refused.push({ tileId: row.tile_id, message: (err as Error).message });
      }
    });
    if (specs.length > 0) {
      await sequelize.query(
        `INSERT INTO task_executions (id, project_id, stage_id, tile_id, task_definition_id, attempt, expected_exit_code)
         SELECT e.id, $1, $2, e.tile_id, $3, e.attempt, $4
         FROM unnest($5::uuid[], $6::bigint[], $7::int[]) AS e(id, tile_id, attempt)`,
        {
          bind: [
            project.id,
            stage.id,
            stage.definition.id,
            stage.definition.expectedExitCode,
            specs.map((s) => s.executionId),
            specs.map((s) => s.tileId),
            specs.map((s) => s.attempt),
          ],
          transaction: t,
        },
      );
      await sequelize.query(
        `UPDATE stage_tile_states s SET status = 'queued', attempts = e.attempt, current_execution_id = e.id,
                next_attempt_at = NULL, updated_at = now()
         FROM unnest($2::uuid[], $3::bigint[], $4::int[]) AS e(id, tile_id, attempt)
         WHERE s.stage_id = $1 AND s.tile_id = e.tile_id`,
        {
          bind: [stage.id, specs.map((s) => s.executionId), specs.map((s) => s.tileId), specs.map((s) => s.attempt)],
          transaction: t,
        },
      );
    }
    for (const r of refused) {
      const [exec] = await sequelize.query<{ id: string }>(
        `INSERT INTO task_executions (project_id, stage_id, tile_id, task_definition_id, attempt, status,
           failure_reason, message, finished_at)
         SELECT $1, $2, $3, $4, attempts + 1, 'failed', 'submit-failed', $5, now()
         FROM stage_tile_states WHERE stage_id = $2 AND tile_id = $3 RETURNING id`,
        {
          bind: [project.id, stage.id, r.tileId, stage.definition.id, r.message],
          type: QueryTypes.SELECT,
          transaction: t,
        },
      );
      await sequelize.query(
        `UPDATE stage_tile_states SET status = 'failed', attempts = attempts + 1, current_execution_id = $3,
                updated_at = now() WHERE stage_id = $1 AND tile_id = $2`,
        { bind: [stage.id, r.tileId, exec.id], transaction: t },
      );
    }
    result.refused = refused.length;
    return specs;
  });
  if (specs.length > 0) {
    // After commit: if this fails (Redis down), the rows stay queued and the recovery sweep adds them later.
    await queues.add(stage.id, specs);
  }
  result.queued = specs.length;
  return result;
}

/**
 * For each stage: how many of its tiles are queued now (bounded by the dispatch window, so the count is cheap), and
 * whether any is ready and due. One query for all of a project's stages; stages with nothing to do cost nothing more.
 */
export async function dispatchCandidates(
  sequelize: Sequelize,
  stageIds: string[],
): Promise<Map<string, { queued: number; ready: boolean }>> {
  if (stageIds.length === 0) return new Map();
  const rows = await sequelize.query<{ id: string; queued: number; ready: boolean }>(
    `SELECT s.id,
       (SELECT count(*)::int FROM stage_tile_states q WHERE q.stage_id = s.id AND q.status = 'queued') AS queued,
       EXISTS (SELECT 1 FROM stage_tile_states r WHERE r.stage_id = s.id AND r.status = 'incomplete'
               AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now())) AS ready
     FROM unnest($1::uuid[]) AS s(id)`,
    { bind: [stageIds], type: QueryTypes.SELECT },
  );
  return new Map(rows.map((r) => [r.id, { queued: r.queued, ready: r.ready }]));
}
