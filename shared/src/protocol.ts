/**
 * What travels between the coordinator and the workers. Dispatch goes through one BullMQ queue per stage (the job
 * id is the execution id, the data is a {@link TaskSpec}); everything a worker tells the coordinator goes over the
 * authenticated GraphQL API as batches of {@link ExecutionReport}s and heartbeats.
 */
import type { ExecutionStatus, ExecutionTarget, FailureReason, TargetPreference, WorkerStatus } from './enums.js';

/** Name of the BullMQ queue that carries one stage's dispatch. */
export const stageQueueName = (stageId: string): string => `stage-${stageId}`;

/** Cluster options of a task definition, passed to the cluster scheduler. */
export interface ClusterOptions {
  /** SLURM partition (`--partition`). */
  partition?: string;
  /** CPUs per task (`--cpus-per-task`). */
  cpus?: number;
  /** Memory per job in MB (`--mem`). */
  memoryMb?: number;
  /** Time limit in minutes (`--time`). */
  timeLimitMinutes?: number;
  /** Extra sbatch arguments, one argv element each (for example `--qos=short`). */
  extraArgs?: string[];
}

/** Everything a worker needs to run one execution: the argv is not resolved yet, since the target is not chosen. */
export interface TaskSpec {
  executionId: string;
  projectId: string;
  stageId: string;
  tileId: string;
  attempt: number;
  /** Absolute path of the script, as the coordinator sees it (the worker maps it with TILEFLOW_PATH_MAP). */
  script: string;
  /**
   * Leading arguments of MouseLight's contract: `src_path dst_path relative_path tile_name`, already resolved
   * (they come from the tile and the stage, never through a shell).
   */
  baseArgs: string[];
  /** The definition's arguments, with `${PARAMETERS}` still unresolved. */
  args: string[];
  /** Parameters known at dispatch; the worker adds IS_CLUSTER_JOB and LOG_FILE when it picks the target. */
  parameters: Record<string, string>;
  expectedExitCode: number;
  localWorkUnits: number;
  clusterWorkUnits: number;
  clusterOptions: ClusterOptions;
  /** Seconds; null means no limit. */
  timeoutSeconds: number | null;
  target: TargetPreference;
  /** Folder of the execution's log files (stdout and stderr files are named after the execution). */
  logDir: string;
  /** Working folder of the script: the stage's output folder. */
  workingDir: string;
}

/** One thing that happened to an execution on a worker. Reports are idempotent by (executionId, status). */
export interface ExecutionReport {
  executionId: string;
  status: ExecutionStatus;
  target?: ExecutionTarget;
  workUnits?: number;
  /** Resolved argv (script first). */
  argv?: string[];
  clusterJobId?: string;
  exitCode?: number | null;
  failureReason?: FailureReason | null;
  message?: string | null;
  cpuSeconds?: number | null;
  peakMemoryMb?: number | null;
  stdoutPath?: string;
  stderrPath?: string;
  /** ISO time the script started, on final reports. */
  startedAt?: string;
  /** ISO time of the event on the worker. */
  at: string;
}

/** A cluster job of an earlier session of a worker, handed back at registration for the new daemon to track. */
export interface ClusterAttachment {
  executionId: string;
  clusterJobId: string;
  stdoutPath: string | null;
  stderrPath: string | null;
  /** The exit code that means success for this execution. */
  expectedExitCode: number;
  /** Cluster work units it occupies. */
  workUnits: number;
}

/** What the coordinator answers to a worker's registration. */
export interface WorkerRegistration {
  workerId: string;
  /** New on every registration: reports and heartbeats of older sessions are refused. */
  sessionId: string;
  directive: WorkerDirective;
  reattach: ClusterAttachment[];
}

/** What a worker says in each heartbeat. */
export interface HeartbeatInput {
  workerId: string;
  sessionId: string;
  localLoad: number;
  clusterLoad: number;
  /** Executions this session is running (local and cluster). */
  running: string[];
  cpus: number;
  memoryMb: number;
  loadAverage: number;
}

/** One stage a worker may take work from, in priority order. */
export interface StageOffer {
  stageId: string;
  queueName: string;
  localWorkUnits: number;
  clusterWorkUnits: number;
  target: TargetPreference;
}

/** What the coordinator answers to a heartbeat: the desired state, applied by the worker at once. */
export interface WorkerDirective {
  status: WorkerStatus;
  localCapacity: number;
  clusterCapacity: number;
  stages: StageOffer[];
  /** Executions to stop now (kill the process group or scancel). */
  cancel: string[];
}
