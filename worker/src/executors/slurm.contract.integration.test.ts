/**
 * The executor contract for the SLURM executor, against the project's single-node SLURM (scripts/services.sh start
 * slurm; the global test setup starts it unless TILEFLOW_TEST_SLURM=0). SLURM's jobcomp/filetxt and squeue give no
 * CPU time or peak memory (no accounting storage here): the executor reports null for both.
 */
import { describe } from 'vitest';
import { slurmConf } from '../../../test/helpers.js';
import { executorContract } from './contract.js';
import { createSlurmExecutor } from './slurm/index.js';

const conf = slurmConf();

describe.skipIf(conf === null)('SLURM', () => {
  executorContract(
    'slurm',
    (events) => createSlurmExecutor(events, { pollSeconds: 0.5, env: { ...process.env, SLURM_CONF: conf! } }),
    {
      badScript: 'failed-to-start-or-failed-job',
      resourceUsage: 'not-reported',
      // A poll interval and SLURM's scheduling on top of each run; a second report would come within a few polls.
      testTimeoutMs: 60_000,
      settleMs: 2_000,
    },
  );
});
