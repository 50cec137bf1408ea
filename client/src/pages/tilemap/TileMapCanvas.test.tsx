import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen } from '@testing-library/react';
import type { TileStatus } from '@tileflow/shared';
import { STATUS_COLORS } from '../../components/status';
import { buildPlaneModel, positionOf, type PlaneTileView } from './geometry';
import { drawCells } from './renderer';
import { TileMapCanvas } from './TileMapCanvas';

/** A 2D context that records what is painted. */
function recordingContext() {
  const rects: Array<{ x: number; y: number; w: number; h: number; style: string }> = [];
  const ctx = {
    fillStyle: '' as string,
    strokeStyle: '',
    lineWidth: 1,
    fillRect(x: number, y: number, w: number, h: number) {
      rects.push({ x, y, w, h, style: this.fillStyle });
    },
    clearRect() {},
    strokeRect() {},
    setTransform() {},
    setLineDash() {},
  };
  return { ctx: ctx as unknown as CanvasRenderingContext2D, rects };
}

function plane(nx: number, ny: number, status: (x: number, y: number) => TileStatus): PlaneTileView[] {
  const tiles: PlaneTileView[] = [];
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++)
      tiles.push({ tileId: `${x}-${y}`, x, y, relativePath: `y${y}/x${x}`, statuses: [status(x, y)] });
  return tiles;
}

const bounds = (nx: number, ny: number) => ({ minX: 0, maxX: nx - 1, minY: 0, maxY: ny - 1 });
const choice = { kind: 'stage', index: 0 } as const;

describe('TileMapCanvas: pointer', () => {
  // 10 × 5 tiles in 400 px: 40-px cells, the canvas at the page's origin (jsdom rects are 0).
  const C = 40;
  const model = buildPlaneModel(
    plane(10, 5, () => 'incomplete'),
    bounds(10, 5),
    choice,
    [1],
  );

  it('reports a click on a tile as that cell', () => {
    const onCellClick = vi.fn();
    const onBoxSelect = vi.fn();
    render(
      <TileMapCanvas
        model={model}
        selected={new Set()}
        width={400}
        onCellClick={onCellClick}
        onBoxSelect={onBoxSelect}
      />,
    );
    const overlay = screen.getByRole('img');
    fireEvent.mouseDown(overlay, { clientX: 3 * C + 5, clientY: 2 * C + 5, button: 0 });
    fireEvent.mouseUp(window, { clientX: 3 * C + 6, clientY: 2 * C + 7 });
    expect(onCellClick).toHaveBeenCalledWith(2 * 10 + 3, false);
    expect(onBoxSelect).not.toHaveBeenCalled();
  });

  it('turns a drag into the cells of its rectangle, ended outside the canvas too', () => {
    const onCellClick = vi.fn();
    const onBoxSelect = vi.fn();
    render(
      <TileMapCanvas
        model={model}
        selected={new Set()}
        width={400}
        onCellClick={onCellClick}
        onBoxSelect={onBoxSelect}
      />,
    );
    const overlay = screen.getByRole('img');
    fireEvent.mouseDown(overlay, { clientX: C + 9, clientY: C + 9, button: 0 });
    fireEvent.mouseMove(window, { clientX: 100, clientY: 70 });
    // Released beyond the right edge: clamped to the last column. A plain drag replaces the selection.
    fireEvent.mouseUp(window, { clientX: 1000, clientY: 2 * C + 13 });
    expect(onCellClick).not.toHaveBeenCalled();
    expect(onBoxSelect).toHaveBeenCalledTimes(1);
    const [cells, additive] = onBoxSelect.mock.calls[0] as [number[], boolean];
    expect(additive).toBe(false);
    const layout = { minX: 0, minY: 0, nx: 10 };
    const xs = new Set(cells.map((c) => positionOf(layout, c).x));
    const ys = new Set(cells.map((c) => positionOf(layout, c).y));
    expect([...xs]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...ys]).toEqual([1, 2]);
    expect(cells).toHaveLength(18);
  });

  it('adds to the selection with shift, and reports hover positions', () => {
    const onBoxSelect = vi.fn();
    const onHover = vi.fn();
    render(
      <TileMapCanvas model={model} selected={new Set([0])} width={400} onBoxSelect={onBoxSelect} onHover={onHover} />,
    );
    const overlay = screen.getByRole('img');
    fireEvent.mouseMove(overlay, { clientX: 2 * C + 13, clientY: 5 });
    expect(onHover).toHaveBeenLastCalledWith(2, { x: 2 * C + 13, y: 5 });
    fireEvent.mouseMove(overlay, { clientX: 5, clientY: 395 });
    expect(onHover).toHaveBeenLastCalledWith(-1, null);
    fireEvent.mouseDown(overlay, { clientX: 5, clientY: 5, button: 0, shiftKey: true });
    fireEvent.mouseMove(window, { clientX: C + 14, clientY: 5 });
    fireEvent.mouseUp(window, { clientX: C + 14, clientY: 5 });
    expect(onBoxSelect).toHaveBeenCalledWith([0, 1], true);
    const stack = screen.getByTestId('tilemap');
    expect(stack.dataset.selected).toBe('1');
    expect(stack.dataset.cellSize).toBe(String(C));
  });

  it('exposes the counts of the plane for tests and tools', () => {
    const m = buildPlaneModel(
      plane(4, 1, (x) => (x === 0 ? 'failed' : 'complete')),
      bounds(4, 1),
      choice,
      [1],
    );
    render(<TileMapCanvas model={m} selected={new Set()} width={400} data={{ z: 7 }} />);
    const stack = screen.getByTestId('tilemap');
    expect(JSON.parse(stack.dataset.counts!)).toMatchObject({ failed: 1, complete: 3 });
    expect(stack.dataset.z).toBe('7');
    expect(stack.dataset.tiles).toBe('4');
  });
});

