import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { StageKind, TargetPreference } from '@tileflow/shared';

/** What the scheduler needs to know of a project. */
export interface ProjectView {
  id: string;
  name: string;
  rootPath: string;
  logRootPath: string | null;
  isProcessing: boolean;
  parameters: Record<string, string>;
  skipZ: number[];
  extent: Bounds;
  roi: Bounds;
}

export interface Bounds {
  minX: number | null;
  maxX: number | null;
  minY: number | null;
  maxY: number | null;
  minZ: number | null;
  maxZ: number | null;
}

/** A live (not archived) stage with its task definition. */
export interface StageView {
  id: string;
  projectId: string;
  parentId: string | null;
  name: string;
  kind: StageKind;
  outputPath: string;
  target: TargetPreference;
  isProcessing: boolean;
  backfillAfter: string | null;
  definition: {
    id: string;
    script: string;
    args: string[];
    expectedExitCode: number;
    localWorkUnits: number;
    clusterWorkUnits: number;
    clusterOptions: Record<string, unknown>;
    timeoutSeconds: number | null;
    maxRetries: number;
    retryBackoffSeconds: number;
  };
}

interface ProjectRow {
  id: string;
  name: string;
  root_path: string;
  log_root_path: string | null;
  is_processing: boolean;
  parameters: Record<string, string> | Array<{ key: string; value: string }>;
  skip_z: number[];
  extent_min_x: number | null;
  extent_max_x: number | null;
  extent_min_y: number | null;
  extent_max_y: number | null;
  extent_min_z: number | null;
  extent_max_z: number | null;
  roi_min_x: number | null;
  roi_max_x: number | null;
  roi_min_y: number | null;
  roi_max_y: number | null;
  roi_min_z: number | null;
  roi_max_z: number | null;
}

/** Project parameters are stored as an object (key → value); a list of {key, value} is accepted too. */
export function parametersOf(raw: ProjectRow['parameters']): Record<string, string> {
  if (Array.isArray(raw)) return Object.fromEntries(raw.map((p) => [p.key, String(p.value)]));
  return Object.fromEntries(Object.entries(raw ?? {}).map(([k, v]) => [k, String(v)]));
}

function toProject(r: ProjectRow): ProjectView {
  return {
    id: r.id,
    name: r.name,
    rootPath: r.root_path,
    logRootPath: r.log_root_path,
    isProcessing: r.is_processing,
    parameters: parametersOf(r.parameters),
    skipZ: r.skip_z ?? [],
    extent: {
      minX: r.extent_min_x,
      maxX: r.extent_max_x,
      minY: r.extent_min_y,
      maxY: r.extent_max_y,
      minZ: r.extent_min_z,
      maxZ: r.extent_max_z,
    },
    roi: {
      minX: r.roi_min_x,
      maxX: r.roi_max_x,
      minY: r.roi_min_y,
      maxY: r.roi_max_y,
      minZ: r.roi_min_z,
      maxZ: r.roi_max_z,
    },
  };
}

export async function loadProject(sequelize: Sequelize, projectId: string, transaction?: Transaction) {
  const rows = await sequelize.query<ProjectRow>('SELECT * FROM projects WHERE id = $1 AND archived_at IS NULL', {
    bind: [projectId],
    type: QueryTypes.SELECT,
    transaction,
  });
  return rows[0] ? toProject(rows[0]) : undefined;
}

/** Ids of the projects that are not archived. */
export async function liveProjectIds(sequelize: Sequelize): Promise<string[]> {
  const rows = await sequelize.query<{ id: string }>('SELECT id FROM projects WHERE archived_at IS NULL', {
    type: QueryTypes.SELECT,
  });
  return rows.map((r) => r.id);
}

interface StageRow {
  id: string;
  project_id: string;
  parent_id: string | null;
  name: string;
  kind: StageKind;
  output_path: string;
  target: TargetPreference;
  is_processing: boolean;
  backfill_after: string | null;
  def_id: string;
  script: string;
  location: string | null;
  args: string[];
  expected_exit_code: number;
  local_work_units: number;
  cluster_work_units: number;
  cluster_options: Record<string, unknown>;
  timeout_seconds: number | null;
  max_retries: number;
  retry_backoff_seconds: number;
}

const STAGE_SELECT = `
  SELECT s.id, s.project_id, s.parent_id, s.name, s.kind, s.output_path, s.target, s.is_processing,
         s.backfill_after::text AS backfill_after,
         d.id AS def_id, d.script, r.location, d.args, d.expected_exit_code, d.local_work_units,
         d.cluster_work_units, d.cluster_options, d.timeout_seconds, d.max_retries, d.retry_backoff_seconds
  FROM stages s
  JOIN task_definitions d ON d.id = s.task_definition_id
  LEFT JOIN task_repositories r ON r.id = d.repository_id`;

/** Absolute path of a definition's script: relative scripts live in their repository's folder. */
export function scriptPathOf(script: string, location: string | null): string {
  if (script.startsWith('/') || !location) return script;
  return `${location.replace(/\/+$/, '')}/${script}`;
}

function toStage(r: StageRow): StageView {
  return {
    id: r.id,
    projectId: r.project_id,
    parentId: r.parent_id,
    name: r.name,
    kind: r.kind,
    outputPath: r.output_path,
    target: r.target,
    isProcessing: r.is_processing,
    backfillAfter: r.backfill_after,
    definition: {
      id: r.def_id,
      script: scriptPathOf(r.script, r.location),
      args: r.args ?? [],
      expectedExitCode: r.expected_exit_code,
      localWorkUnits: Number(r.local_work_units),
      clusterWorkUnits: Number(r.cluster_work_units),
      clusterOptions: r.cluster_options ?? {},
      timeoutSeconds: r.timeout_seconds,
      maxRetries: r.max_retries,
      retryBackoffSeconds: Number(r.retry_backoff_seconds),
    },
  };
}

/** The live stages of a project. */
export async function loadStages(sequelize: Sequelize, projectId: string, transaction?: Transaction) {
  const rows = await sequelize.query<StageRow>(`${STAGE_SELECT} WHERE s.project_id = $1 AND s.archived_at IS NULL`, {
    bind: [projectId],
    type: QueryTypes.SELECT,
    transaction,
  });
  return rows.map(toStage);
}

export async function loadStage(sequelize: Sequelize, stageId: string, transaction?: Transaction) {
  const rows = await sequelize.query<StageRow>(`${STAGE_SELECT} WHERE s.id = $1`, {
    bind: [stageId],
    type: QueryTypes.SELECT,
    transaction,
  });
  return rows[0] ? toStage(rows[0]) : undefined;
}

/** Stages that may dispatch now: live, processing, in a processing project; downstream stages first. */
export async function processingStages(sequelize: Sequelize): Promise<StageView[]> {
  const rows = await sequelize.query<StageRow & { depth: number }>(
    `WITH RECURSIVE tree AS (
       SELECT id, 0 AS depth FROM stages WHERE parent_id IS NULL AND archived_at IS NULL
       UNION ALL
       SELECT s.id, t.depth + 1 FROM stages s JOIN tree t ON s.parent_id = t.id WHERE s.archived_at IS NULL
     )
     ${STAGE_SELECT}
     JOIN projects p ON p.id = s.project_id
     JOIN tree ON tree.id = s.id
     WHERE s.archived_at IS NULL AND s.is_processing AND p.is_processing AND p.archived_at IS NULL
     ORDER BY tree.depth DESC, s.created_at`,
    { type: QueryTypes.SELECT },
  );
  return rows.map(toStage);
}
