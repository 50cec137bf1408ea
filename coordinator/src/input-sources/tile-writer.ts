import { QueryTypes, type Sequelize } from 'sequelize';
import { notifyChange } from '../db/notify.js';
import { fingerprintText } from './item.js';
import type { InputItem } from './types.js';

/** What one writing transaction changed, for the change notice and the poll report. */
export interface WriteResult {
  /** Rows inserted or updated. */
  changed: number;
  /** Distinct z of those rows (null for tiles without a position). */
  planes: Array<number | null>;
}

/**
 * Inserts or updates one batch of tiles in one statement and one transaction, with its change notice.
 *
 * Arrays are bound per column and expanded with `unnest`, so that a batch of 5,000 rows is one statement with 12
 * parameters (a VALUES list would need 14 per row and hit PostgreSQL's 65,535-parameter limit).
 * - A row whose fingerprint is unchanged and that is not missing is not touched (the WHERE of DO UPDATE).
 * - `is_missing` is cleared: the item is in the input again.
 * - `propagate` is set when the tile is new and complete, or turns complete; it stays set (unread by the scheduler)
 *   while the tile stays complete, and is cleared if the input says the tile is incomplete again before the
 *   scheduler read it.
 */
export async function upsertTiles(
  sequelize: Sequelize,
  projectId: string,
  rows: ReadonlyArray<{ item: InputItem; fingerprint: number }>,
): Promise<WriteResult> {
  const n = rows.length;
  if (n === 0) return { changed: 0, planes: [] };
  const paths = new Array<string>(n);
  const names = new Array<string>(n);
  const xs = new Array<number | null>(n);
  const ys = new Array<number | null>(n);
  const zs = new Array<number | null>(n);
  const sxs = new Array<number | null>(n);
  const sys = new Array<number | null>(n);
  const szs = new Array<number | null>(n);
  const complete = new Array<boolean>(n);
  const userData = new Array<string>(n);
  const fps = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const { item, fingerprint } = rows[i];
    paths[i] = item.relativePath;
    names[i] = item.tileName;
    xs[i] = item.x;
    ys[i] = item.y;
    zs[i] = item.z;
    sxs[i] = item.stepX;
    sys[i] = item.stepY;
    szs[i] = item.stepZ;
    complete[i] = item.isComplete;
    userData[i] = JSON.stringify(item.userData);
    fps[i] = fingerprintText(fingerprint);
  }
  return sequelize.transaction(async (transaction) => {
    const result = await sequelize.query<{ z: number | null }>(
      `INSERT INTO tiles AS t (project_id, relative_path, tile_name, x, y, z, step_x, step_y, step_z,
                               is_complete, propagate, user_data, fingerprint)
       SELECT $1::uuid, u.relative_path, u.tile_name, u.x, u.y, u.z, u.step_x, u.step_y, u.step_z,
              u.is_complete, u.is_complete, u.user_data::jsonb, u.fingerprint
         FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::int[],
                     $7::float8[], $8::float8[], $9::float8[], $10::boolean[], $11::text[], $12::text[])
           AS u(relative_path, tile_name, x, y, z, step_x, step_y, step_z, is_complete, user_data, fingerprint)
       ON CONFLICT (project_id, relative_path) DO UPDATE SET
         tile_name = EXCLUDED.tile_name,
         x = EXCLUDED.x, y = EXCLUDED.y, z = EXCLUDED.z,
         step_x = EXCLUDED.step_x, step_y = EXCLUDED.step_y, step_z = EXCLUDED.step_z,
         propagate = CASE WHEN EXCLUDED.is_complete THEN t.propagate OR NOT t.is_complete ELSE false END,
         is_complete = EXCLUDED.is_complete,
         is_missing = false,
         user_data = EXCLUDED.user_data,
         fingerprint = EXCLUDED.fingerprint,
         updated_at = now()
       WHERE t.fingerprint IS DISTINCT FROM EXCLUDED.fingerprint OR t.is_missing
       RETURNING t.z`,
      {
        bind: [projectId, paths, names, xs, ys, zs, sxs, sys, szs, complete, userData, fps],
        type: QueryTypes.SELECT,
        transaction,
      },
    );
    const planes = distinctPlanes(result);
    if (result.length > 0) {
      await notifyChange(sequelize, { type: 'tiles', projectId, changed: result.length, planes }, transaction);
    }
    return { changed: result.length, planes };
  });
}

/** Marks tiles that left the input as missing (never deletes them), with the change notice, in one transaction. */
export async function markMissing(
  sequelize: Sequelize,
  projectId: string,
  paths: readonly string[],
): Promise<WriteResult> {
  if (paths.length === 0) return { changed: 0, planes: [] };
  return sequelize.transaction(async (transaction) => {
    const result = await sequelize.query<{ z: number | null }>(
      `UPDATE tiles SET is_missing = true, updated_at = now()
        WHERE project_id = $1 AND relative_path = ANY($2::text[]) AND NOT is_missing
        RETURNING z`,
      { bind: [projectId, paths], type: QueryTypes.SELECT, transaction },
    );
    const planes = distinctPlanes(result);
    if (result.length > 0) {
      await notifyChange(sequelize, { type: 'tiles', projectId, changed: result.length, planes }, transaction);
    }
    return { changed: result.length, planes };
  });
}

function distinctPlanes(rows: ReadonlyArray<{ z: number | null }>): Array<number | null> {
  const set = new Set<number | null>();
  for (const r of rows) set.add(r.z);
  return [...set].sort((a, b) => (a ?? -Infinity) - (b ?? -Infinity));
}
