/** The executor contract for the local executor: real processes through the launcher helper. */
import { executorContract } from './contract.js';
import { createLocalExecutor } from './local/executor.js';

executorContract('local', (events) => createLocalExecutor(events, { killGraceSeconds: 1 }), {
  badScript: 'failed-to-start',
  resourceUsage: 'measured',
});
