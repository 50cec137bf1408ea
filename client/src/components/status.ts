import { TILE_STATUSES, TileStatus, UnreachableCaseError, type StatusCounts } from '@tileflow/shared';
import type { CountsFragment } from '../api/generated';

/** Colours of the tile statuses, shared by the bars, the legends and the tile map. */
export const STATUS_COLORS: Readonly<Record<TileStatus, string>> = {
  incomplete: '#d5dbe3',
  waiting: '#b4b8f0',
  queued: '#f2c14e',
  processing: '#3b82f6',
  complete: '#1f9d55',
  failed: '#d64545',
  canceled: '#7c756f',
};

export function statusLabel(s: TileStatus): string {
  switch (s) {
    case TileStatus.Incomplete:
      return 'Incomplete';
    case TileStatus.Waiting:
      return 'Waiting for neighbour';
    case TileStatus.Queued:
      return 'Queued';
    case TileStatus.Processing:
      return 'Processing';
    case TileStatus.Complete:
      return 'Complete';
    case TileStatus.Failed:
      return 'Failed';
    case TileStatus.Canceled:
      return 'Canceled';
    default:
      throw new UnreachableCaseError(s);
  }
}

/** Order in bars: finished work first, then work in flight, then what is left. */
export const BAR_ORDER: readonly TileStatus[] = [
  TileStatus.Complete,
  TileStatus.Failed,
  TileStatus.Canceled,
  TileStatus.Processing,
  TileStatus.Queued,
  TileStatus.Waiting,
  TileStatus.Incomplete,
];

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(TILE_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

/** Counts from a GraphQL StatusCounts (drops __typename). */
export function countsFromGql(c: CountsFragment | null | undefined): StatusCounts {
  const out = emptyCounts();
  if (c) for (const s of TILE_STATUSES) out[s] = c[s];
  return out;
}

export function addCounts(a: StatusCounts, b: StatusCounts): StatusCounts {
  const out = emptyCounts();
  for (const s of TILE_STATUSES) out[s] = a[s] + b[s];
  return out;
}

export function countsTotal(c: StatusCounts): number {
  let n = 0;
  for (const s of TILE_STATUSES) n += c[s];
  return n;
}

/**
 * Share of the work done: complete tiles over the stage's tiles. `tiles` (the project's items) is the denominator
 * when known and larger than the counted rows: items a stage has not seen yet are still to do.
 */
export function progressOf(c: StatusCounts, tiles?: number | null): { done: number; total: number; fraction: number } {
  const total = Math.max(countsTotal(c), tiles ?? 0);
  return { done: c.complete, total, fraction: total > 0 ? c.complete / total : 0 };
}

export function formatPercent(f: number): string {
  if (f >= 1) return '100%';
  if (f > 0 && f < 0.001) return '<0.1%';
  return `${(Math.floor(f * 1000) / 10).toFixed(1)}%`;
}
