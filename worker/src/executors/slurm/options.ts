/**
 * Options of the SLURM executor, their defaults and the environment variables they come from, and the sbatch
 * arguments a run's cluster options turn into.
 */
import { EnvReader, type ClusterOptions } from '@tileflow/shared';
import type { Logger } from '../../logger.js';
import { SlurmError, SlurmErrorCode } from './errors.js';

export interface SlurmExecutorOptions {
  /** Seconds between two status queries (one squeue for all jobs). Default: TILEFLOW_SLURM_POLL_SECONDS, else 2. */
  pollSeconds?: number;
  /** The SLURM tools; default: found on PATH. */
  sbatchPath?: string;
  squeuePath?: string;
  scancelPath?: string;
  scontrolPath?: string;
  /**
   * Environment of SLURM's commands (SLURM_CONF comes from here; `scripts/services.sh env` prints it). Default:
   * the worker's. Jobs inherit it (sbatch --export=ALL), minus the variables that look like secrets.
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Polls in a row a job may be missing from both squeue and the completion log before it is reported lost.
   * Default: TILEFLOW_SLURM_LOST_AFTER_POLLS, else 3.
   */
  lostAfterPolls?: number;
  /** sbatch processes at most at once (sbatch takes ~180 submissions/s). Default 8. */
  maxConcurrentSubmissions?: number;
  /**
   * Check on the worker, before submitting, that the script exists and is executable (the worker sees the same
   * files as the cluster). A failed check finishes the run 'failed-to-start' without a job. Default true; the job
   * script checks again on the node either way.
   */
  checkScripts?: boolean;
  /**
   * The completion log (jobcomp/filetxt). Default: `JobCompLoc` from `scontrol show config`, asked once, when
   * `JobCompType` is jobcomp/filetxt; null: none (a job gone from squeue is then lost after the grace polls).
   */
  jobCompLoc?: string | null;
  /** Tasks of one job array running at once (`--array=0-N%LIMIT`). Default: TILEFLOW_SLURM_ARRAY_TASK_LIMIT, else none. */
  arrayTaskLimit?: number;
  /** Most runs in one job array (the cluster's MaxArraySize must be larger). Default 1000. */
  maxArraySize?: number;
  /** Seconds before a SLURM command is killed. Default 60. */
  commandTimeoutSeconds?: number;
  /** Where the executor reports the errors it recovers from (a failed status query, a failed timeout scancel). */
  logger?: Pick<Logger, 'warn'>;
}

/** The options that come from the environment, parsed once (a bad value names its variable). */
export function readSlurmExecutorOptions(env: EnvReader = new EnvReader()): SlurmExecutorOptions {
  const limit = env.int('TILEFLOW_SLURM_ARRAY_TASK_LIMIT', 0, 0, 1_000_000);
  return {
    pollSeconds: env.number('TILEFLOW_SLURM_POLL_SECONDS', 2, 0.05, 3600),
    lostAfterPolls: env.int('TILEFLOW_SLURM_LOST_AFTER_POLLS', 3, 1, 10_000),
    arrayTaskLimit: limit || undefined,
  };
}

/** sbatch options the executor sets itself: a run's extra arguments may not override them. */
const RESERVED_OPTIONS = ['output', 'error', 'job-name', 'chdir', 'array', 'parsable', 'wrap', 'open-mode'];
const RESERVED_SHORT = new Set(['o', 'e', 'J', 'D', 'a']);

/** Jobs get the worker's environment without its secrets (shared with the local executor). */
export { SECRET_ENV_NAME, scriptEnvironment as jobEnvironment } from '../environment.js';

/** The time limit in minutes: the cluster option, else the run's timeout rounded up, else none. */
export function timeLimitMinutes(options: ClusterOptions, timeoutSeconds: number | null): number | null {
  if (options.timeLimitMinutes !== undefined && options.timeLimitMinutes !== null)
    return Math.max(1, Math.ceil(options.timeLimitMinutes));
  if (timeoutSeconds) return Math.max(1, Math.ceil(timeoutSeconds / 60));
  return null;
}

/**
 * The sbatch arguments of a run's cluster options, one argv element each. Throws SlurmError(InvalidRun) for an
 * extra argument that would override what the executor sets (--output, --error, --job-name, --chdir, --array…) or
 * that is not an option (values go as `--name=value`, so that none can be taken for the script).
 */
export function clusterArgs(options: ClusterOptions, timeoutSeconds: number | null): string[] {
  const args: string[] = [];
  const positive = (name: string, v: number) => {
    if (!Number.isFinite(v) || v <= 0)
      throw new SlurmError(SlurmErrorCode.InvalidRun, `cluster option ${name} must be a positive number, got ${v}`);
  };
  if (options.partition) args.push(`--partition=${options.partition}`);
  if (options.cpus !== undefined && options.cpus !== null) {
    positive('cpus', options.cpus);
    args.push(`--cpus-per-task=${Math.ceil(options.cpus)}`);
  }
  if (options.memoryMb !== undefined && options.memoryMb !== null) {
    positive('memoryMb', options.memoryMb);
    args.push(`--mem=${Math.ceil(options.memoryMb)}M`);
  }
  if (options.timeLimitMinutes !== undefined && options.timeLimitMinutes !== null)
    positive('timeLimitMinutes', options.timeLimitMinutes);
  const minutes = timeLimitMinutes(options, timeoutSeconds);
  if (minutes !== null) args.push(`--time=${minutes}`);
  for (const arg of options.extraArgs ?? []) {
    const refused = (why: string) =>
      new SlurmError(SlurmErrorCode.InvalidRun, `cluster option extraArgs: ${JSON.stringify(arg)} ${why}`);
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0];
      // sbatch (getopt_long) takes any unambiguous prefix of an option name: --out is --output.
      const hit = name ? RESERVED_OPTIONS.find((o) => o.startsWith(name)) : undefined;
      if (!name) throw refused('is not an option');
      if (hit) throw refused(`would override --${hit}, which Tileflow sets itself (log files, job name, folder)`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      if (RESERVED_SHORT.has(arg[1]))
        throw refused(`would override -${arg[1]}, which Tileflow sets itself (log files, job name, folder)`);
    } else {
      throw refused('is not an option: write each as one element, --name=value');
    }
    args.push(arg);
  }
  return args;
}

/**
 * A path for --output/--error: `%` is SLURM's pattern character and is written `%%`. A path with a backslash cannot
 * be given (SLURM drops backslashes and stops handling patterns): null, the job script redirects instead.
 */
export function slurmOutputPath(p: string): string | null {
  if (p.includes('\\')) return null;
  return p.replace(/%/g, '%%');
}
