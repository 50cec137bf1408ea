/** Errors of the SLURM executor, with stable codes. */
export const SlurmErrorCode = {
  /** A SLURM command could not be run at all (not installed, not on PATH, killed by the command timeout). */
  CommandUnavailable: 'SLURM_COMMAND_UNAVAILABLE',
  /** A SLURM command ran and failed (exit status ≠ 0). */
  CommandFailed: 'SLURM_COMMAND_FAILED',
  /** A SLURM command answered something the executor cannot parse. */
  UnexpectedOutput: 'SLURM_UNEXPECTED_OUTPUT',
  /** The run cannot become a job (cluster options that override what the executor sets, a bad env name...). */
  InvalidRun: 'SLURM_INVALID_RUN',
  /** The executor was closed. */
  Closed: 'SLURM_EXECUTOR_CLOSED',
} as const;
export type SlurmErrorCode = (typeof SlurmErrorCode)[keyof typeof SlurmErrorCode];

export class SlurmError extends Error {
  constructor(
    readonly code: SlurmErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SlurmError';
  }
}
