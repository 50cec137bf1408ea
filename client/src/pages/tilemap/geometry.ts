/**
 * The tile map's model and geometry, free of React and of the canvas: which status each lattice cell shows, where
 * each cell is drawn, which cell a pointer is over and which cells a dragged rectangle covers.
 */
import { TILE_STATUSES, TileStatus, type StatusCounts } from '@tileflow/shared';
import { emptyCounts } from '../../components/status';

/** A cell with no tile. Status codes are indices into TILE_STATUSES. */
export const EMPTY = 255;

export const statusCode = (s: TileStatus): number => TILE_STATUSES.indexOf(s);

export interface Bounds {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/** Where the cells are drawn, in CSS pixels: column c, row r at (c·cell, r·cell), `gap` pixels left blank. */
export interface GridLayout extends Bounds {
  nx: number;
  ny: number;
  cell: number;
  gap: number;
  width: number;
  height: number;
}

/** Cell sizes, in CSS pixels. */
export const MIN_CELL = 2;
export const MAX_CELL = 48;

/** Fits the lattice into `width` × `maxHeight` CSS pixels, square cells between MIN_CELL and MAX_CELL. */
export function makeLayout(bounds: Bounds, width: number, maxHeight: number): GridLayout {
  const nx = Math.max(1, bounds.maxX - bounds.minX + 1);
  const ny = Math.max(1, bounds.maxY - bounds.minY + 1);
  const fit = Math.floor(Math.min(width / nx, maxHeight / ny));
  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, fit));
  const gap = cell >= 8 ? 1 : 0;
  return { ...bounds, nx, ny, cell, gap, width: nx * cell, height: ny * cell };
}

/** The cell under a point (CSS pixels from the canvas's top left), or -1. Index = row · nx + column. */
export function cellAt(layout: GridLayout, px: number, py: number): number {
  if (px < 0 || py < 0) return -1;
  const col = Math.floor(px / layout.cell);
  const row = Math.floor(py / layout.cell);
  if (col >= layout.nx || row >= layout.ny) return -1;
  return row * layout.nx + col;
}

/** The cell of lattice position (x, y), or -1 outside the bounds. */
export function cellOf(layout: Bounds & { nx: number }, x: number, y: number): number {
  if (x < layout.minX || x > layout.maxX || y < layout.minY || y > layout.maxY) return -1;
  return (y - layout.minY) * layout.nx + (x - layout.minX);
}

/** The lattice position of a cell. */
export function positionOf(layout: Pick<GridLayout, 'minX' | 'minY' | 'nx'>, cell: number): { x: number; y: number } {
  return { x: layout.minX + (cell % layout.nx), y: layout.minY + Math.floor(cell / layout.nx) };
}

/**
 * The cells a rectangle dragged from (ax, ay) to (bx, by) touches, clamped to the grid (CSS pixels, any corner
 * order). Empty when the rectangle misses the grid.
 */
export function cellsInRect(layout: GridLayout, ax: number, ay: number, bx: number, by: number): number[] {
  const x0 = Math.min(ax, bx);
  const x1 = Math.max(ax, bx);
  const y0 = Math.min(ay, by);
  const y1 = Math.max(ay, by);
  if (x1 < 0 || y1 < 0 || x0 >= layout.width || y0 >= layout.height) return [];
  const c0 = Math.max(0, Math.floor(x0 / layout.cell));
  const c1 = Math.min(layout.nx - 1, Math.floor(x1 / layout.cell));
  const r0 = Math.max(0, Math.floor(y0 / layout.cell));
  const r1 = Math.min(layout.ny - 1, Math.floor(y1 / layout.cell));
  const out: number[] = [];
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out.push(r * layout.nx + c);
  return out;
}

/** One tile of a plane, statuses in the order of the project's stages. */
export interface PlaneTileView {
  tileId: string;
  x: number | null;
  y: number | null;
  relativePath: string;
  statuses: readonly TileStatus[];
}

/** What the map shows: one stage's status, or each tile's status in the furthest stage it reached. */
export type StageChoice = { kind: 'furthest' } | { kind: 'stage'; index: number };

/**
 * The status a tile shows. "Furthest": the status in the deepest stage (by `depths`, later stages breaking ties)
 * whose status is not incomplete; incomplete when no stage reached it.
 */
