/**
 * In-page part of bench/tilemap.ts: renders the client's TileMapCanvas for a 100 × 100 plane and applies bursts of
 * status changes, timing each with performance.now() from "data arrived" (the plane query's shape, statuses in
 * GraphQL spelling) to the drawn canvas (synchronously) and to the next frame (two animation frames later).
 */
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import type { TileStatus } from '@tileflow/shared';
import { tileStatus } from '../../client/src/api/enums';
import type { TileStatus as GqlTileStatus } from '../../client/src/api/generated';
import { buildPlaneModel, type PlaneTileView } from '../../client/src/pages/tilemap/geometry';
import { TileMapCanvas } from '../../client/src/pages/tilemap/TileMapCanvas';

interface RawTile {
  tileId: string;
  x: number;
  y: number;
  relativePath: string;
  statuses: GqlTileStatus[];
}

export interface Timing {
  /** Data in → canvas drawn (React render, model, paint commands), ms. */
  syncMs: number;
  /** Data in → two animation frames later (the frame showing it has been produced), ms. */
  frameMs: number;
  /** Cells the renderer painted. */
  cells: number;
}

/** A small deterministic PRNG (mulberry32), so runs compare. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES: GqlTileStatus[] = ['INCOMPLETE', 'QUEUED', 'PROCESSING', 'COMPLETE', 'FAILED'];
const STAGES = 3;

function makePlane(n: number, rnd: () => number): RawTile[] {
  const tiles: RawTile[] = [];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      tiles.push({
        tileId: String(y * n + x + 1),
        x,
        y,
        relativePath: `2024-05-01/00/z0000/y${String(y).padStart(4, '0')}/x${String(x).padStart(4, '0')}`,
        statuses: Array.from({ length: STAGES }, () => STATUSES[Math.floor(rnd() * STATUSES.length)]),
      });
    }
  }
  return tiles;
}

/** What usePlane and TileMapPage do with a fetched plane: convert the statuses, build the model. */
function toModel(raw: RawTile[], n: number) {
  const views: PlaneTileView[] = raw.map((t) => ({
    tileId: t.tileId,
    x: t.x,
    y: t.y,
    relativePath: t.relativePath,
    statuses: t.statuses.map(tileStatus) as TileStatus[],
  }));
  return buildPlaneModel(
    views,
    { minX: 0, maxX: n - 1, minY: 0, maxY: n - 1 },
    { kind: 'stage', index: STAGES - 1 },
    [1, 2, 3],
  );
}

const frames = () =>
  new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));

let root: Root | null = null;
let painted = 0;
const onPaint = (cells: number) => {
  painted = cells;
};

async function renderOnce(raw: RawTile[], n: number): Promise<Timing> {
  const t0 = performance.now();
  const model = toModel(raw, n);
  flushSync(() => root!.render(<TileMapCanvas model={model} selected={new Set()} width={800} onPaint={onPaint} />));
  const t1 = performance.now();
  await frames();
  return { syncMs: t1 - t0, frameMs: performance.now() - t0, cells: painted };
}

async function run(o: { size: number; burst: number; iterations: number }) {
  const rnd = random(42);
  const container = document.getElementById('root')!;
  const render: Timing[] = [];
  const burst: Timing[] = [];
  for (let i = 0; i < o.iterations; i++) {
    // A fresh mount each time: the first paint of a plane.
    root?.unmount();
    root = createRoot(container);
    await frames();
    let plane = makePlane(o.size, rnd);
    render.push(await renderOnce(plane, o.size));
    // A burst of status changes in the stage shown, as one plane refetch after a planesChanged event.
    plane = plane.map((t) => ({ ...t, statuses: [...t.statuses] }));
    const picked = new Set<number>();
    while (picked.size < o.burst) picked.add(Math.floor(rnd() * plane.length));
    for (const i of picked) {
      const s = plane[i].statuses;
      const before = s[STAGES - 1];
      s[STAGES - 1] =
        STATUSES[(STATUSES.indexOf(before) + 1 + Math.floor(rnd() * (STATUSES.length - 1))) % STATUSES.length];
    }
    burst.push(await renderOnce(plane, o.size));
  }
  return { render, burst, devicePixelRatio: window.devicePixelRatio, userAgent: navigator.userAgent };
}

(window as unknown as { tilemapBench: { run: typeof run } }).tilemapBench = { run };
document.title = 'ready';
