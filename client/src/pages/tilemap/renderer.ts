import { TILE_STATUSES } from '@tileflow/shared';
import { STATUS_COLORS } from '../../components/status';
import { EMPTY, type GridLayout } from './geometry';

const EMPTY_COLOR = '#eef1f5';
const BACKGROUND = '#ffffff';
const COLORS: string[] = TILE_STATUSES.map((s) => STATUS_COLORS[s]);
/** Above this share of changed cells a full redraw is cheaper than cell by cell. */
const FULL_REDRAW_SHARE = 0.5;

/**
 * Sizes a canvas for a layout at the device's pixel ratio; returns its context scaled to CSS pixels. The tiles'
 * canvas is opaque (`alpha: false`, cheaper to composite); the overlay must be transparent.
 */
export function prepareCanvas(
  canvas: HTMLCanvasElement,
  layout: GridLayout,
  alpha = false,
): CanvasRenderingContext2D | null {
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;
  const w = Math.max(1, Math.round(layout.width * dpr));
  const h = Math.max(1, Math.round(layout.height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.style.width = `${layout.width}px`;
  canvas.style.height = `${layout.height}px`;
  const ctx = canvas.getContext('2d', { alpha });
  ctx?.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function fillCells(ctx: CanvasRenderingContext2D, layout: GridLayout, cells: ArrayLike<number>, count: number): void {
  const { nx, cell, gap } = layout;
  const size = cell - gap;
  for (let k = 0; k < count; k++) {
    const i = cells[k];
    ctx.fillRect((i % nx) * cell, Math.floor(i / nx) * cell, size, size);
  }
}

/**
 * Draws status codes into the canvas. With `previous` (same layout), only the cells whose code changed are
 * repainted, grouped by colour: a burst of changes costs a few hundred fillRects, not a whole plane.
 * Returns the number of cells painted.
 */
export function drawCells(
  ctx: CanvasRenderingContext2D,
  layout: GridLayout,
  codes: Uint8Array,
  previous?: Uint8Array | null,
): number {
  const n = layout.nx * layout.ny;
  const incremental = previous && previous.length === n;
  let changed: Int32Array;
  let count = 0;
  if (incremental) {
    changed = new Int32Array(n);
    for (let i = 0; i < n; i++) if (codes[i] !== previous[i]) changed[count++] = i;
    if (count === 0) return 0;
    if (count > n * FULL_REDRAW_SHARE) return drawCells(ctx, layout, codes, null);
  } else {
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, layout.width, layout.height);
    changed = new Int32Array(n);
    for (let i = 0; i < n; i++) changed[i] = i;
    count = n;
  }
  // Bucket the cells by code, then one fillStyle per bucket.
  const buckets = new Map<number, number[]>();
  for (let k = 0; k < count; k++) {
    const i = changed[k];
    const code = codes[i];
    let b = buckets.get(code);
    if (!b) buckets.set(code, (b = []));
    b.push(i);
  }
  for (const [code, cells] of buckets) {
    ctx.fillStyle = code === EMPTY ? EMPTY_COLOR : (COLORS[code] ?? EMPTY_COLOR);
    fillCells(ctx, layout, cells, cells.length);
  }
  return count;
}

/** Selection, hover and the dragged rectangle, on the overlay canvas (transparent). */
export function drawOverlay(
  ctx: CanvasRenderingContext2D,
  layout: GridLayout,
  o: { selected: ReadonlySet<number>; hover: number; drag: { x0: number; y0: number; x1: number; y1: number } | null },
): void {
  ctx.clearRect(0, 0, layout.width, layout.height);
  const { nx, cell } = layout;
  if (o.selected.size > 0) {
    ctx.fillStyle = 'rgba(15, 23, 42, 0.28)';
    for (const i of o.selected) ctx.fillRect((i % nx) * cell, Math.floor(i / nx) * cell, cell, cell);
  }
  if (o.hover >= 0) {
    ctx.strokeStyle = '#0f172a';
    ctx.lineWidth = 2;
    ctx.strokeRect((o.hover % nx) * cell + 1, Math.floor(o.hover / nx) * cell + 1, cell - 2, cell - 2);
  }
  if (o.drag) {
    const x = Math.min(o.drag.x0, o.drag.x1);
    const y = Math.min(o.drag.y0, o.drag.y1);
    ctx.fillStyle = 'rgba(37, 99, 235, 0.12)';
    ctx.strokeStyle = '#2563eb';
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 3]);
    ctx.fillRect(x, y, Math.abs(o.drag.x1 - o.drag.x0), Math.abs(o.drag.y1 - o.drag.y0));
    ctx.strokeRect(x + 0.5, y + 0.5, Math.abs(o.drag.x1 - o.drag.x0), Math.abs(o.drag.y1 - o.drag.y0));
    ctx.setLineDash([]);
  }
}
