/**
 * socket.io event maps. The coordinator pushes aggregated changes, batched over a short window, so that thousands
 * of tile transitions a second reach a browser as a few small messages.
 */
import type { TileStatus, WorkerStatus, InputState, ExecutionStatus } from './enums.js';

export type StatusCounts = Record<TileStatus, number>;

export interface StageCountsEvent {
  projectId: string;
  /** Items the project's input source recorded. */
  tiles: number;
  stages: Array<{ stageId: string; counts: StatusCounts }>;
}

/** Planes of a stage whose tiles changed; the client refetches the plane it shows if listed. */
export interface PlanesChangedEvent {
  projectId: string;
  planes: Array<{ stageId: string | null; z: number | null; changes: number }>;
}

export interface WorkerEvent {
  workerId: string;
  name: string;
  status: WorkerStatus;
  localLoad: number;
  localCapacity: number;
  clusterLoad: number;
  clusterCapacity: number;
  lastHeartbeatAt: string | null;
}

export interface ExecutionEvent {
  executionId: string;
  projectId: string;
  stageId: string;
  tileId: string;
  status: ExecutionStatus;
  at: string;
}

export interface ProjectEvent {
  projectId: string;
  isProcessing: boolean;
  inputState: InputState;
  inputMessage: string | null;
}

export interface ServerToClientEvents {
  stageCounts: (e: StageCountsEvent) => void;
  planesChanged: (e: PlanesChangedEvent) => void;
  workers: (e: WorkerEvent[]) => void;
  executions: (e: ExecutionEvent[]) => void;
  project: (e: ProjectEvent) => void;
}

export interface ClientToServerEvents {
  /** Join a project's room to receive its events. */
  subscribe: (projectId: string) => void;
  unsubscribe: (projectId: string) => void;
}

/** Name of a project's socket.io room. */
export const projectRoom = (projectId: string): string => `project:${projectId}`;
/** Room every client is in for worker updates. */
export const WORKERS_ROOM = 'workers';
