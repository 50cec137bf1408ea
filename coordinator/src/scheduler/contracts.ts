/**
 * What the GraphQL layer asks of the scheduler. Resolvers stay thin: they check the caller and the input, then call
 * these. Implemented in actions.ts and worker-protocol.ts.
 */
import type {
  ExecutionReport,
  HeartbeatInput,
  TileStatus,
  WorkerDirective,
  WorkerRegistration,
} from '@tileflow/shared';

export type { ClusterAttachment, WorkerRegistration } from '@tileflow/shared';

/** Which tiles of a stage an action applies to. Exactly one of the fields is used. */
export interface TileSelector {
  tileIds?: string[];
  relativePaths?: string[];
  /** Every tile of the stage in this status. */
  status?: TileStatus;
}

export interface SchedulerActions {
  /** Marks the project processing (or not) and resumes/pauses its stages' queues within a second. */
  setProjectProcessing(projectId: string, processing: boolean): Promise<void>;
  /** Resumes or pauses one stage's dispatch and queue. */
  setStageProcessing(stageId: string, processing: boolean): Promise<void>;
  /**
   * A stage was created, moved under another parent, or its parent was archived: its readiness is recomputed from
   * every tile the (new) parent completed (backfill). Call after the stage row is committed.
   */
  stageTopologyChanged(stageId: string): Promise<void>;
  /** A stage was archived: its queued executions are canceled and its queue removed. */
  stageArchived(stageId: string): Promise<void>;
  /** Sets the selected tiles back to incomplete, with a fresh retry budget, so they run again. Returns how many. */
  resubmit(stageId: string, selector: TileSelector): Promise<number>;
  /** Cancels queued and processing tiles (all of the stage's when tileIds is absent). Returns how many. */
  cancel(stageId: string, tileIds?: string[]): Promise<number>;
}

/** What reportExecutions answers. */
export interface ReportResult {
  applied: number;
  /** Submitted reports refused (canceled, taken elsewhere, gone): the worker must not run these. */
  rejected: string[];
}

export interface RegisterWorkerRequest {
  name: string;
  host: string;
  version: string;
  cpus: number;
  memoryMb: number;
  localCapacity: number;
  clusterCapacity: number;
  clusterExecutions?: string[];
}

/** The worker daemon's side of the API (callers authenticated with the worker token). */
export interface WorkerProtocol {
  registerWorker(input: RegisterWorkerRequest): Promise<WorkerRegistration>;
  heartbeat(input: HeartbeatInput): Promise<WorkerDirective>;
  reportExecutions(sessionId: string, reports: ExecutionReport[]): Promise<ReportResult>;
}
