export { createSlurmExecutor, type SlurmExecutor, type SlurmExecutorStats } from './executor.js';
export { readSlurmExecutorOptions, clusterArgs, type SlurmExecutorOptions } from './options.js';
export { SlurmError, SlurmErrorCode } from './errors.js';
export { shellQuote, renderJobScript } from './shell.js';
export {
  outcomeOf,
  phaseOf,
  parseSqueueLine,
  parseJobCompLine,
  SLURM_STATES,
  type SlurmState,
  type JobRecord,
} from './states.js';
