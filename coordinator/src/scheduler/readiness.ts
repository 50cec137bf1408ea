/**
 * Readiness: turns "tile t became complete in stage P" into rows of P's child stages. It works only on what
 * changed: tiles whose `propagate` flag is set (newly complete in the input or in a stage), and, for a stage that
 * was just created or moved, the parent's completed tiles walked in id order from `stages.backfill_after`.
 * Each batch is one transaction: child rows are inserted and the flags cleared (or the cursor moved) together.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { StageKind, TileStatus, UnreachableCaseError } from '@tileflow/shared';
import type { ProjectView, StageView } from './topology.js';

interface SourceTile {
  tile_id: string;
  x: number | null;
  y: number | null;
  z: number | null;
}

interface Position {
  x: number;
  y: number;
  z: number;
}

const key = (p: Position) => `${p.x},${p.y},${p.z}`;

/** Next lattice position on a stage's axis, or null when it lies beyond the sample's extent (no neighbour). */
export function nextPosition(kind: StageKind, p: Position, project: ProjectView): Position | null | undefined {
  switch (kind) {
    case StageKind.Map:
      return undefined;
    case StageKind.AdjacentX:
      return project.extent.maxX !== null && p.x + 1 > project.extent.maxX ? null : { ...p, x: p.x + 1 };
    case StageKind.AdjacentY:
      return project.extent.maxY !== null && p.y + 1 > project.extent.maxY ? null : { ...p, y: p.y + 1 };
    case StageKind.AdjacentZ: {
      let z = p.z + 1;
      const skip = new Set(project.skipZ);
      const maxZ = project.extent.maxZ;
      while (skip.has(z) && (maxZ === null || z <= maxZ)) z++;
      return maxZ !== null && z > maxZ ? null : { ...p, z };
    }
    default:
      throw new UnreachableCaseError(kind);
  }
}

/** Previous lattice position on the axis (the tile whose neighbour p is). */
export function previousPosition(kind: StageKind, p: Position, project: ProjectView): Position | undefined {
  switch (kind) {
    case StageKind.Map:
      return undefined;
    case StageKind.AdjacentX:
      return { ...p, x: p.x - 1 };
    case StageKind.AdjacentY:
      return { ...p, y: p.y - 1 };
    case StageKind.AdjacentZ: {
      let z = p.z - 1;
      const skip = new Set(project.skipZ);
      const minZ = project.extent.minZ ?? 0;
      while (skip.has(z) && z >= minZ) z--;
      return z < minZ ? undefined : { ...p, z };
    }
    default:
      throw new UnreachableCaseError(kind);
  }
}

/** SQL condition: the tile (alias t) lies in the project's region of interest and not on a skipped plane. */
const ELIGIBLE = `
  ($2::int IS NULL OR t.x >= $2) AND ($3::int IS NULL OR t.x <= $3) AND
  ($4::int IS NULL OR t.y >= $4) AND ($5::int IS NULL OR t.y <= $5) AND
  ($6::int IS NULL OR t.z >= $6) AND ($7::int IS NULL OR t.z <= $7) AND
  (t.z IS NULL OR NOT (t.z = ANY($8::int[])))`;

const roiBind = (p: ProjectView) => [p.roi.minX, p.roi.maxX, p.roi.minY, p.roi.maxY, p.roi.minZ, p.roi.maxZ, p.skipZ];

/** Inserts map-stage rows for the given tiles (those eligible); existing rows are left alone. */
async function insertReady(
  sequelize: Sequelize,
  t: Transaction,
  project: ProjectView,
  child: StageView,
  tileIds: string[],
): Promise<number> {
  if (tileIds.length === 0) return 0;
  const [, count] = await sequelize.query(
    `INSERT INTO stage_tile_states (stage_id, tile_id, project_id, x, y, z, status)
     SELECT $1, t.id, t.project_id, t.x, t.y, t.z, 'incomplete'
     FROM tiles t WHERE t.id = ANY($9::bigint[]) AND ${ELIGIBLE}
     ON CONFLICT (stage_id, tile_id) DO NOTHING`,
    { bind: [child.id, ...roiBind(project), tileIds], transaction: t },
  );
  return Number(count ?? 0);
}

/**
 * For an adjacent stage: given tiles that just became complete in the parent, decides for each of them and for
 * each tile whose neighbour they are, whether it is ready (parent completed it and its neighbour, or it has no
 * neighbour inside the extent) or waiting for its neighbour.
 */
