import type { StatusCounts } from '@tileflow/shared';
import type { CountsFragment } from '../api/generated';
import { completionRate, type ProjectLive } from '../api/live';
import { addCounts, countsFromGql, countsTotal, emptyCounts } from './status';

/** A stage's counts: the last pushed ones, else the queried ones. */
export function stageCounts(
  live: ProjectLive | undefined,
  stageId: string,
  queried?: CountsFragment | null,
): StatusCounts {
  return live?.counts[stageId] ?? countsFromGql(queried);
}

export interface ProjectProgress {
  /** Counts summed over the stages. */
  counts: StatusCounts;
  tiles: number;
  /** Tile-stage pairs to process: each stage's tiles (its counted rows, or the project's tiles if more). */
  work: number;
  done: number;
  /** Work neither complete nor finally failed or canceled. */
  remaining: number;
  /** Completions per minute (live samples, else the fallback), null when unknown. */
  ratePerMinute: number | null;
  /** Seconds to finish at the current rate, null when unknown or nothing is moving. */
  etaSeconds: number | null;
}

/** Progress of a whole project over all its stages, with the ETA at the current completion rate. */
export function projectProgress(
  live: ProjectLive | undefined,
  stages: ReadonlyArray<{ id: string }>,
  queried: ReadonlyArray<{ stageId: string; counts: CountsFragment }>,
  queriedTiles: number,
  fallbackRatePerMinute: number | null,
  now = Date.now(),
): ProjectProgress {
  const tiles = live?.tiles ?? queriedTiles;
  let counts = emptyCounts();
  let work = 0;
  for (const s of stages) {
    const c = stageCounts(live, s.id, queried.find((q) => q.stageId === s.id)?.counts);
    counts = addCounts(counts, c);
    work += Math.max(countsTotal(c), tiles);
  }
  const done = counts.complete;
  const remaining = Math.max(0, work - done - counts.failed - counts.canceled);
  const ratePerMinute = (live ? completionRate(live.samples, now) : null) ?? fallbackRatePerMinute;
  const etaSeconds = remaining === 0 ? 0 : ratePerMinute && ratePerMinute > 0 ? (remaining / ratePerMinute) * 60 : null;
  return { counts, tiles, work, done, remaining, ratePerMinute, etaSeconds };
}
