/**
 * The enums of the domain, defined once. Postgres stores them as text with CHECK constraints built from these
 * lists (see coordinator migrations), GraphQL exposes them as real enums, and the client imports them from here.
 */

/** Status of one tile in one stage. */
export const TileStatus = {
  /** Not yet reached, or ready but not dispatched yet. */
  Incomplete: 'incomplete',
  /** Adjacent stages only: the parent completed the tile but not its +1 neighbour yet. */
  Waiting: 'waiting',
  /** Handed to the dispatch queue; no worker has started it yet. */
  Queued: 'queued',
  /** A worker runs it (locally or on the cluster). */
  Processing: 'processing',
  Complete: 'complete',
  /** Failed after the retry policy ran out. */
  Failed: 'failed',
  Canceled: 'canceled',
} as const;
export type TileStatus = (typeof TileStatus)[keyof typeof TileStatus];
export const TILE_STATUSES = Object.values(TileStatus) as TileStatus[];

/** Kind of a stage: when a tile is ready in it. */
export const StageKind = {
  /** Ready when the parent stage completed the tile. */
  Map: 'map',
  /** Ready when the parent completed the tile and its +1 neighbour on x. */
  AdjacentX: 'adjacent-x',
  AdjacentY: 'adjacent-y',
  /** Ready when the parent completed the tile and its next neighbour on z, skipping the project's skipped planes. */
  AdjacentZ: 'adjacent-z',
} as const;
export type StageKind = (typeof StageKind)[keyof typeof StageKind];
export const STAGE_KINDS = Object.values(StageKind) as StageKind[];

/** Kind of a project's input source (its root stage). */
export const InputKind = {
  PipelineJson: 'pipeline-json',
  DashboardJson: 'dashboard-json',
  Glob: 'glob',
  Csv: 'csv',
} as const;
export type InputKind = (typeof InputKind)[keyof typeof InputKind];
export const INPUT_KINDS = Object.values(InputKind) as InputKind[];

/** Health of a project's input source, as last seen by its watcher. */
export const InputState = {
  Unknown: 'unknown',
  Ok: 'ok',
  /** The root path or input file does not exist. */
  Missing: 'missing',
  /** The root path is not a readable folder, or a path left the root. */
  BadLocation: 'bad-location',
  /** The input file could not be parsed; the recorded tiles are kept. */
  Malformed: 'malformed',
} as const;
export type InputState = (typeof InputState)[keyof typeof InputState];
export const INPUT_STATES = Object.values(InputState) as InputState[];

/** Status of one task execution (one attempt of one tile in one stage). */
export const ExecutionStatus = {
  Queued: 'queued',
  /** Taken by a worker, not yet running (local: spawning; cluster: submitted and pending). */
  Submitted: 'submitted',
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Canceled: 'canceled',
  /** Its worker vanished or its queue entry was lost; a retry was scheduled if the policy allows. */
  Lost: 'lost',
} as const;
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];
export const EXECUTION_STATUSES = Object.values(ExecutionStatus) as ExecutionStatus[];
export const FINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  ExecutionStatus.Succeeded,
  ExecutionStatus.Failed,
  ExecutionStatus.Canceled,
  ExecutionStatus.Lost,
];

/** Why an execution failed, when it did. */
export const FailureReason = {
  ExitCode: 'exit-code',
  Timeout: 'timeout',
  OutOfMemory: 'out-of-memory',
  ScriptMissing: 'script-missing',
  ScriptNotExecutable: 'script-not-executable',
  Signal: 'signal',
  NodeFail: 'node-fail',
  Preempted: 'preempted',
  WorkerLost: 'worker-lost',
  SubmitFailed: 'submit-failed',
  Canceled: 'canceled',
} as const;
export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];
export const FAILURE_REASONS = Object.values(FailureReason) as FailureReason[];

/** Where an execution runs. */
export const ExecutionTarget = {
  Local: 'local',
  Cluster: 'cluster',
} as const;
export type ExecutionTarget = (typeof ExecutionTarget)[keyof typeof ExecutionTarget];
export const EXECUTION_TARGETS = Object.values(ExecutionTarget) as ExecutionTarget[];

/** Where a stage sends its tasks: wherever there is room (local first), or only one of them. */
export const TargetPreference = {
  Any: 'any',
  Local: 'local',
  Cluster: 'cluster',
} as const;
export type TargetPreference = (typeof TargetPreference)[keyof typeof TargetPreference];
export const TARGET_PREFERENCES = Object.values(TargetPreference) as TargetPreference[];

/**
 * Lifecycle of a worker, as the coordinator sees it.
 * starting → running ⇄ paused; running → draining → stopped; any → unavailable when heartbeats stop.
 */
export const WorkerStatus = {
  Starting: 'starting',
  Running: 'running',
  Paused: 'paused',
  Draining: 'draining',
  Stopped: 'stopped',
  Unavailable: 'unavailable',
} as const;
export type WorkerStatus = (typeof WorkerStatus)[keyof typeof WorkerStatus];
export const WORKER_STATUSES = Object.values(WorkerStatus) as WorkerStatus[];

/** Role of a signed-in user. */
export const UserRole = {
  Admin: 'admin',
  Operator: 'operator',
  Viewer: 'viewer',
} as const;
export type UserRole = (typeof UserRole)[keyof typeof UserRole];
export const USER_ROLES = Object.values(UserRole) as UserRole[];

/** Thrown by exhaustive switches when a value of an enum is not handled. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
    this.name = 'UnreachableCaseError';
  }
}