async function insertAdjacent(
  sequelize: Sequelize,
  t: Transaction,
  project: ProjectView,
  parent: StageView | null,
  child: StageView,
  sources: SourceTile[],
): Promise<number> {
  const positioned = sources.filter((s) => s.x !== null && s.y !== null && s.z !== null) as Array<
    SourceTile & Position
  >;
  if (positioned.length === 0) return 0;
  // Candidates: the completed tiles, and the tiles whose neighbour each completed tile is.
  const wanted = new Map<string, Position>();
  for (const s of positioned) {
    const p = { x: s.x, y: s.y, z: s.z };
    wanted.set(key(p), p);
    const prev = previousPosition(child.kind, p, project);
    if (prev) wanted.set(key(prev), prev);
  }
  const candidates = [...wanted.values()];
  const neighbours = new Map<string, Position | null>();
  for (const c of candidates) {
    const n = nextPosition(child.kind, c, project);
    neighbours.set(key(c), n ?? null);
    if (n) wanted.set(key(n), n);
  }
  const all = [...wanted.values()];
  const parentDone = parent
    ? `EXISTS (SELECT 1 FROM stage_tile_states s WHERE s.stage_id = $5 AND s.tile_id = t.id AND s.status = 'complete')`
    : `(t.is_complete AND $5::uuid IS NULL)`;
  const rows = await sequelize.query<{ id: string; x: number; y: number; z: number; done: boolean }>(
    `SELECT t.id, t.x, t.y, t.z, ${parentDone} AS done
     FROM tiles t JOIN unnest($2::int[], $3::int[], $4::int[]) AS p(x, y, z) ON t.x = p.x AND t.y = p.y AND t.z = p.z
     WHERE t.project_id = $1`,
    {
      bind: [project.id, all.map((p) => p.x), all.map((p) => p.y), all.map((p) => p.z), parent?.id ?? null],
      type: QueryTypes.SELECT,
      transaction: t,
    },
  );
  const byPos = new Map(rows.map((r) => [key(r), r]));
  const ready: string[] = [];
  const waiting: string[] = [];
  for (const c of candidates) {
    const tile = byPos.get(key(c));
    if (!tile?.done) continue;
    const n = neighbours.get(key(c));
    const neighbourDone = n === null || byPos.get(key(n!))?.done === true;
    (neighbourDone ? ready : waiting).push(tile.id);
  }
  let changed = 0;
  for (const [ids, status] of [
    [ready, TileStatus.Incomplete],
    [waiting, TileStatus.Waiting],
  ] as const) {
    if (ids.length === 0) continue;
    const [, count] = await sequelize.query(
      `INSERT INTO stage_tile_states (stage_id, tile_id, project_id, x, y, z, status)
       SELECT $1, t.id, t.project_id, t.x, t.y, t.z, $10
       FROM tiles t WHERE t.id = ANY($9::bigint[]) AND ${ELIGIBLE}
       ON CONFLICT (stage_id, tile_id) DO UPDATE SET status = 'incomplete', updated_at = now()
         WHERE stage_tile_states.status = 'waiting' AND EXCLUDED.status = 'incomplete'`,
      { bind: [child.id, ...roiBind(project), ids, status], transaction: t },
    );
    changed += Number(count ?? 0);
  }
  return changed;
}

/** Applies completed source tiles of `parent` (null = the input) to one child stage. */
async function applyToChild(
  sequelize: Sequelize,
  t: Transaction,
  project: ProjectView,
  parent: StageView | null,
  child: StageView,
  sources: SourceTile[],
): Promise<number> {
  switch (child.kind) {
    case StageKind.Map:
      return insertReady(
        sequelize,
        t,
        project,
        child,
        sources.map((s) => s.tile_id),
      );
    case StageKind.AdjacentX:
    case StageKind.AdjacentY:
    case StageKind.AdjacentZ:
      return insertAdjacent(sequelize, t, project, parent, child, sources);
    default:
      throw new UnreachableCaseError(child.kind);
  }
}

export interface ReadinessResult {
  /** Child rows inserted or turned ready. */
  changed: number;
  /** Stages that got rows. */
  stageIds: Set<string>;
  /** True when a batch was full: call again. */
  more: boolean;
}

