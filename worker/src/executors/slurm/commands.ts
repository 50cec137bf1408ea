/**
 * Runs SLURM's command-line tools: always as an argv array (execFile, no shell), with a time limit, counting what
 * was issued so that the benchmark and the tests can show one status query per poll interval.
 */
import { execFile } from 'node:child_process';
import { SlurmError, SlurmErrorCode } from './errors.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SlurmPaths {
  sbatch: string;
  squeue: string;
  scancel: string;
  scontrol: string;
}

/** Counts of SLURM commands issued by one executor. */
export interface SlurmCommandStats {
  /** squeue calls (the batched status query: at most one per poll interval). */
  statusQueries: number;
  /** sbatch calls (a job array counts once). */
  submissions: number;
  /** scancel calls. */
  cancels: number;
  /** scontrol calls (`show config`, once, to find the completion log). */
  configQueries: number;
}

export interface CommandRunnerOptions {
  paths: SlurmPaths;
  /** Environment of the commands (SLURM_CONF comes from here). */
  env: NodeJS.ProcessEnv;
  /** Seconds before a command is killed. With the controller down, sbatch and squeue give up after ~9 s. */
  timeoutSeconds: number;
}

export interface CommandRunner {
  run(tool: keyof SlurmPaths, args: string[], env?: NodeJS.ProcessEnv): Promise<CommandResult>;
  readonly stats: SlurmCommandStats;
}

const COUNTER: Record<keyof SlurmPaths, keyof SlurmCommandStats> = {
  sbatch: 'submissions',
  squeue: 'statusQueries',
  scancel: 'cancels',
  scontrol: 'configQueries',
};

export function createCommandRunner(options: CommandRunnerOptions): CommandRunner {
  const stats: SlurmCommandStats = { statusQueries: 0, submissions: 0, cancels: 0, configQueries: 0 };
  return {
    stats,
    run(tool, args, env = options.env) {
      stats[COUNTER[tool]]++;
      const file = options.paths[tool];
      return new Promise((resolve, reject) => {
        execFile(
          file,
          args,
          { env, timeout: options.timeoutSeconds * 1000, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 * 1024 },
          (err, stdout, stderr) => {
            if (!err) return resolve({ code: 0, stdout, stderr });
            const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
            if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
            if (e.killed) {
              return reject(
                new SlurmError(
                  SlurmErrorCode.CommandUnavailable,
                  `${tool} did not answer within ${options.timeoutSeconds} s`,
                  {
                    cause: err,
                  },
                ),
              );
            }
            reject(
              new SlurmError(
                SlurmErrorCode.CommandUnavailable,
                e.code === 'ENOENT'
                  ? `${tool} not found (${file}): install the SLURM client tools or set the executor's ${tool}Path`
                  : `${tool} could not run (${file}): ${e.message}`,
                { cause: err },
              ),
            );
          },
        );
      });
    },
  };
}
