/**
 * The executor contract. The local executor (child processes on this machine) and the SLURM executor (jobs on a
 * cluster) implement it and pass the same contract suite (executors/contract.ts).
 */
import type { ClusterOptions, ExecutionTarget, FailureReason } from '@tileflow/shared';

/** One execution, resolved: what to run, where its output goes, its limits. */
export interface PreparedRun {
  executionId: string;
  /** Script path first, then every argument; passed to exec as is, never through a shell. */
  argv: string[];
  /** Environment added to the worker's own (the parameters, as MouseLight passed them). */
  env: Record<string, string>;
  cwd: string;
  stdoutPath: string;
  stderrPath: string;
  /** Seconds; null = none. */
  timeoutSeconds: number | null;
  clusterOptions: ClusterOptions;
  workUnits: number;
}

/** How a run ended, as the executor saw it. Whether the exit code means success is the daemon's call. */
export interface RunOutcome {
  executionId: string;
  /** exited: the process ended by itself (see exitCode); the others say why it did not. */
  ending: 'exited' | 'killed' | 'timeout' | 'canceled' | 'lost' | 'failed-to-start';
  exitCode: number | null;
  /** Set when ending is not 'exited' or the executor knows better (out-of-memory, node failure, preemption). */
  failureReason: FailureReason | null;
  message: string | null;
  cpuSeconds: number | null;
  peakMemoryMb: number | null;
  startedAt: Date | null;
  finishedAt: Date;
  clusterJobId?: string;
}

export interface ExecutorEvents {
  /** The run started executing (a cluster job left PENDING; a local process was spawned). */
  started(executionId: string, at: Date, clusterJobId?: string): void;
  finished(outcome: RunOutcome): void;
}

export interface Executor {
  readonly target: ExecutionTarget;
  /**
   * Starts a run. Resolves once it is handed over (spawned, or accepted by sbatch with its job id); rejects only
   * for errors of the executor itself, never for the script's failure (that is a finished outcome).
   */
  start(run: PreparedRun): Promise<{ clusterJobId?: string }>;
  /**
   * Optional: starts a burst of runs in one go (SLURM: one job array per group of runs that ask for the same cluster
   * options; each task stays its own execution, with cluster job id `ArrayJobId_TaskId`). Resolves with one entry
   * per run, in order; a run that cannot be submitted is finished as start() would finish it.
   */
  startMany?(runs: PreparedRun[]): Promise<Array<{ clusterJobId?: string }>>;
  /** Stops a run: SIGTERM to its process group then SIGKILL, or scancel. Finishes it with ending 'canceled'. */
  cancel(executionId: string): Promise<void>;
  /** Takes over runs a previous daemon started (cluster jobs survive a worker restart). */
  reattach(
    runs: Array<{ executionId: string; clusterJobId: string; stdoutPath: string | null; stderrPath: string | null }>,
  ): Promise<void>;
  /** Executions started and not yet finished. */
  running(): string[];
  close(): Promise<void>;
}

export type ExecutorFactory = (events: ExecutorEvents) => Executor;