describe('TileMapCanvas: painting', () => {
  const original = HTMLCanvasElement.prototype.getContext;
  afterEach(() => {
    HTMLCanvasElement.prototype.getContext = original;
  });

  it('paints the whole plane once, then only the cells whose status changed', () => {
    const base = recordingContext();
    const overlay = recordingContext();
    HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement) {
      return this.classList.contains('tilemap-base') ? base.ctx : overlay.ctx;
    } as unknown as HTMLCanvasElement['getContext'];
    const onPaint = vi.fn();
    const tiles = plane(100, 100, () => 'queued');
    const first = buildPlaneModel(tiles, bounds(100, 100), choice, [1]);
    const { rerender } = render(<TileMapCanvas model={first} selected={new Set()} width={800} onPaint={onPaint} />);
    expect(onPaint).toHaveBeenLastCalledWith(10_000);
    // Background plus one rect per cell, all in the queued colour.
    expect(base.rects.filter((r) => r.style === STATUS_COLORS.queued)).toHaveLength(10_000);

    // A burst of 1,000 changes: 1,000 rects, in the new colours.
    base.rects.length = 0;
    const changed = tiles.map((t, i) =>
      i % 10 === 0 ? { ...t, statuses: [(i % 20 === 0 ? 'complete' : 'failed') as TileStatus] } : t,
    );
    act(() =>
      rerender(
        <TileMapCanvas
          model={buildPlaneModel(changed, bounds(100, 100), choice, [1])}
          selected={new Set()}
          width={800}
          onPaint={onPaint}
        />,
      ),
    );
    expect(onPaint).toHaveBeenLastCalledWith(1000);
    expect(base.rects).toHaveLength(1000);
    expect(base.rects.filter((r) => r.style === STATUS_COLORS.complete)).toHaveLength(500);
    expect(base.rects.filter((r) => r.style === STATUS_COLORS.failed)).toHaveLength(500);
    // 100 × 100 in 800 × 640 px: 6-px cells (no gap below 8 px). Tile 10 is (x=10, y=0).
    expect(base.rects).toContainEqual({ x: 60, y: 0, w: 6, h: 6, style: STATUS_COLORS.failed });
  });

  it('drawCells repaints nothing when nothing changed', () => {
    const { ctx, rects } = recordingContext();
    const m = buildPlaneModel(
      plane(3, 3, () => 'complete'),
      bounds(3, 3),
      choice,
      [1],
    );
    const layout = { ...bounds(3, 3), nx: 3, ny: 3, cell: 10, gap: 1, width: 30, height: 30 };
    expect(drawCells(ctx, layout, m.codes, m.codes.slice())).toBe(0);
    expect(rects).toHaveLength(0);
  });
});
