/**
 * The live state the coordinator pushes over socket.io, folded by one pure reducer. Components read counts, plane
 * revisions and recent executions from here; queries give the first picture, events keep it current without
 * refetching tables: `stageCounts` replaces a project's counts in place, `planesChanged` bumps the revision of the
 * planes it lists (the tile map refetches only the plane it shows, and only when its revision moved).
 * Events about entities that queries also return (`workers`, `project`) are written into the Apollo cache instead
 * (see cache-sync.ts), so that each field has one source.
 */
import type { ExecutionEvent, PlanesChangedEvent, StageCountsEvent, StatusCounts } from '@tileflow/shared';

/** A point of a project's progress: tiles completed over all its stages, at a time (ms). */
export interface ProgressSample {
  at: number;
  complete: number;
}

export interface ProjectLive {
  /** Items the input source recorded, as of the last stageCounts event. */
  tiles: number | null;
  /** Counts per stage id, as of the last stageCounts event. */
  counts: Readonly<Record<string, StatusCounts>>;
  /** Revision per plane (`z` as a string); `*` moves when a change named no plane (every plane is suspect). */
  planeRevisions: Readonly<Record<string, number>>;
  /** Revision per stage id: moves whenever a planesChanged event names the stage. */
  stageRevisions: Readonly<Record<string, number>>;
  /** Moves when the input source recorded or changed tiles (a change with no stage): new planes may exist. */
  inputRevision: number;
  /** Recent progress samples, oldest first, for throughput and ETA. */
  samples: readonly ProgressSample[];
  /** Most recent finished executions, newest last. */
  executions: readonly ExecutionEvent[];
}

export interface LiveState {
  projects: Readonly<Record<string, ProjectLive>>;
  /** Whether the socket is connected. */
  connected: boolean;
}

export type LiveAction =
  | { type: 'stageCounts'; event: StageCountsEvent; at: number }
  | { type: 'planesChanged'; event: PlanesChangedEvent }
  | { type: 'executions'; event: ExecutionEvent[] }
  | { type: 'connection'; connected: boolean }
  | { type: 'reset' };

/** Samples older than this are dropped (ms). */
export const SAMPLE_WINDOW_MS = 5 * 60_000;
/** Executions kept per project. */
export const MAX_EXECUTIONS = 200;
/** Plane key for changes that named no plane. */
export const ANY_PLANE = '*';

export const initialLiveState: LiveState = { projects: {}, connected: false };

const emptyProject: ProjectLive = {
  tiles: null,
  counts: {},
  planeRevisions: {},
  stageRevisions: {},
  inputRevision: 0,
  samples: [],
  executions: [],
};

function completeOf(counts: Readonly<Record<string, StatusCounts>>): number {
  let n = 0;
  for (const c of Object.values(counts)) n += c.complete;
  return n;
}

function withProject(state: LiveState, projectId: string, f: (p: ProjectLive) => ProjectLive): LiveState {
  const before = state.projects[projectId] ?? emptyProject;
  const after = f(before);
  return after === before ? state : { ...state, projects: { ...state.projects, [projectId]: after } };
}

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'stageCounts': {
      const { event, at } = action;
      return withProject(state, event.projectId, (p) => {
        const counts: Record<string, StatusCounts> = {};
        for (const s of event.stages) counts[s.stageId] = s.counts;
        const sample = { at, complete: completeOf(counts) };
        const samples = [...p.samples.filter((s) => s.at >= at - SAMPLE_WINDOW_MS && s.at < at), sample];
        return { ...p, tiles: event.tiles, counts, samples };
      });
    }
    case 'planesChanged': {
      const { event } = action;
      if (event.planes.length === 0) return state;
      return withProject(state, event.projectId, (p) => {
        const planeRevisions = { ...p.planeRevisions };
        const stageRevisions = { ...p.stageRevisions };
        const planes = new Set<string>();
        const stages = new Set<string>();
        let input = false;
        for (const change of event.planes) {
          planes.add(change.z === null ? ANY_PLANE : String(change.z));
          if (change.stageId !== null) stages.add(change.stageId);
          else input = true;
        }
        for (const key of planes) planeRevisions[key] = (planeRevisions[key] ?? 0) + 1;
        for (const id of stages) stageRevisions[id] = (stageRevisions[id] ?? 0) + 1;
        return { ...p, planeRevisions, stageRevisions, inputRevision: p.inputRevision + (input ? 1 : 0) };
      });
    }
    case 'executions': {
      const byProject = new Map<string, ExecutionEvent[]>();
      for (const e of action.event) {
        const list = byProject.get(e.projectId) ?? [];
        list.push(e);
        byProject.set(e.projectId, list);
      }
      let next = state;
      for (const [projectId, list] of byProject) {
        next = withProject(next, projectId, (p) => ({
          ...p,
          executions: [...p.executions, ...list].slice(-MAX_EXECUTIONS),
        }));
      }
      return next;
    }
    case 'connection':
      return state.connected === action.connected ? state : { ...state, connected: action.connected };
    case 'reset':
      return initialLiveState;
  }
}

/**
 * The revision of one plane: it moves whenever an event lists this plane, or a change that named no plane. A view
 * showing plane `z` refetches it when (and only when) this number changes.
 */
export function planeRevision(project: ProjectLive | undefined, z: number): number {
  if (!project) return 0;
  return (project.planeRevisions[String(z)] ?? 0) + (project.planeRevisions[ANY_PLANE] ?? 0);
}

/** True when a planesChanged event concerns plane `z` (listed, or a change that named no plane). */
export function eventTouchesPlane(event: PlanesChangedEvent, z: number): boolean {
  return event.planes.some((p) => p.z === null || p.z === z);
}

/**
 * Tiles completed per minute over the last `windowMs` of samples, or null when the samples span too little time
 * to say (less than 5 s).
 */
export function completionRate(samples: readonly ProgressSample[], now: number, windowMs = 60_000): number | null {
  const recent = samples.filter((s) => s.at >= now - windowMs);
  if (recent.length < 2) return null;
  const first = recent[0];
  const last = recent[recent.length - 1];
  const span = last.at - first.at;
  if (span < 5_000) return null;
  return (Math.max(0, last.complete - first.complete) / span) * 60_000;
}