/**
 * One readiness pass over a project: every parent (the input, then each stage) with flagged tiles hands them to its
 * children, and every stage with a backfill cursor reads one more batch of its parent's completed tiles.
 */
export async function propagateProject(
  sequelize: Sequelize,
  project: ProjectView,
  stages: StageView[],
  batchSize: number,
): Promise<ReadinessResult> {
  const result: ReadinessResult = { changed: 0, stageIds: new Set(), more: false };
  const childrenOf = (parentId: string | null) => stages.filter((s) => s.parentId === parentId);

  // One cheap look (partial indexes) at which parents have flagged tiles, so that idle parents cost nothing.
  const flagged = await sequelize.query<{ stage_id: string | null }>(
    `SELECT s.id AS stage_id FROM unnest($1::uuid[]) AS s(id)
       WHERE EXISTS (SELECT 1 FROM stage_tile_states t WHERE t.stage_id = s.id AND t.propagate)
     UNION ALL
     SELECT NULL WHERE EXISTS (SELECT 1 FROM tiles WHERE project_id = $2 AND propagate)`,
    { bind: [stages.map((s) => s.id), project.id], type: QueryTypes.SELECT },
  );
  const withFlags = new Set(flagged.map((f) => f.stage_id));
  for (const parent of [null, ...stages].filter((p) => withFlags.has(p?.id ?? null))) {
    const children = childrenOf(parent?.id ?? null);
    await sequelize.transaction(async (t) => {
      const sources = parent
        ? await sequelize.query<SourceTile>(
            `SELECT tile_id::text, x, y, z FROM stage_tile_states WHERE stage_id = $1 AND propagate
             LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED`,
            { bind: [parent.id, batchSize], type: QueryTypes.SELECT, transaction: t },
          )
        : await sequelize.query<SourceTile>(
            `SELECT id::text AS tile_id, x, y, z FROM tiles WHERE project_id = $1 AND propagate
             LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED`,
            { bind: [project.id, batchSize], type: QueryTypes.SELECT, transaction: t },
          );
      if (sources.length === 0) return;
      if (sources.length === batchSize) result.more = true;
      for (const child of children) {
        const n = await applyToChild(sequelize, t, project, parent, child, sources);
        if (n > 0) result.stageIds.add(child.id);
        result.changed += n;
      }
      const ids = sources.map((s) => s.tile_id);
      if (parent) {
        await sequelize.query(
          'UPDATE stage_tile_states SET propagate = false WHERE stage_id = $1 AND tile_id = ANY($2::bigint[])',
          { bind: [parent.id, ids], transaction: t },
        );
      } else {
        await sequelize.query('UPDATE tiles SET propagate = false WHERE id = ANY($1::bigint[])', {
          bind: [ids],
          transaction: t,
        });
      }
    });
  }

  for (const stage of stages.filter((s) => s.backfillAfter !== null)) {
    const parent = stages.find((s) => s.id === stage.parentId) ?? null;
    await sequelize.transaction(async (t) => {
      const sources = parent
        ? await sequelize.query<SourceTile>(
            `SELECT tile_id::text, x, y, z FROM stage_tile_states
             WHERE stage_id = $1 AND status = 'complete' AND tile_id > $2 ORDER BY tile_id LIMIT $3`,
            { bind: [parent.id, stage.backfillAfter, batchSize], type: QueryTypes.SELECT, transaction: t },
          )
        : await sequelize.query<SourceTile>(
            `SELECT id::text AS tile_id, x, y, z FROM tiles
             WHERE project_id = $1 AND is_complete AND id > $2 ORDER BY id LIMIT $3`,
            { bind: [project.id, stage.backfillAfter, batchSize], type: QueryTypes.SELECT, transaction: t },
          );
      const n = await applyToChild(sequelize, t, project, parent, stage, sources);
      if (n > 0) result.stageIds.add(stage.id);
      result.changed += n;
      const full = sources.length === batchSize;
      if (full) result.more = true;
      // Only move the cursor if nobody changed it meanwhile (a new move restarts the backfill at 0).
      await sequelize.query('UPDATE stages SET backfill_after = $2 WHERE id = $1 AND backfill_after = $3', {
        bind: [stage.id, full ? sources[sources.length - 1].tile_id : null, stage.backfillAfter],
        transaction: t,
      });
    });
  }
  return result;
}