export function shownStatus(tile: PlaneTileView, choice: StageChoice, depths: readonly number[]): TileStatus {
  if (choice.kind === 'stage') return tile.statuses[choice.index] ?? TileStatus.Incomplete;
  let best = -1;
  for (let i = 0; i < tile.statuses.length; i++) {
    if (tile.statuses[i] === TileStatus.Incomplete) continue;
    if (best < 0 || (depths[i] ?? 0) >= (depths[best] ?? 0)) best = i;
  }
  return best < 0 ? TileStatus.Incomplete : tile.statuses[best];
}

export interface PlaneModel extends Bounds {
  nx: number;
  ny: number;
  /** Status code per cell (EMPTY where there is no tile). */
  codes: Uint8Array;
  /** Index into `tiles` per cell, -1 where there is no tile. */
  tileAt: Int32Array;
  tiles: readonly PlaneTileView[];
  /** Counts of the shown statuses over the plane's tiles (placed or not). */
  counts: StatusCounts;
  /** Tiles without a lattice position (not drawn). */
  unplaced: number;
}

/** The bounds of the tiles' positions, or null when no tile has one. */
export function boundsOf(tiles: readonly PlaneTileView[]): Bounds | null {
  let b: Bounds | null = null;
  for (const t of tiles) {
    if (t.x === null || t.y === null) continue;
    if (!b) b = { minX: t.x, maxX: t.x, minY: t.y, maxY: t.y };
    else {
      if (t.x < b.minX) b.minX = t.x;
      if (t.x > b.maxX) b.maxX = t.x;
      if (t.y < b.minY) b.minY = t.y;
      if (t.y > b.maxY) b.maxY = t.y;
    }
  }
  return b;
}

/** Widens `a` to cover `b`. */
export function unionBounds(a: Bounds | null, b: Bounds | null): Bounds | null {
  if (!a) return b;
  if (!b) return a;
  return {
    minX: Math.min(a.minX, b.minX),
    maxX: Math.max(a.maxX, b.maxX),
    minY: Math.min(a.minY, b.minY),
    maxY: Math.max(a.maxY, b.maxY),
  };
}

export function buildPlaneModel(
  tiles: readonly PlaneTileView[],
  bounds: Bounds,
  choice: StageChoice,
  depths: readonly number[],
): PlaneModel {
  const nx = bounds.maxX - bounds.minX + 1;
  const ny = bounds.maxY - bounds.minY + 1;
  const codes = new Uint8Array(nx * ny).fill(EMPTY);
  const tileAt = new Int32Array(nx * ny).fill(-1);
  const counts = emptyCounts();
  const geometry = { ...bounds, nx };
  let unplaced = 0;
  for (let i = 0; i < tiles.length; i++) {
    const t = tiles[i];
    const s = shownStatus(t, choice, depths);
    counts[s]++;
    const c = t.x === null || t.y === null ? -1 : cellOf(geometry, t.x, t.y);
    if (c < 0) {
      unplaced++;
      continue;
    }
    codes[c] = statusCode(s);
    tileAt[c] = i;
  }
  return { ...bounds, nx, ny, codes, tileAt, tiles, counts, unplaced };
}

/** Tiles of some cells, counted by shown status. */
export function countCells(model: PlaneModel, cells: Iterable<number>): StatusCounts {
  const counts = emptyCounts();
  for (const c of cells) {
    const code = model.codes[c];
    if (code !== EMPTY && code !== undefined) counts[TILE_STATUSES[code]]++;
  }
  return counts;
}

/** Tile ids of some cells, optionally only those showing one status. */
export function tileIdsOf(model: PlaneModel, cells: Iterable<number>, only?: TileStatus): string[] {
  const ids: string[] = [];
  const code = only === undefined ? -1 : statusCode(only);
  for (const c of cells) {
    const i = model.tileAt[c];
    if (i < 0 || i === undefined) continue;
    if (code >= 0 && model.codes[c] !== code) continue;
    ids.push(model.tiles[i].tileId);
  }
  return ids;
}

/** Depth of each stage in the tree (1 = under the input), in the order given. */
export function stageDepths(stages: ReadonlyArray<{ id: string; parentId: string | null }>): number[] {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const memo = new Map<string, number>();
  const depth = (id: string, seen: Set<string>): number => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const s = byId.get(id);
    if (!s || s.parentId === null || !byId.has(s.parentId) || seen.has(id)) return 1;
    seen.add(id);
    const d = depth(s.parentId, seen) + 1;
    memo.set(id, d);
    return d;
  };
  return stages.map((s) => depth(s.id, new Set()));
}
