import { useEffect, useLayoutEffect, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import { cellAt, cellsInRect, makeLayout, type GridLayout, type PlaneModel } from './geometry';
import { drawCells, drawOverlay, prepareCanvas } from './renderer';

/** Pointer travel (CSS px) below which a press is a click, not a drag. */
const DRAG_THRESHOLD = 4;

export interface TileMapCanvasProps {
  model: PlaneModel;
  /** Selected cells (indices into the model's grid). */
  selected: ReadonlySet<number>;
  /** Width to fit into; default: the container's width. */
  width?: number;
  maxHeight?: number;
  onHover?(cell: number, at: { x: number; y: number } | null): void;
  onCellClick?(cell: number, additive: boolean): void;
  /** A rectangle was dragged over these cells (shift/ctrl/meta held: add to the selection). */
  onBoxSelect?(cells: number[], additive: boolean): void;
  /** Called after each paint with the number of cells painted (tests and the benchmark). */
  onPaint?(cells: number): void;
  /** Extra data attributes for tests (e.g. the plane's z and fetch revision). */
  data?: Record<string, string | number>;
}

function useContainerWidth(ref: React.RefObject<HTMLElement | null>, fixed?: number): number {
  const [width, setWidth] = useState(fixed ?? 800);
  useLayoutEffect(() => {
    if (fixed !== undefined) return;
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(200, Math.floor(el.clientWidth)));
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, fixed]);
  return fixed ?? width;
}

/**
 * One z-plane as a grid of coloured cells on a <canvas>, with hover, click and box selection on an overlay canvas.
 * Repaints only the cells whose status changed when the model is replaced by one of the same shape.
 */
export function TileMapCanvas(props: TileMapCanvasProps) {
  const { model, selected } = props;
  const wrapRef = useRef<HTMLDivElement>(null);
  const baseRef = useRef<HTMLCanvasElement>(null);
  const overlayRef = useRef<HTMLCanvasElement>(null);
  const width = useContainerWidth(wrapRef, props.width);
  const maxHeight = props.maxHeight ?? 640;
  const layout: GridLayout = makeLayout(model, width, maxHeight);
  const layoutKey = `${layout.minX},${layout.minY},${layout.nx},${layout.ny},${layout.cell}`;
  const painted = useRef<{ key: string; codes: Uint8Array } | null>(null);
  const [hover, setHover] = useState(-1);
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const press = useRef<{ x: number; y: number; additive: boolean; dragging: boolean } | null>(null);

  // Tiles: synchronously after the DOM update, so a model change is on screen in the same frame.
  useLayoutEffect(() => {
    const canvas = baseRef.current;
    if (!canvas) return;
    const sameShape = painted.current?.key === layoutKey;
    const ctx = sameShape ? canvas.getContext('2d', { alpha: false }) : prepareCanvas(canvas, layout);
    if (!ctx) return;
    const n = drawCells(ctx, layout, model.codes, sameShape ? painted.current!.codes : null);
    painted.current = { key: layoutKey, codes: model.codes.slice() };
    props.onPaint?.(n);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [model, layoutKey]);

  useLayoutEffect(() => {
    const canvas = overlayRef.current;
    if (!canvas) return;
    const ctx = prepareCanvas(canvas, layout, true);
    if (ctx) drawOverlay(ctx, layout, { selected, hover, drag });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, hover, drag, layoutKey]);

  const local = (e: { clientX: number; clientY: number }) => {
    const r = overlayRef.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  // A drag may end outside the canvas.
  useEffect(() => {
    const up = (e: MouseEvent) => finish(e);
    const move = (e: MouseEvent) => {
      const p = press.current;
      if (!p) return;
      const at = local(e);
      if (!p.dragging && Math.hypot(at.x - p.x, at.y - p.y) >= DRAG_THRESHOLD) p.dragging = true;
      if (p.dragging) setDrag({ x0: p.x, y0: p.y, x1: at.x, y1: at.y });
    };
    window.addEventListener('mouseup', up);
    window.addEventListener('mousemove', move);
    return () => {
      window.removeEventListener('mouseup', up);
      window.removeEventListener('mousemove', move);
    };
  });

  function finish(e: { clientX: number; clientY: number }) {
    const p = press.current;
    if (!p) return;
    press.current = null;
    const at = local(e);
    setDrag(null);
    if (p.dragging) {
      props.onBoxSelect?.(cellsInRect(layout, p.x, p.y, at.x, at.y), p.additive);
    } else {
      const cell = cellAt(layout, at.x, at.y);
      if (cell >= 0) props.onCellClick?.(cell, p.additive);
    }
  }

  const onMouseDown = (e: ReactMouseEvent<HTMLCanvasElement>) => {
    if (e.button !== 0) return;
    e.preventDefault();
    const at = local(e);
    press.current = { ...at, additive: e.shiftKey || e.ctrlKey || e.metaKey, dragging: false };
  };

  const onMouseMove = (e: ReactMouseEvent<HTMLCanvasElement>) => {
    const at = local(e);
    const cell = cellAt(layout, at.x, at.y);
    if (cell !== hover) setHover(cell);
    props.onHover?.(cell, cell >= 0 ? at : null);
  };

  const onMouseLeave = () => {
    setHover(-1);
    props.onHover?.(-1, null);
  };

  const data: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(props.data ?? {})) data[`data-${k}`] = v;

  return (
    <div className="tilemap-wrap" ref={wrapRef}>
      <div
        className="tilemap-stack"
        style={{ width: layout.width, height: layout.height }}
        data-testid="tilemap"
        data-counts={JSON.stringify(model.counts)}
        data-tiles={model.tiles.length}
        data-selected={selected.size}
        data-cell-size={layout.cell}
        data-nx={layout.nx}
        data-ny={layout.ny}
        data-min-x={layout.minX}
        data-min-y={layout.minY}
        {...data}
      >
        <canvas ref={baseRef} className="tilemap-base" aria-hidden />
        <canvas
          ref={overlayRef}
          className="tilemap-overlay"
          role="img"
          aria-label={`Tile map: ${model.tiles.length} tiles, ${selected.size} selected. Drag to select tiles.`}
          onMouseDown={onMouseDown}
          onMouseMove={onMouseMove}
          onMouseLeave={onMouseLeave}
        />
      </div>
    </div>
  );
}
