/**
 * The demo: a task repository of scripts that really work on a tile (checksum, downsample, compare with the z+1
 * neighbour), one project on a synthetic acquisition, and three stages, one of them z-adjacent:
 *   input → checksum (map) → downsample (map) → compare-z (adjacent z)
 * Idempotent: a second run finds the rows by name and changes nothing.
 */
import path from 'node:path';
import { QueryTypes, type Sequelize } from 'sequelize';

export interface DemoOptions {
  /** Folder holding checksum.sh, downsample.sh and compare-z.sh. */
  taskRoot: string;
  /** The acquisition folder (pipeline-input.json inside). */
  acquisitionRoot: string;
  /** Where stage outputs and logs go. */
  outputRoot: string;
  projectName?: string;
  /** Start processing right away. */
  start?: boolean;
}

export interface DemoIds {
  repositoryId: string;
  projectId: string;
  stageIds: { checksum: string; downsample: string; compareZ: string };
  created: boolean;
}

type Tx = import('sequelize').Transaction;

async function one<T extends object>(
  sequelize: Sequelize,
  sql: string,
  bind: unknown[],
  t: Tx,
): Promise<T | undefined> {
  const rows = await sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT, transaction: t });
  return rows[0];
}

/** INSERT ... RETURNING id: always one row. */
async function insert(sequelize: Sequelize, sql: string, bind: unknown[], t: Tx): Promise<{ id: string }> {
  const row = await one<{ id: string }>(sequelize, sql, bind, t);
  if (!row) throw new Error(`insert returned no row: ${sql.slice(0, 60)}`);
  return row;
}

export async function seedDemo(sequelize: Sequelize, o: DemoOptions): Promise<DemoIds> {
  const name = o.projectName ?? 'demo';
  return sequelize.transaction(async (t) => {
    const existing = await one<{ id: string }>(
      sequelize,
      'SELECT id FROM projects WHERE name = $1 AND archived_at IS NULL',
      [name],
      t,
    );
    let repo = await one<{ id: string }>(
      sequelize,
      'SELECT id FROM task_repositories WHERE name = $1 AND archived_at IS NULL',
      ['demo'],
      t,
    );
    repo ??= await insert(
      sequelize,
      `INSERT INTO task_repositories (name, location, description) VALUES ('demo', $1,
         'Sample scripts that work on synthetic tiles') RETURNING id`,
      [o.taskRoot],
      t,
    );
    const repoId = repo.id;
    const def = async (defName: string, script: string, args: string[]) =>
      (await one<{ id: string }>(
        sequelize,
        'SELECT id FROM task_definitions WHERE repository_id = $1 AND name = $2 AND archived_at IS NULL',
        [repoId, defName],
        t,
      )) ??
      (await insert(
        sequelize,
        `INSERT INTO task_definitions (repository_id, name, script, args, max_retries, retry_backoff_seconds,
           timeout_seconds) VALUES ($1, $2, $3, $4, 2, 1, 600) RETURNING id`,
        [repoId, defName, script, args],
        t,
      ));
    const checksum = await def('checksum', 'checksum.sh', []);
    const downsample = await def('downsample', 'downsample.sh', ['${PROJECT_ROOT}', '4']);
    const compare = await def('compare-z', 'compare-z.sh', []);
    if (existing) {
      const stages = await sequelize.query<{ id: string; name: string }>(
        'SELECT id, name FROM stages WHERE project_id = $1 AND archived_at IS NULL',
        { bind: [existing.id], type: QueryTypes.SELECT, transaction: t },
      );
      const idOf = (n: string) => stages.find((s) => s.name === n)?.id ?? '';
      return {
        repositoryId: repo.id,
        projectId: existing.id,
        stageIds: { checksum: idOf('checksum'), downsample: idOf('downsample'), compareZ: idOf('compare-z') },
        created: false,
      };
    }
    const project = await insert(
      sequelize,
      `INSERT INTO projects (name, description, root_path, log_root_path, input_kind, is_processing)
       VALUES ($1, 'Synthetic acquisition processed by three demo stages', $2, $3, 'pipeline-json', $4) RETURNING id`,
      [name, o.acquisitionRoot, path.join(o.outputRoot, 'logs'), o.start ?? false],
      t,
    );
    const stage = async (stageName: string, parentId: string | null, kind: string, defId: string) =>
      (
        await insert(
          sequelize,
          `INSERT INTO stages (project_id, parent_id, name, kind, task_definition_id, output_path, backfill_after)
           VALUES ($1, $2, $3, $4, $5, $6, 0) RETURNING id`,
          [project.id, parentId, stageName, kind, defId, path.join(o.outputRoot, stageName)],
          t,
        )
      ).id;
    const s1 = await stage('checksum', null, 'map', checksum.id);
    const s2 = await stage('downsample', s1, 'map', downsample.id);
    const s3 = await stage('compare-z', s2, 'adjacent-z', compare.id);
    return {
      repositoryId: repo.id,
      projectId: project.id,
      stageIds: { checksum: s1, downsample: s2, compareZ: s3 },
      created: true,
    };
  });
}
