import { describe, expect, it } from 'vitest';
import type { TileStatus } from '@tileflow/shared';
import {
  EMPTY,
  boundsOf,
  buildPlaneModel,
  cellAt,
  cellOf,
  cellsInRect,
  countCells,
  makeLayout,
  positionOf,
  shownStatus,
  stageDepths,
  statusCode,
  tileIdsOf,
  type PlaneTileView,
} from './geometry';

const tile = (x: number | null, y: number | null, statuses: TileStatus[], id = `${x},${y}`): PlaneTileView => ({
  tileId: id,
  x,
  y,
  relativePath: `t/${x}/${y}`,
  statuses,
});

describe('layout and hit-testing', () => {
  const layout = makeLayout({ minX: 10, maxX: 19, minY: 5, maxY: 9 }, 400, 600);

  it('fits square cells into the width', () => {
    expect(layout).toMatchObject({ nx: 10, ny: 5, cell: 40, width: 400, height: 200 });
    // Small lattices get cells no larger than the maximum.
    expect(makeLayout({ minX: 0, maxX: 3, minY: 0, maxY: 3 }, 800, 640).cell).toBe(48);
    expect(makeLayout({ minX: 0, maxX: 99, minY: 0, maxY: 99 }, 800, 640).cell).toBe(6);
    // Never below the minimum, even when the lattice does not fit.
    expect(makeLayout({ minX: 0, maxX: 999, minY: 0, maxY: 0 }, 500, 640).cell).toBe(2);
  });

  it('finds the cell under a point, and nothing outside the grid', () => {
    expect(cellAt(layout, 0, 0)).toBe(0);
    expect(cellAt(layout, 39.9, 39.9)).toBe(0);
    expect(cellAt(layout, 40, 0)).toBe(1);
    expect(cellAt(layout, 3 * 40 + 1, 2 * 40 + 1)).toBe(2 * 10 + 3);
    expect(positionOf(layout, 23)).toEqual({ x: 13, y: 7 });
    expect(cellOf(layout, 13, 7)).toBe(23);
    expect(cellAt(layout, -1, 5)).toBe(-1);
    expect(cellAt(layout, 400, 5)).toBe(-1);
    expect(cellAt(layout, 5, 200)).toBe(-1);
    expect(cellOf(layout, 20, 5)).toBe(-1);
  });

  it('selects the cells a rectangle touches, in any drag direction, clamped to the grid', () => {
    const forward = cellsInRect(layout, 45, 45, 125, 85);
    expect(forward.map((c) => positionOf(layout, c))).toEqual([
      { x: 11, y: 6 },
      { x: 12, y: 6 },
      { x: 13, y: 6 },
      { x: 11, y: 7 },
      { x: 12, y: 7 },
      { x: 13, y: 7 },
    ]);
    expect(cellsInRect(layout, 125, 85, 45, 45)).toEqual(forward);
    // Starting outside the grid: clamped to it.
    expect(cellsInRect(layout, -50, -50, 10, 10)).toEqual([0]);
    expect(cellsInRect(layout, 330, 170, 9999, 9999)).toEqual([48, 49]);
    expect(cellsInRect(layout, 400, 0, 500, 50)).toEqual([]);
  });
});

describe('plane model', () => {
  const depths = stageDepths([
    { id: 'a', parentId: null },
    { id: 'b', parentId: 'a' },
    { id: 'c', parentId: null },
  ]);

  it('computes stage depths in the tree', () => {
    expect(depths).toEqual([1, 2, 1]);
    expect(stageDepths([{ id: 'x', parentId: 'gone' }])).toEqual([1]);
  });

  it('shows one stage, or the status in the furthest stage reached', () => {
    const t = tile(0, 0, ['complete', 'failed', 'processing']);
    expect(shownStatus(t, { kind: 'stage', index: 0 }, depths)).toBe('complete');
    expect(shownStatus(t, { kind: 'furthest' }, depths)).toBe('failed');
    expect(shownStatus(tile(0, 0, ['complete', 'incomplete', 'queued']), { kind: 'furthest' }, depths)).toBe('queued');
    expect(shownStatus(tile(0, 0, ['incomplete', 'incomplete', 'incomplete']), { kind: 'furthest' }, depths)).toBe(
      'incomplete',
    );
    expect(shownStatus(tile(0, 0, []), { kind: 'furthest' }, [])).toBe('incomplete');
  });

  it('places tiles in cells, leaves holes empty and counts what is shown', () => {
    const tiles = [
      tile(0, 0, ['complete']),
      tile(2, 1, ['failed']),
      tile(1, 1, ['failed']),
      tile(null, null, ['queued'], 'loose'),
    ];
    const bounds = boundsOf(tiles)!;
    expect(bounds).toEqual({ minX: 0, maxX: 2, minY: 0, maxY: 1 });
    const m = buildPlaneModel(tiles, bounds, { kind: 'stage', index: 0 }, [1]);
    expect(m.nx).toBe(3);
    expect([...m.codes]).toEqual([
      statusCode('complete'),
      EMPTY,
      EMPTY,
      EMPTY,
      statusCode('failed'),
      statusCode('failed'),
    ]);
    expect(m.unplaced).toBe(1);
    expect(m.counts).toMatchObject({ complete: 1, failed: 2, queued: 1 });
    expect(countCells(m, [0, 1, 4, 5])).toMatchObject({ complete: 1, failed: 2 });
    expect(tileIdsOf(m, [0, 1, 4, 5])).toEqual(['0,0', '1,1', '2,1']);
    expect(tileIdsOf(m, [0, 1, 4, 5], 'failed')).toEqual(['1,1', '2,1']);
  });
});
